package ingress_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/echo"
	"github.com/vivremotion/gateway/llm/ingress"
)

func TestNewErrors(t *testing.T) {
	r, _ := llm.NewRouter(llm.Route{Model: "m", Provider: echo.New("")})
	for _, c := range []ingress.Config{{}, {Router: r, MaxBody: -1}, {Router: r, MaxResponse: -1}} {
		if h, err := ingress.New(c); err == nil || h != nil {
			t.Errorf("New(%+v) = %v, %v; want an error", c, h, err)
		}
	}
}

// TestPassthrough: a request in the provider's own format goes to it as it
// came, with only the model renamed to the route's upstream name, and the
// answer comes back byte for byte; only its usage is read.
func TestPassthrough(t *testing.T) {
	answer := `{"id":"x","object":"chat.completion","model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9},"odd_field":{"kept":true}}`
	p := &rawProvider{staticProvider: staticProvider{name: "up"}, format: llm.FormatOpenAI, status: 200, body: []byte(answer),
		header: http.Header{"X-Request-Id": {"r1"}, "Set-Cookie": {"provider=1"}}}
	h, ul := newIngress(t, llm.Route{Model: "fast", Provider: p, Upstream: "up-model"})
	in := `{"model":"fast","messages":[{"role":"user","content":"hi"}],"logit_bias":{"42":-100},  "seed":7}`
	w := post(h, "/v1/chat/completions", in)
	if w.Code != 200 || w.Body.String() != answer {
		t.Fatalf("passthrough = %d %s; want 200 and the provider's bytes", w.Code, w.Body)
	}
	if w.Header().Get("X-Request-Id") != "r1" || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("headers = %v; want the provider's X-Request-Id and not its cookie", w.Header())
	}
	got := string(p.forwarded[0])
	if want := strings.Replace(in, `"fast"`, `"up-model"`, 1); got != want || p.forwardedTo[0] != "up-model" {
		t.Errorf("forwarded %q to %q; want %q to up-model", got, p.forwardedTo[0], want)
	}
	if u := ul.last(t); !u.Passthrough || u.InputTokens != 7 || u.OutputTokens != 2 || u.Source != llm.UsageReported || u.Model != "fast" || u.Upstream != "up-model" {
		t.Errorf("usage = %+v; want passthrough 7 in, 2 out, reported", u)
	}
}

// TestPassthroughStream: a passed-through stream reaches the client byte
// for byte; its usage is read on the way, and a stream without its end
// counts as cut short.
func TestPassthroughStream(t *testing.T) {
	chunks := "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n" +
		"data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n"
	const asked = `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`
	const notAsked = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	usageChunk := chunks[strings.Index(chunks, "\n\n")+2:]
	for _, tc := range []struct {
		name, req, body string
		want            string // what the client gets
		source          llm.UsageSource
	}{
		{"whole", asked, chunks + "data: [DONE]\n\n", chunks + "data: [DONE]\n\n", llm.UsageReported},
		{"cut", asked, chunks[:len(chunks)-20], chunks[:len(chunks)-20], llm.UsageCutShort},
		// Usage is asked for all the same, and its chunk kept from the
		// client, which did not ask for it.
		{"usage not asked", notAsked, chunks + "data: [DONE]\n\n", strings.Replace(chunks, usageChunk, "", 1) + "data: [DONE]\n\n", llm.UsageReported},
	} {
		p := &rawProvider{staticProvider: staticProvider{name: "up"}, format: llm.FormatOpenAI, status: 200, body: []byte(tc.body)}
		h, ul := newIngress(t, llm.Route{Model: "m", Provider: p})
		w := post(h, "/v1/chat/completions", tc.req)
		if w.Code != 200 || w.Body.String() != tc.want || !w.Flushed {
			t.Errorf("%s: stream = %d, flushed %v, %q; want 200 and %q", tc.name, w.Code, w.Flushed, w.Body, tc.want)
		}
		if u := ul.last(t); u.Source != tc.source || (tc.source == llm.UsageReported && u.OutputTokens != 1) {
			t.Errorf("%s: usage = %+v; want source %s", tc.name, u, tc.source)
		}
		if sent := string(p.forwarded[0]); !strings.Contains(sent, `"include_usage":true`) {
			t.Errorf("%s: the provider got %s; want usage asked for", tc.name, sent)
		}
	}
}

