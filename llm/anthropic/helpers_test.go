package anthropic_test

import (
	"encoding/json"
	"github.com/vivremotion/gateway/llm/sse"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonEqual fails unless got and want hold the same JSON value.
func jsonEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", " ")
		wi, _ := json.MarshalIndent(w, "", " ")
		t.Fatalf("JSON differs\ngot:  %s\nwant: %s", gi, wi)
	}
}

// jsonField returns the value at a dotted path of body (array indexes as
// numbers), re-marshaled; "" when it is absent.
func jsonField(t *testing.T, body []byte, path string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, body)
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return ""
			}
		case []any:
			i := -1
			_ = json.Unmarshal([]byte(k), &i)
			if i < 0 || i >= len(x) {
				return ""
			}
			v = x[i]
		default:
			return ""
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// hasLoss reports whether losses hold one for field.
func hasLoss(losses []llm.Loss, field string) bool {
	for _, l := range losses {
		if l.Field == field {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }

func sseWriter(w http.ResponseWriter) *sse.Writer { return sse.NewWriter(w) }
