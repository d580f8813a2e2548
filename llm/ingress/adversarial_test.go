package ingress_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/ingress"
)

// exactValues returns the values of the top-level key name of the JSON
// object body, compared byte for byte after unescaping, as a case-sensitive
// parser (OpenAI's, Anthropic's) sees them.
func exactValues(t *testing.T, body []byte, name string) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		t.Fatalf("forwarded body %s: %v", body, err)
	}
	var vals []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatalf("forwarded body %s: %v", body, err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("forwarded body %s: %v", body, err)
		}
		if k == name {
			vals = append(vals, string(v))
		}
	}
	return vals
}

// streamFlagProvider is a rawProvider that records the stream argument of
// each Forward.
type streamFlagProvider struct {
	rawProvider
	streams []bool
}

func (p *streamFlagProvider) Forward(ctx context.Context, op llm.Operation, model string, body []byte, stream bool) (*http.Response, error) {
	p.streams = append(p.streams, stream)
	return p.rawProvider.Forward(ctx, op, model, body, stream)
}

// TestPassthroughRoutesWhatIsServed: a passed-through body must be
// served by the model it was routed by, and streamed as it was routed.
// Go's encoding/json matches keys case-insensitively and unescapes them,
// so "MODEL" or "mod\u0065l" beside "model" decide the route while the
// provider reads the other key; the rename is skipped because the bytes
// `"model"` appear once.
func TestPassthroughRoutesWhatIsServed(t *testing.T) {
	for _, tc := range []struct {
		name, body string
	}{
		{"upper-case twin", `{"model":"dear","MODEL":"cheap","messages":[{"role":"user","content":"hi"}]}`},
		{"escaped twin first", `{"mod\u0065l":"dear","model":"cheap","messages":[{"role":"user","content":"hi"}]}`},
		{"stream twin", `{"model":"cheap","stream":true,"Stream":false,"messages":[{"role":"user","content":"hi"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &streamFlagProvider{rawProvider: rawProvider{staticProvider: staticProvider{name: "up"}, format: llm.FormatOpenAI, status: 200,
				body: []byte(`{"id":"x","object":"chat.completion","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)}}
			h, _ := newIngress(t, llm.Route{Model: "cheap", Provider: p})
			w := post(h, "/v1/chat/completions", tc.body)
			if w.Code/100 == 4 {
				return // refused: fine
			}
			if len(p.forwarded) != 1 {
				t.Fatalf("answer %d %s; forwarded %d bodies", w.Code, w.Body, len(p.forwarded))
			}
			sent := p.forwarded[0]
			if got := exactValues(t, sent, "model"); len(got) != 1 || got[0] != `"cheap"` {
				t.Errorf("routed by \"cheap\", forwarded %s: the provider reads model %v; want exactly [\"cheap\"]", sent, got)
			}
			if got := exactValues(t, sent, "stream"); len(got) == 1 && (got[0] == "true") != p.streams[0] {
				t.Errorf("forwarded %s as stream=%v: the provider reads stream %v", sent, p.streams[0], got)
			}
		})
	}
}