// TestTranslated: a request for a provider of another format goes
// through the model: the client gets its own format, the model name it
// asked for, and the translation's losses in Gateway-Loss.
func TestTranslated(t *testing.T) {
	p := &staticProvider{name: "other", res: llm.Response{
		ID: "r", Model: "their-name",
		Message:      llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "bonjour"}}},
		FinishReason: llm.FinishStop, Usage: llm.Usage{InputTokens: 5, OutputTokens: 1},
		Losses: []llm.Loss{{Field: "logit_bias", Reason: "no equivalent"}, {Field: "seed", Reason: "no equivalent"}},
	}}
	h, ul := newIngress(t, llm.Route{Model: "m", Provider: p, Upstream: "their-name"})
	w := post(h, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hello"}]}`)
	var got struct {
		Model   string `json:"model"`
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 || got.Model != "m" || len(got.Choices) != 1 || got.Choices[0].Message.Content != "bonjour" {
		t.Fatalf("translated = %d %s", w.Code, w.Body)
	}
	if l := w.Header().Get("Gateway-Loss"); l != "logit_bias, seed" {
		t.Errorf("Gateway-Loss = %q; want %q", l, "logit_bias, seed")
	}
	if p.reqs[0].Model != "their-name" {
		t.Errorf("provider asked for %q; want the upstream name", p.reqs[0].Model)
	}
	if u := ul.last(t); u.Passthrough || u.InputTokens != 5 || u.Provider != "other" {
		t.Errorf("usage = %+v", u)
	}
	// The same provider from an Anthropic client.
	w = post(h, "/v1/messages", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}`, "Anthropic-Version", "2023-06-01")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"text":"bonjour"`) || !strings.Contains(w.Body.String(), `"type":"message"`) {
		t.Errorf("anthropic client = %d %s", w.Code, w.Body)
	}
}

