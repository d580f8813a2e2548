package sse_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm/sse"
)

// openAIChunk is a typical OpenAI chat completion chunk, about 250 bytes
// on the wire.
const openAIChunk = `data: {"id":"chatcmpl-AbC123xyz","object":"chat.completion.chunk","created":1718000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}]}` + "\n\n"

// anthropicStream is a run of typed events, as Anthropic sends them.
const anthropicStream = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n" +
	"event: ping\ndata: {\"type\": \"ping\"}\n\n" +
	": keep-alive\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"

// loop reads data over and over, without end.
type loop struct {
	data string
	off  int
}

func (l *loop) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

// discard is a ResponseWriter that keeps nothing and flushes at no cost.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Flush()                      {}

// BenchmarkReaderNext measures reading one event of a stream of OpenAI
// chunks (and of Anthropic's typed events) from a source that never ends.
func BenchmarkReaderNext(b *testing.B) {
	for _, bc := range []struct {
		name, stream string
		events       int // events in stream
	}{
		{"openai", openAIChunk, 1},
		{"anthropic", anthropicStream, 3},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := sse.NewReader(&loop{data: bc.stream}, 0)
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.stream) / bc.events)) // bytes per event
			for b.Loop() {
				if _, err := r.Next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriterWriteEvent measures writing and flushing one event: an
// OpenAI chunk's data, and an Anthropic typed event.
func BenchmarkWriterWriteEvent(b *testing.B) {
	data := []byte(strings.TrimSuffix(strings.TrimPrefix(openAIChunk, "data: "), "\n\n"))
	for _, bc := range []struct{ name, typ string }{
		{"untyped", ""},
		{"typed", "content_block_delta"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := sse.NewWriter(&discard{h: http.Header{}})
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := w.WriteEvent(bc.typ, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReaderAllocs holds reading an event, in steady state, at zero
// allocations: typed and untyped events, comments, a repeated id.
func TestReaderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, stream := range []string{openAIChunk, anthropicStream, "id: 42\nretry: 1000\nevent: a\ndata: x\r\ndata: y\r\n\r\n"} {
		r := sse.NewReader(&loop{data: stream}, 0)
		for range 10 { // warm up: the buffer and the type strings
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		if n := testing.AllocsPerRun(1000, func() { _, _ = r.Next() }); n != 0 {
			t.Errorf("Next() on %.20q... allocates %v times; want 0", stream, n)
		}
	}
}

// TestWriterAllocs holds writing an event and a comment, in steady state,
// at zero allocations.
func TestWriterAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	w := sse.NewWriter(&discard{h: http.Header{}})
	data := []byte("line one\r\nline two\nline three")
	_ = w.WriteEvent("content_block_delta", data) // warm up: the buffer
	if n := testing.AllocsPerRun(1000, func() {
		_ = w.WriteEvent("content_block_delta", data)
		_ = w.WriteData(data)
		_ = w.WriteComment("keep-alive")
	}); n != 0 {
		t.Errorf("WriteEvent, WriteData, WriteComment allocate %v times; want 0", n)
	}
}
