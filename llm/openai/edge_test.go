package openai_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm/openai"
)

// SetModel must leave no "model" but the new one at the top level: with a
// duplicate key, encoding/json (and the ingress's routing) reads the last
// one, so replacing only the first sends the client's own name upstream.
func TestSetModelDuplicateKey(t *testing.T) {
	body := []byte(`{"model":"o1-pro","messages":[{"role":"user","content":"hi"}],"model":"cheap"}`)
	out, err := openai.SetModel(body, "gpt-4o-mini")
	if err != nil {
		// Refusing the body is the other right answer.
		if !strings.Contains(err.Error(), "model twice") {
			t.Fatalf("SetModel(duplicate model) error = %v; want a refusal naming the duplicate", err)
		}
		return
	}
	var v struct {
		Model string `json:"model"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if v.Model != "gpt-4o-mini" || strings.Contains(string(out), `"cheap"`) || strings.Contains(string(out), `"o1-pro"`) {
		t.Fatalf("SetModel(...) = %s; want every top-level model set to gpt-4o-mini (or an error)", out)
	}
}