// TestErrorsInClientFormat: each failure is answered in the client's
// own error format and status.
func TestErrorsInClientFormat(t *testing.T) {
	limited := &staticProvider{name: "busy", err: &llm.Error{Kind: llm.ErrRateLimit, Message: "slow down", RetryAfter: 1500 * time.Millisecond}}
	h, _ := newIngress(t, llm.Route{Model: "m", Provider: echo.New("")}, llm.Route{Model: "busy", Provider: limited})
	big := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 1<<20) + `"}]}`
	for _, tc := range []struct {
		name, path, body string
		anthropic        bool
		status           int
		want             string // in the body
		retryAfter       string
	}{
		{"unknown model", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"x"}]}`, false, 404, `"code":"model_not_found"`, ""},
		{"unknown model, anthropic", "/v1/messages", `{"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, true, 404, `"type":"not_found_error"`, ""},
		{"bad JSON", "/v1/chat/completions", `{"model":`, false, 400, `"type":"invalid_request_error"`, ""},
		{"bad JSON, anthropic", "/v1/messages", `{"model":`, true, 400, `"type":"invalid_request_error"`, ""},
		{"too large", "/v1/chat/completions", big, false, 413, `"error"`, ""},
		{"rate limited", "/v1/chat/completions", `{"model":"busy","messages":[{"role":"user","content":"x"}]}`, false, 429, `slow down`, "2"},
		{"rate limited, anthropic", "/v1/messages", `{"model":"busy","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, true, 429, `"type":"rate_limit_error"`, "2"},
		{"no such endpoint", "/v1/completions", `{}`, false, 404, `"error"`, ""},
	} {
		var kv []string
		if tc.anthropic {
			kv = []string{"Anthropic-Version", "2023-06-01"}
		}
		w := post(h, tc.path, tc.body, kv...)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) || w.Header().Get("Retry-After") != tc.retryAfter {
			t.Errorf("%s = %d, Retry-After %q, %s; want %d, %q, containing %s", tc.name, w.Code, w.Header().Get("Retry-After"), w.Body, tc.status, tc.retryAfter, tc.want)
		}
	}
}

// TestModels: the models list names every route, in OpenAI's shape, or
// Anthropic's for a client that sends anthropic-version; and every listed
// model is accepted by both APIs.
func TestModels(t *testing.T) {
	h, _ := newIngress(t, llm.Route{Model: "a", Provider: echo.New("")}, llm.Route{Model: "b", Provider: echo.New("e2"), OwnedBy: "team"})
	get := func(path string, kv ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := get("/v1/models")
	var list struct {
		Object string                                 `json:"object"`
		Data   []struct{ ID, Object, OwnedBy string } `json:"data"`
	}
	json.Unmarshal(w.Body.Bytes(), &list)
	if w.Code != 200 || list.Object != "list" || len(list.Data) != 2 || list.Data[0].ID != "a" || list.Data[1].ID != "b" {
		t.Errorf("GET /v1/models = %d %s", w.Code, w.Body)
	}
	w = get("/v1/models", "Anthropic-Version", "2023-06-01")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"type":"model","id":"a"`) || !strings.Contains(w.Body.String(), `"has_more":false`) {
		t.Errorf("GET /v1/models (anthropic) = %d %s", w.Code, w.Body)
	}
	if w := get("/v1/models/b"); w.Code != 200 || !strings.Contains(w.Body.String(), `"owned_by":"team"`) {
		t.Errorf("GET /v1/models/b = %d %s", w.Code, w.Body)
	}
	if w := get("/v1/models/zz"); w.Code != 404 {
		t.Errorf("GET /v1/models/zz = %d; want 404", w.Code)
	}
	for _, m := range []string{"a", "b"} {
		if w := post(h, "/v1/chat/completions", `{"model":"`+m+`","messages":[{"role":"user","content":"x"}]}`); w.Code != 200 {
			t.Errorf("OpenAI chat with %s = %d %s", m, w.Code, w.Body)
		}
		if w := post(h, "/v1/messages", `{"model":"`+m+`","max_tokens":9,"messages":[{"role":"user","content":"x"}]}`, "Anthropic-Version", "2023-06-01"); w.Code != 200 {
			t.Errorf("Anthropic messages with %s = %d %s", m, w.Code, w.Body)
		}
	}
}

// TestStreamTranslated: a translated stream is written in the client's
// format, event by event; a stream the provider cuts ends in the
// format's error, with usage counted as cut short.
func TestStreamTranslated(t *testing.T) {
	u := llm.Usage{InputTokens: 4, OutputTokens: 2}
	whole := []llm.Event{
		{Type: llm.EventStart, ID: "s", Model: "up", Losses: []llm.Loss{{Field: "top_k", Reason: "none"}}},
		{Type: llm.EventPartStart, PartType: llm.PartText},
		{Type: llm.EventDelta, PartType: llm.PartText, Text: "Hel"},
		{Type: llm.EventDelta, PartType: llm.PartText, Text: "lo"},
		{Type: llm.EventPartEnd, PartType: llm.PartText},
		{Type: llm.EventFinish, FinishReason: llm.FinishStop},
		{Type: llm.EventUsage, Usage: &u},
	}
	p := &staticProvider{name: "p", events: whole}
	h, ul := newIngress(t, llm.Route{Model: "m", Provider: p})
	w := post(h, "/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`)
	b := w.Body.String()
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/event-stream" || w.Header().Get("Gateway-Loss") != "top_k" ||
		!strings.Contains(b, `"content":"Hel"`) || !strings.Contains(b, `"completion_tokens":2`) || !strings.HasSuffix(b, "data: [DONE]\n\n") {
		t.Errorf("OpenAI stream = %d %v\n%s", w.Code, w.Header(), b)
	}
	if got := ul.last(t); got.OutputTokens != 2 || got.Source != llm.UsageReported || !got.Stream {
		t.Errorf("usage = %+v", got)
	}
	p.events = append(whole[:4:4], llm.Event{}) // blocks: cut by the request's deadline
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r := httptest.NewRequest("POST", "/v1/messages", strings.NewReader(`{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}`)).WithContext(ctx)
		r.Header.Set("Anthropic-Version", "2023-06-01")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if b := w.Body.String(); !strings.Contains(b, "event: message_start") || !strings.Contains(b, `"text":"Hel"`) {
			t.Errorf("Anthropic stream = %s", b)
		}
		if got := ul.last(t); got.Source != llm.UsageCutShort {
			t.Errorf("usage of a cut stream = %+v; want cut short", got)
		}
	})
}

