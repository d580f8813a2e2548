package gemini

import (
	"bytes"
	"testing"

	"github.com/vivremotion/gateway/llm"
)

// FuzzRequest: whatever DecodeRequest accepts, EncodeRequest writes
// without loss as a request DecodeRequest accepts again.
func FuzzRequest(f *testing.F) {
	f.Add(readFixture(f, "request_roundtrip.json"))
	f.Add([]byte(typicalRequest))
	f.Add([]byte(`{"contents":[{"parts":[{"text":"hi"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["a","b"]}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err != nil {
			return
		}
		out, losses, err := EncodeRequest(req)
		if err != nil {
			return // e.g. a functionResponse of a call never made has no name to lose
		}
		if len(losses) != 0 {
			t.Errorf("EncodeRequest(DecodeRequest(%s)) losses = %v; want none", body, losses)
		}
		if _, err := DecodeRequest(out); err != nil {
			t.Errorf("DecodeRequest(EncodeRequest(...)) = %v for %s from %s", err, out, body)
		}
	})
}

// FuzzStream: the decoder never panics, and always ends.
func FuzzStream(f *testing.F) {
	for _, name := range []string{"stream_tools.sse", "stream_cut.sse", "stream_error.sse", "stream_blocked.sse"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := NewStreamDecoder(bytes.NewReader(body))
		for range 10000 {
			ev, err := s.Next()
			if err != nil {
				return
			}
			if ev.Type == llm.EventUsage && ev.Usage == nil {
				t.Fatal("EventUsage without Usage")
			}
		}
		t.Fatal("stream does not end")
	})
}

// FuzzResponse: whatever DecodeResponse accepts, EncodeResponse writes as
// a response that decodes to the same message and finish reason.
func FuzzResponse(f *testing.F) {
	f.Add(readFixture(f, "response_tools.json"))
	f.Add(readFixture(f, "response_blocked.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := DecodeResponse(body)
		if err != nil {
			return
		}
		out, _, err := EncodeResponse(res)
		if err != nil {
			return // arguments that are not an object cannot be written
		}
		back, err := DecodeResponse(out)
		if err != nil {
			t.Fatalf("DecodeResponse(EncodeResponse(...)) = %v for %s", err, out)
		}
		if len(back.Message.Parts) != len(res.Message.Parts) || back.FinishReason != res.FinishReason {
			t.Errorf("re-decoded %d parts, %q; want %d, %q (%s from %s)", len(back.Message.Parts), back.FinishReason, len(res.Message.Parts), res.FinishReason, out, body)
		}
	})
}
