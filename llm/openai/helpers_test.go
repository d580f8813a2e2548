package openai_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normalize decodes JSON into a value where null fields are dropped, so
// that an absent field and a null one compare equal.
func normalize(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return dropNulls(v)
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i := range x {
			x[i] = dropNulls(x[i])
		}
	}
	return v
}

// sameJSON fails unless a and b hold the same JSON, nulls aside.
func sameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	g, w := normalize(t, got), normalize(t, want)
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.MarshalIndent(g, "", "  ")
		wj, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("JSON differs:\ngot  %s\nwant %s", gj, wj)
	}
}

// hasLoss fails unless losses hold one whose field is field and whose
// reason contains reason.
func hasLoss(t *testing.T, losses []llm.Loss, field, reason string) {
	t.Helper()
	for _, l := range losses {
		if l.Field == field && strings.Contains(l.Reason, reason) {
			return
		}
	}
	t.Errorf("losses = %v; want one %q containing %q", losses, field, reason)
}

func ptr[T any](v T) *T { return &v }

func sseEvent(data string) sse.Event { return sse.Event{Data: []byte(data)} }