// TestClientGoneCancelsProvider: when the client goes away, the provider's
// context ends.
func TestClientGoneCancelsProvider(t *testing.T) {
	p := &staticProvider{name: "p", events: []llm.Event{{Type: llm.EventStart}, {}}, got: make(chan struct{}, 1)}
	h, _ := newIngress(t, llm.Route{Model: "m", Provider: p})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`)).WithContext(ctx)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}()
	<-p.got // the provider has the request
	cancel()
	<-done
	if err := p.ctxs[0].Err(); err == nil {
		t.Errorf("the provider's context is still live after the client left")
	}
}

// TestEmbeddingsTranslated: embeddings from a provider of another kind
// come back in OpenAI's shape, as floats or as base64.
func TestEmbeddingsTranslated(t *testing.T) {
	h, _ := newIngress(t, llm.Route{Model: "e", Provider: echo.New("")}, llm.Route{Model: "chat-only", Provider: &staticProvider{name: "c"}})
	w := post(h, "/v1/embeddings", `{"model":"e","input":["a","b"],"dimensions":3}`)
	var got struct {
		Data []struct {
			Embedding []float32 `json:"embedding"`
			Index     int       `json:"index"`
		} `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 || len(got.Data) != 2 || len(got.Data[1].Embedding) != 3 || got.Data[1].Index != 1 {
		t.Errorf("embeddings = %d %s", w.Code, w.Body)
	}
	if w := post(h, "/v1/embeddings", `{"model":"e","input":"a","encoding_format":"base64"}`); w.Code != 200 || strings.Contains(w.Body.String(), "[") && !strings.Contains(w.Body.String(), `"data":[`) {
		t.Errorf("base64 embeddings = %d %s", w.Code, w.Body)
	}
	if w := post(h, "/v1/embeddings", `{"model":"chat-only","input":"a"}`); w.Code != 400 {
		t.Errorf("embeddings from a chat-only model = %d %s; want 400", w.Code, w.Body)
	}
}

// TestStreamLossTrailer: what the client's format cannot carry of a
// translated stream, known only once the head is out, is named in a
// Gateway-Loss trailer.
func TestStreamLossTrailer(t *testing.T) {
	p := &staticProvider{name: "p", events: []llm.Event{
		{Type: llm.EventStart, ID: "s", Model: "up"},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartReasoning},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartReasoning, Text: "hmm", Signature: "sig"},
		{Type: llm.EventPartEnd, Index: 0, PartType: llm.PartReasoning},
		{Type: llm.EventFinish, FinishReason: llm.FinishStop},
	}}
	h, _ := newIngress(t, llm.Route{Model: "m", Provider: p})
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(res.Body)
	res.Body.Close()
	if got := res.Trailer.Get("Gateway-Loss"); got != "parts[0].signature" {
		t.Errorf("Gateway-Loss trailer = %q; want parts[0].signature", got)
	}
}

