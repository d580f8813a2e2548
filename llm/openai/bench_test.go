package openai_test

import (
	"net/http"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
	"github.com/vivremotion/gateway/llm/sse"
)

// BenchmarkDecodeRequest measures decoding a typical chat request: a
// system and a user message, sampling options, and Extra fields.
func BenchmarkDecodeRequest(b *testing.B) {
	body := readFile(b, "request_chat.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := openai.DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRequest measures encoding the same request.
func BenchmarkEncodeRequest(b *testing.B) {
	req, err := openai.DecodeRequest(readFile(b, "request_chat.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := openai.EncodeRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeResponse measures decoding a small chat completion.
func BenchmarkDecodeResponse(b *testing.B) {
	body := readFile(b, "response_text.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := openai.DecodeResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}

// repeatReader serves one SSE event over and over.
type repeatReader struct {
	event []byte
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.event[r.off:])
		n += c
		r.off = (r.off + c) % len(r.event)
	}
	return n, nil
}

const contentChunk = "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" capital\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"

// BenchmarkStreamDecode measures decoding one content chunk of a stream
// into its EventDelta.
func BenchmarkStreamDecode(b *testing.B) {
	s := openai.NewStreamDecoder(&repeatReader{event: []byte(contentChunk)})
	for range 2 { // start and part start
		s.Next()
	}
	b.ReportAllocs()
	for b.Loop() {
		ev, err := s.Next()
		if err != nil || ev.Type != llm.EventDelta {
			b.Fatal(ev, err)
		}
	}
}

// discardWriter is an http.ResponseWriter that flushes to nowhere.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Flush()                      {}

func newBenchEncoder() *openai.StreamEncoder {
	enc := openai.NewStreamEncoder(sse.NewWriter(&discardWriter{h: http.Header{}}), &llm.Request{Stream: true, StreamUsage: true})
	enc.Encode(llm.Event{Type: llm.EventStart, ID: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", Model: "gpt-4o-mini"})
	return enc
}

var deltaEvent = llm.Event{Type: llm.EventDelta, Index: 0, PartType: llm.PartText, Text: " capital \"of\" Peru"}

// BenchmarkStreamEncode measures writing one text delta as a chunk.
func BenchmarkStreamEncode(b *testing.B) {
	enc := newBenchEncoder()
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(deltaEvent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUsageScanner measures scanning one passed-through chunk.
func BenchmarkUsageScanner(b *testing.B) {
	ev := sse.Event{Data: []byte(contentChunk[len("data: ") : len(contentChunk)-2])}
	var s openai.UsageScanner
	b.ReportAllocs()
	for b.Loop() {
		s.Scan(ev)
	}
}

// TestStreamEncodeAllocs: writing a delta allocates nothing.
func TestStreamEncodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	enc := newBenchEncoder()
	tool := llm.Event{Type: llm.EventDelta, Index: 1, PartType: llm.PartToolCall, ToolIndex: 0, Arguments: `{"city":"Lima"}`}
	if n := testing.AllocsPerRun(100, func() { enc.Encode(deltaEvent); enc.Encode(tool) }); n != 0 {
		t.Errorf("Encode(delta) allocates %v times; want 0", n)
	}
}

// TestUsageScannerAllocs: scanning a chunk, with or without usage,
// allocates nothing.
func TestUsageScannerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	content := sse.Event{Data: []byte(contentChunk[len("data: ") : len(contentChunk)-2])}
	usage := sse.Event{Data: []byte(`{"id":"x","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":7,"total_tokens":26,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}}}`)}
	var s openai.UsageScanner
	if n := testing.AllocsPerRun(100, func() { s.Scan(content); s.Scan(usage) }); n != 0 {
		t.Errorf("Scan allocates %v times; want 0", n)
	}
	if u, ok := s.Usage(); !ok || u.CacheReadTokens != 3 {
		t.Errorf("Usage() = %+v, %v", u, ok)
	}
}
