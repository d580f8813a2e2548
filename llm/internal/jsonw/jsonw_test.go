package jsonw

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// reference is encoding/json's encoding of s, without HTML escaping.
func reference(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// FuzzAppendString: AppendString writes valid JSON that decodes to s (to
// s with invalid UTF-8 replaced, as encoding/json does), and means what
// encoding/json's own encoding means.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "\n\r\t\x00\x1f", "é😀", "\u2028\u2029", "bad\xffutf8\xe2\x80", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString(nil, s)
		var back, want string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: not JSON: %v", s, got, err)
		}
		json.Unmarshal(reference(s), &want)
		if back != want || !utf8.Valid(got) {
			t.Fatalf("AppendString(%q) = %s, which reads %q; encoding/json's reads %q", s, got, back, want)
		}
	})
}

func TestAppendStringAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	b := make([]byte, 0, 256)
	s := "text with \"quotes\", a\nnewline and é"
	if n := testing.AllocsPerRun(100, func() { AppendString(b[:0], s) }); n != 0 {
		t.Errorf("AppendString allocates %v times; want 0", n)
	}
}