// TestProviderCredentialsRefused: a provider refusing the gateway's own
// credentials is the gateway's fault: the client gets 502, and not the
// provider's message, which may quote part of the key.
func TestProviderCredentialsRefused(t *testing.T) {
	refused := &staticProvider{name: "p", err: &llm.Error{Kind: llm.ErrAuthentication, Status: 401, Message: "Incorrect API key provided: sk-proj-****abcd"}}
	raw := &rawProvider{staticProvider: staticProvider{name: "raw"}, format: llm.FormatOpenAI, status: 401,
		body: []byte(`{"error":{"message":"Incorrect API key provided: sk-proj-****abcd","type":"invalid_request_error","code":"invalid_api_key"}}`)}
	h, _ := newIngress(t, llm.Route{Model: "t", Provider: refused}, llm.Route{Model: "r", Provider: raw})
	for _, m := range []string{"t", "r"} {
		w := post(h, "/v1/chat/completions", `{"model":"`+m+`","messages":[{"role":"user","content":"x"}]}`)
		if w.Code != http.StatusBadGateway || strings.Contains(w.Body.String(), "abcd") || !strings.Contains(w.Body.String(), "credentials") {
			t.Errorf("model %s with refused credentials = %d %s; want 502 without the provider's message", m, w.Code, w.Body)
		}
	}
}

// TestStreamErrorUsage: a stream in which the provider reported an error
// counts its usage as cut short.
func TestStreamErrorUsage(t *testing.T) {
	u := llm.Usage{InputTokens: 3, OutputTokens: 1}
	p := &staticProvider{name: "p", events: []llm.Event{
		{Type: llm.EventStart, ID: "s"},
		{Type: llm.EventUsage, Usage: &u},
		{Type: llm.EventError, Err: &llm.Error{Kind: llm.ErrOverloaded, Message: "busy"}},
	}}
	h, ul := newIngress(t, llm.Route{Model: "m", Provider: p})
	for _, c := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`},
		{"/v1/messages", `{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}`},
	} {
		w := post(h, c.path, c.body)
		if !strings.Contains(w.Body.String(), "busy") {
			t.Errorf("%s: stream = %s; want the error event", c.path, w.Body)
		}
		if got := ul.last(t); got.Source != llm.UsageCutShort || got.InputTokens != 3 {
			t.Errorf("%s: usage = %+v; want 3 input tokens, cut short", c.path, got)
		}
	}
}

// TestForwardHeaders: the client's fields that ForwardHeaders names reach
// the provider in the context, and no others; credentials cannot be named.
func TestForwardHeaders(t *testing.T) {
	r, _ := llm.NewRouter(llm.Route{Model: "m", Provider: &staticProvider{name: "p", res: llm.Response{Message: llm.Message{Role: llm.RoleAssistant}}}})
	for _, bad := range []string{"Authorization", "x-api-key", "cookie", ""} {
		if h, err := ingress.New(ingress.Config{Router: r, ForwardHeaders: []string{bad}}); err == nil || h != nil {
			t.Errorf("New(ForwardHeaders %q) = %v, %v; want an error", bad, h, err)
		}
	}
	p := &staticProvider{name: "p", res: llm.Response{Message: llm.Message{Role: llm.RoleAssistant}}}
	r, _ = llm.NewRouter(llm.Route{Model: "m", Provider: p})
	h, err := ingress.New(ingress.Config{Router: r, ForwardHeaders: []string{"anthropic-beta"}})
	if err != nil {
		t.Fatal(err)
	}
	post(h, "/v1/messages", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`,
		"Anthropic-Version", "2023-06-01", "Anthropic-Beta", "context-1m", "X-Secret", "s")
	got := llm.ClientHeader(p.ctxs[0])
	if got.Get("Anthropic-Beta") != "context-1m" || got.Get("X-Secret") != "" || got.Get("Anthropic-Version") != "" {
		t.Errorf("the provider got client fields %v; want anthropic-beta alone", got)
	}
}
