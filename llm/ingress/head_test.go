package ingress

import (
	"bytes"
	"encoding/json"
	"testing"
)

// referenceHead reads the top-level members of body with encoding/json's
// tokens: exact keys, after unescaping, as readHead means to.
func referenceHead(body []byte) (model string, stream bool, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false, false
		}
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return "", false, false
		}
		switch tok {
		case "model":
			if json.Unmarshal(raw, &model) != nil {
				return "", false, false
			}
		case "stream":
			json.Unmarshal(raw, &stream)
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", false, false
	}
	return model, stream, true
}

// FuzzReadHead: readHead never panics, and when it accepts a body it reads
// the model and stream encoding/json's own walk of the top level reads.
func FuzzReadHead(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","stream":true,"messages":[{"role":"user","content":"a \"quoted\" }{ ]["}]}`,
		`{"mod\u0065l":"x"}`,
		`{"model":"a\u00e9b", "stream" : false , "stream_options":{"include_usage":true}}`,
		`  {"nested":{"model":"inner"},"model":"outer"}  `,
		`{"a":[1,2,{"b":"}"}],"model":"m"}`,
		`{}`, `[]`, `{"model":1}`, `{"stream":"yes"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := readHead(body)
		if err != nil {
			return
		}
		model, stream, ok := referenceHead(body)
		if !ok {
			t.Fatalf("readHead(%q) accepted a body encoding/json refuses", body)
		}
		if h.model != model || h.stream != stream {
			t.Fatalf("readHead(%q) = %q, %v; encoding/json reads %q, %v", body, h.model, h.stream, model, stream)
		}
	})
}

// TestReadHeadAllocs: reading the head of a typical request costs two
// allocations, the model's name and the walk's callback, whatever the
// body's size.
func TestReadHeadAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	body := []byte(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hello there"}],"temperature":0.2}`)
	if n := testing.AllocsPerRun(100, func() { readHead(body) }); n > 2 {
		t.Errorf("readHead allocates %v times; want at most 2", n)
	}
}

// TestFieldsOf: the type and data of one event's bytes, as an SSE reader
// reads them.
func TestFieldsOf(t *testing.T) {
	for _, tc := range []struct{ raw, typ, data string }{
		{"data: {\"a\":1}\n\n", "", `{"a":1}`},
		{"data:x\r\ndata: y\r\n\r\n", "", "x\ny"},
		{": keep-alive\nevent: ping\nid: 7\ndata: \n\n", "ping", ""},
		{"data:  two spaces\n\n", "", " two spaces"},
		{"data: cut", "", "cut"},
	} {
		typ, data := fieldsOf([]byte(tc.raw), nil)
		if typ != tc.typ || string(data) != tc.data {
			t.Errorf("fieldsOf(%q) = %q, %q; want %q, %q", tc.raw, typ, data, tc.typ, tc.data)
		}
	}
}
