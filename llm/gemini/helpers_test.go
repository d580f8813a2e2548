package gemini

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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

// madeUpSuffix matches the response's suffix of a made-up call id.
var madeUpSuffix = regexp.MustCompile(`\b(call_[0-9]+)_[0-9a-f]{8}\b`)

// noSuffix is s with the suffixes of made-up call ids removed, for
// comparing with fixed ids: "call_0_1a2b3c4d" is "call_0".
func noSuffix(s string) string { return madeUpSuffix.ReplaceAllString(s, "$1") }

// noSuffixes removes the suffixes of the made-up ids of parts' tool calls.
func noSuffixes(parts []llm.Part) {
	for i := range parts {
		if tc := parts[i].ToolCall; tc != nil {
			tc.ID = noSuffix(tc.ID)
		}
	}
}
