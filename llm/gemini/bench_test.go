package gemini

import (
	"net/http"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// typicalRequest is a chat request of a few turns with a tool, as a
// Gemini client sends it.
const typicalRequest = `{
  "systemInstruction": {"parts": [{"text": "You are a helpful assistant for a travel agency. Answer briefly."}]},
  "contents": [
    {"role": "user", "parts": [{"text": "I want to go to Lisbon in May. What is the weather like?"}]},
    {"role": "model", "parts": [{"functionCall": {"name": "get_climate", "args": {"city": "Lisbon", "month": 5}}}]},
    {"role": "user", "parts": [{"functionResponse": {"name": "get_climate", "response": {"high": 22, "low": 14, "rain_days": 6}}}]},
    {"role": "model", "parts": [{"text": "In May Lisbon is mild: highs around 22 °C, lows near 14 °C, and about six rainy days."}]},
    {"role": "user", "parts": [{"text": "And which neighbourhoods should I stay in?"}]}
  ],
  "tools": [{"functionDeclarations": [{"name": "get_climate", "description": "Average climate of a city in a month.",
    "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}, "month": {"type": "integer"}}, "required": ["city", "month"]}}]}],
  "generationConfig": {"temperature": 0.7, "maxOutputTokens": 800, "thinkingConfig": {"thinkingBudget": 1024}}
}`

// BenchmarkDecodeRequest measures decoding a typical request into the
// model.
func BenchmarkDecodeRequest(b *testing.B) {
	body := []byte(typicalRequest)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRequest measures encoding a typical request from the
// model.
func BenchmarkEncodeRequest(b *testing.B) {
	req, err := DecodeRequest([]byte(typicalRequest))
	if err != nil {
		b.Fatal(err)
	}
	req.Model = "gemini-2.5-flash"
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := EncodeRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

// loopReader returns data over and over.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// BenchmarkStreamDecode measures decoding one text chunk of a stream
// into its delta event.
func BenchmarkStreamDecode(b *testing.B) {
	chunk := []byte(`data: {"candidates": [{"content": {"parts": [{"text": " the quick brown fox jumps over the lazy dog"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 40,"totalTokenCount": 52},"modelVersion": "gemini-2.5-flash","responseId": "r-1"}` + "\r\n\r\n")
	s := NewStreamDecoder(&loopReader{data: chunk})
	b.ReportAllocs()
	for b.Loop() {
		for {
			ev, err := s.Next()
			if err != nil {
				b.Fatal(err)
			}
			if ev.Type == llm.EventDelta {
				break
			}
		}
	}
}

// discardWriter is an http.ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Flush()                      {}

// BenchmarkStreamEncode measures writing one text delta event as a
// chunk.
func BenchmarkStreamEncode(b *testing.B) {
	e := NewStreamEncoder(sse.NewWriter(&discardWriter{h: http.Header{}}), nil)
	e.Encode(llm.Event{Type: llm.EventStart, ID: "chatcmpl-1", Model: "gpt-x"})
	ev := llm.Event{Type: llm.EventDelta, PartType: llm.PartText, Text: " the quick brown fox jumps over the lazy dog"}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUsageScanner measures reading the usage of one passed-through
// chunk.
func BenchmarkUsageScanner(b *testing.B) {
	data := []byte(`{"candidates": [{"content": {"parts": [{"text": " the quick brown fox"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 40,"candidatesTokenCount": 9,"totalTokenCount": 49,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 40}]},"modelVersion": "gemini-2.5-flash","responseId": "r-1"}`)
	var s UsageScanner
	ev := sse.Event{Data: data}
	b.ReportAllocs()
	for b.Loop() {
		s.Scan(ev)
	}
}

func TestStreamEncoderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	e := NewStreamEncoder(sse.NewWriter(&discardWriter{h: http.Header{}}), nil)
	e.Encode(llm.Event{Type: llm.EventStart, ID: "id", Model: "m"})
	text := llm.Event{Type: llm.EventDelta, PartType: llm.PartText, Text: "some \"quoted\" text\n"}
	if n := testing.AllocsPerRun(100, func() { e.Encode(text) }); n != 0 {
		t.Errorf("Encode(text delta) allocates %v times; want 0", n)
	}
}