// TestStreamUsageCannotBeTurnedOff: a client's stream_options must
// not keep the provider from reporting usage, else OnUsage bills nothing.
// "stream_options":null makes the ingress inject a second key before the
// client's, which a last-wins parser reads as null; {} or
// include_usage:false are left alone.
func TestStreamUsageCannotBeTurnedOff(t *testing.T) {
	for _, opts := range []string{`null`, `{}`, `{"include_usage":false}`} {
		p := &rawProvider{staticProvider: staticProvider{name: "up"}, format: llm.FormatOpenAI, status: 200, body: []byte("data: [DONE]\n\n")}
		h, _ := newIngress(t, llm.Route{Model: "m", Provider: p})
		post(h, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}],"stream_options":`+opts+`}`)
		var got struct {
			StreamOptions *struct {
				IncludeUsage bool `json:"include_usage"`
			} `json:"stream_options"`
		}
		if err := json.Unmarshal(p.forwarded[0], &got); err != nil {
			t.Fatal(err)
		}
		if got.StreamOptions == nil || !got.StreamOptions.IncludeUsage {
			t.Errorf("stream_options %s: forwarded %s; want the provider asked for usage", opts, p.forwarded[0])
		}
	}
}

// TestRelayWithoutUsageKeepsTheRest: when the usage chunk is kept
// from the client, everything else of the stream still reaches it:
// comments (keep-alives of OpenAI-compatible servers, which keep idle
// proxies from closing the connection) and ids.
func TestRelayWithoutUsageKeepsTheRest(t *testing.T) {
	chunk := "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"
	usage := "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n"
	body := ": OPENROUTER PROCESSING\n\n" + chunk + "id: 7\n" + chunk + usage + "data: [DONE]\n\n"
	p := &rawProvider{staticProvider: staticProvider{name: "up"}, format: llm.FormatOpenAI, status: 200, body: []byte(body)}
	h, _ := newIngress(t, llm.Route{Model: "m", Provider: p})
	w := post(h, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if want := strings.Replace(body, usage, "", 1); w.Body.String() != want {
		t.Errorf("client got %q; want %q (the stream without its usage chunk)", w.Body, want)
	}
}

// TestStreamAnsweredWhole: an OpenAI-compatible server that does
// not stream answers a stream request with the whole JSON response (the
// openai provider's own Stream handles it). Passed through to a client
// that did not ask for usage, it is parsed as SSE, where a JSON line is an
// unknown field, and the client gets an empty 200.
func TestStreamAnsweredWhole(t *testing.T) {
	whole := `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`
	p := &rawProvider{staticProvider: staticProvider{name: "up"}, format: llm.FormatOpenAI, status: 200,
		header: http.Header{"Content-Type": {"application/json"}}, body: []byte(whole)}
	h, _ := newIngress(t, llm.Route{Model: "m", Provider: p})
	w := post(h, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if w.Body.String() != whole {
		t.Errorf("client got %d %q; want the provider's answer %q", w.Code, w.Body, whole)
	}
}

// TestUsageOfOversizedPassthrough: a provider's answer over
// MaxResponse was served (and billed) by the provider; OnUsage, "called
// once per request that reached a provider", is not called at all.
func TestUsageOfOversizedPassthrough(t *testing.T) {
	big := `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("a", 2<<20) + `"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`
	p := &rawProvider{staticProvider: staticProvider{name: "up"}, format: llm.FormatOpenAI, status: 200, body: []byte(big)}
	r, err := llm.NewRouter(llm.Route{Model: "m", Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	h, err := ingress.New(ingress.Config{Router: r, MaxResponse: 1 << 20, OnUsage: func(*http.Request, ingress.Usage) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	w := post(h, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	if w.Code != http.StatusBadGateway {
		t.Fatalf("answer %d; want 502", w.Code)
	}
	if calls != 1 {
		t.Errorf("OnUsage called %d times; want 1 (source cut short)", calls)
	}
}

// TestMidStreamAuthErrorHidden: an authentication error the
// provider reports inside a translated stream reaches the client as it
// came, message included, where before the stream (and in passthrough) it
// is answered as the gateway's fault with the message kept in the log.
func TestMidStreamAuthErrorHidden(t *testing.T) {
	p := &staticProvider{name: "p", events: []llm.Event{
		{Type: llm.EventStart, ID: "r"},
		{Type: llm.EventError, Err: &llm.Error{Kind: llm.ErrAuthentication, Status: 401, Provider: "p", Message: "Incorrect API key provided: sk-proj-abc***xyz"}},
	}}
	h, _ := newIngress(t, llm.Route{Model: "m", Provider: p})
	w := post(h, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if b, _ := io.ReadAll(w.Body); bytes.Contains(b, []byte("sk-proj")) || bytes.Contains(b, []byte("invalid_api_key")) || bytes.Contains(b, []byte("authentication")) {
		t.Errorf("client stream %s; want the provider's credential error hidden (a 502-like server error)", b)
	}
}
