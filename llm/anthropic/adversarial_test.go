package anthropic_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

// TestRedirectKeepsKey: Go's http.Client copies every field but
// Authorization, Www-Authenticate and cookies to a redirect's target,
// whatever its host, so x-api-key goes to wherever a 307 points (the
// gemini provider refuses redirects for this very reason). The key must
// never reach another server.
func TestRedirectKeepsKey(t *testing.T) {
	var leaked string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("X-Api-Key")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"m","type":"message","role":"assistant","model":"x","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	p, err := anthropic.New(anthropic.Config{APIKey: "sk-ant-secret", BaseURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.Chat(context.Background(), &llm.Request{Model: "x", MaxTokens: 5,
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}})
	resp, err := p.Forward(context.Background(), llm.OpChat, "x", []byte(`{"model":"x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`), false)
	if err == nil {
		resp.Body.Close()
	}
	if leaked != "" {
		t.Errorf("the redirect's target got x-api-key %q; want no key sent after a redirect", leaked)
	}
}
