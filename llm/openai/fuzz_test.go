package openai_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

// FuzzDecodeRequest: any body either decodes into a request that encodes
// and decodes again, or is refused with ErrInvalidRequest; nothing panics.
func FuzzDecodeRequest(f *testing.F) {
	for _, name := range []string{"request_chat.json", "request_tools.json"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}],"x\u0001":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := openai.DecodeRequest(body)
		if err != nil {
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.ErrInvalidRequest {
				t.Fatalf("DecodeRequest error %v is not ErrInvalidRequest", err)
			}
			return
		}
		out, _, err := openai.EncodeRequest(req)
		if err != nil {
			t.Fatalf("EncodeRequest of a decoded request: %v", err)
		}
		if _, err := openai.DecodeRequest(out); err != nil {
			t.Fatalf("DecodeRequest(EncodeRequest(%s)) = %v; body %s", body, err, out)
		}
	})
}

// FuzzStreamDecoder: any stream ends, with io.EOF or an error, without
// panicking.
func FuzzStreamDecoder(f *testing.F) {
	for _, name := range []string{"stream_text.sse", "stream_tools.sse", "stream_reasoning.sse", "stream_cut.sse", "stream_error.sse"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := openai.NewStreamDecoder(bytes.NewReader(body))
		for range len(body) + 10 {
			if _, err := s.Next(); err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && len(body) == 0 {
					t.Fatalf("empty stream ended with %v", err)
				}
				return
			}
		}
		t.Fatal("the stream does not end")
	})
}
