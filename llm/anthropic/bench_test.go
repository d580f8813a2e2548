package anthropic_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
	"github.com/vivremotion/gateway/llm/sse"
)

// BenchmarkDecodeRequest measures reading a typical chat request: a
// system prompt and three turns.
func BenchmarkDecodeRequest(b *testing.B) {
	body := readTestdataB(b, "request_basic.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := anthropic.DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRequest measures writing the same request from the model.
func BenchmarkEncodeRequest(b *testing.B) {
	req, err := anthropic.DecodeRequest(readTestdataB(b, "request_basic.json"))
	if err != nil {
		b.Fatal(err)
	}
	req.ExtraFormat, req.Extra = llm.FormatOpenAI, nil
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := anthropic.EncodeRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

// textDelta is one SSE event of a streamed text block.
const textDelta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello there, how\"}}\n\n"

// loopReader yields prefix once, then chunk forever.
type loopReader struct {
	prefix, chunk []byte
	off           int
}

func (r *loopReader) Read(p []byte) (int, error) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	n := copy(p, r.chunk[r.off:])
	r.off = (r.off + n) % len(r.chunk)
	return n, nil
}

func deltaStream() llm.Stream {
	prefix := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":5}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
	s := anthropic.NewStreamDecoder(&loopReader{prefix: []byte(prefix), chunk: []byte(textDelta)})
	for range 3 { // start, usage, part start
		s.Next()
	}
	return s
}

// BenchmarkStreamDecode measures decoding one text delta event.
func BenchmarkStreamDecode(b *testing.B) {
	s := deltaStream()
	b.ReportAllocs()
	for b.Loop() {
		if ev, err := s.Next(); err != nil || ev.Type != llm.EventDelta {
			b.Fatal(ev.Type, err)
		}
	}
}

// discardWriter is an http.ResponseWriter that drops what it is given.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Flush()                      {}

func deltaEncoder() *anthropic.StreamEncoder {
	enc := anthropic.NewStreamEncoder(sse.NewWriter(&discardWriter{h: http.Header{}}), &llm.Request{Model: "c"})
	enc.Encode(llm.Event{Type: llm.EventStart, ID: "m"})
	enc.Encode(llm.Event{Type: llm.EventPartStart, PartType: llm.PartText})
	return enc
}

var benchDelta = llm.Event{Type: llm.EventDelta, PartType: llm.PartText, Text: "Hello there, how"}

// BenchmarkStreamEncode measures writing one text delta event.
func BenchmarkStreamEncode(b *testing.B) {
	enc := deltaEncoder()
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(benchDelta); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUsageScanner measures the passthrough's cost per content delta.
func BenchmarkUsageScanner(b *testing.B) {
	ev := sse.Event{Type: "content_block_delta", Data: []byte(textDelta[26:])}
	var s anthropic.UsageScanner
	b.ReportAllocs()
	for b.Loop() {
		s.Scan(ev)
	}
}

func TestStreamEncodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	enc := deltaEncoder()
	if n := testing.AllocsPerRun(100, func() { enc.Encode(benchDelta) }); n != 0 {
		t.Errorf("Encode(text delta) allocates %v times; want 0", n)
	}
}

func TestUsageScannerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	ev := sse.Event{Type: "content_block_delta", Data: []byte(textDelta[26:])}
	var s anthropic.UsageScanner
	if n := testing.AllocsPerRun(100, func() { s.Scan(ev) }); n != 0 {
		t.Errorf("Scan(content_block_delta) allocates %v times; want 0", n)
	}
}

// TestStreamDecodeAllocs bounds the allocations of one text delta: the
// delta's text, which the event carries as a string.
func TestStreamDecodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	s := deltaStream()
	if n := testing.AllocsPerRun(100, func() { s.Next() }); n > 2 {
		t.Errorf("Next(text delta) allocates %v times; want at most 2", n)
	}
}

func readTestdataB(b *testing.B, name string) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	return data
}
