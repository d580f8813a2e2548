package ingress_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
)

// discard is a ResponseWriter that flushes and keeps nothing, its header
// map reused, so that a benchmark counts the Handler's work alone.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discard) Flush()                      {}

// fixedPassthrough answers every Forward with the same bytes, from
// memory.
type fixedPassthrough struct{ body []byte }

func (p *fixedPassthrough) Name() string       { return "fixed" }
func (p *fixedPassthrough) Format() llm.Format { return llm.FormatOpenAI }
func (p *fixedPassthrough) Chat(context.Context, *llm.Request) (*llm.Response, error) {
	panic("not called: the client speaks the provider's format")
}
func (p *fixedPassthrough) Forward(_ context.Context, _ llm.Operation, _ string, _ []byte, stream bool) (*http.Response, error) {
	h := http.Header{"Content-Type": {"application/json"}}
	if stream {
		h = http.Header{"Content-Type": {"text/event-stream"}}
	}
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(bytes.NewReader(p.body))}, nil
}

const chatRequest = `{"model":"m","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"What is the capital of France?"}],"temperature":0.2,"max_tokens":64}`

var chatAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22}}`

// chunks returns an OpenAI stream of n text chunks, with usage and [DONE].
func chunks(n int) []byte {
	var b strings.Builder
	for range n {
		b.WriteString(`data: {"id":"c","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}` + "\n\n")
	}
	b.WriteString(`data: {"id":"c","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":100,"total_tokens":120}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String())
}

// textEvents returns a model stream of n text deltas.
func textEvents(n int) []llm.Event {
	u := llm.Usage{InputTokens: 20, OutputTokens: int64(n)}
	evs := []llm.Event{{Type: llm.EventStart, ID: "s", Model: "m"}, {Type: llm.EventPartStart, PartType: llm.PartText}}
	for range n {
		evs = append(evs, llm.Event{Type: llm.EventDelta, PartType: llm.PartText, Text: "word "})
	}
	return append(evs, llm.Event{Type: llm.EventPartEnd, PartType: llm.PartText},
		llm.Event{Type: llm.EventFinish, FinishReason: llm.FinishStop}, llm.Event{Type: llm.EventUsage, Usage: &u})
}

// BenchmarkChat measures the Handler's cost for one whole chat request
// and answer over an in-memory provider: passed through (the client
// speaks the provider's format: the model renamed, the usage read) and
// translated (decoded into the model, the answer encoded), from an OpenAI
// and an Anthropic client.
func BenchmarkChat(b *testing.B) {
	static := &staticProvider{name: "static", res: llm.Response{ID: "r", Model: "m", FinishReason: llm.FinishStop,
		Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "Paris."}}},
		Usage:   llm.Usage{InputTokens: 20, OutputTokens: 2}}}
	anthropicRequest := `{"model":"m","max_tokens":64,"system":"You are terse.","messages":[{"role":"user","content":"What is the capital of France?"}],"temperature":0.2}`
	for _, tc := range []struct {
		name, path, body string
		route            llm.Route
	}{
		{"passthrough", "/v1/chat/completions", chatRequest, llm.Route{Model: "m", Provider: &fixedPassthrough{body: []byte(chatAnswer)}, Upstream: "up"}},
		{"translated/openai", "/v1/chat/completions", chatRequest, llm.Route{Model: "m", Provider: static}},
		{"translated/anthropic", "/v1/messages", anthropicRequest, llm.Route{Model: "m", Provider: static}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h, _ := newIngress(b, tc.route)
			benchServe(b, h, tc.path, tc.body, 1)
		})
	}
}

// BenchmarkStream measures a streamed answer of 100 text chunks, passed
// through (as it came, or event by event to keep the usage chunk from a
// client that did not ask for it) and translated, and reports the cost
// per chunk.
func BenchmarkStream(b *testing.B) {
	const n = 100
	asked := `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count."}]}`
	notAsked := `{"model":"m","stream":true,"messages":[{"role":"user","content":"Count."}]}`
	for _, tc := range []struct {
		name, body string
		route      llm.Route
	}{
		{"passthrough", asked, llm.Route{Model: "m", Provider: &fixedPassthrough{body: chunks(n)}}},
		{"passthrough/usage-hidden", notAsked, llm.Route{Model: "m", Provider: &fixedPassthrough{body: chunks(n)}}},
		{"translated", asked, llm.Route{Model: "m", Provider: &staticProvider{name: "static", events: textEvents(n)}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h, _ := newIngress(b, tc.route)
			benchServe(b, h, "/v1/chat/completions", tc.body, n)
		})
	}
}

// benchServe serves body to path on h b.N times; chunks, when above 1,
// is the chunks of each answer, for an ns/chunk figure.
func benchServe(b *testing.B, h http.Handler, path, body string, chunks int) {
	w := &discard{h: http.Header{}}
	rd := strings.NewReader(body)
	r, _ := http.NewRequest(http.MethodPost, path, rd)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
		clear(w.h)
		w.n = 0
		h.ServeHTTP(w, r)
	}
	if w.n == 0 {
		b.Fatal("nothing written")
	}
	if chunks > 1 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(chunks), "ns/chunk")
	}
}
