package gemini

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/vivremotion/gateway/llm"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonEqual fails unless a and b are the same JSON value.
func jsonEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: got malformed JSON %v: %s", what, err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: want malformed JSON %v: %s", what, err, want)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s =\n%s\nwant\n%s", what, gi, wi)
	}
}

// lossFields returns the fields of losses, sorted.
func lossFields(losses []llm.Loss) []string {
	var out []string
	for _, l := range losses {
		out = append(out, l.Field)
	}
	slices.Sort(out)
	return out
}

func ptr[T any](v T) *T { return &v }
