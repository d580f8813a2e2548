package anthropic_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

// fakeAnthropic is an httptest server speaking the messages API: it checks
// the request's method, path and headers, records its body, and answers
// with status, header and body.
func fakeAnthropic(t *testing.T, status int, header http.Header, body string) (*httptest.Server, *[]byte) {
	t.Helper()
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
			t.Errorf("request %s %s; want POST /v1/messages", r.Method, r.URL.Path)
		}
		for k, want := range map[string]string{"X-Api-Key": "sk-test", "Anthropic-Version": "2023-06-01", "Content-Type": "application/json", "Anthropic-Beta": "tools-2024"} {
			if v := r.Header.Get(k); v != want {
				t.Errorf("header %s = %q; want %q", k, v, want)
			}
		}
		got, _ = io.ReadAll(r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func newProvider(t *testing.T, url string) *anthropic.Provider {
	t.Helper()
	p, err := anthropic.New(anthropic.Config{APIKey: "sk-test", BaseURL: url, Header: http.Header{"Anthropic-Beta": {"tools-2024"}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func chatRequest() *llm.Request {
	return &llm.Request{Model: "claude-haiku-4-5", Messages: []llm.Message{userMsg("Hello")}, Seed: ptr(int64(1))}
}

func TestProviderChat(t *testing.T) {
	srv, got := fakeAnthropic(t, 200, http.Header{"Content-Type": {"application/json"}}, string(readTestdata(t, "response_text.json")))
	p := newProvider(t, srv.URL)
	res, err := p.Chat(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, *got, []byte(`{"model":"claude-haiku-4-5","max_tokens":4096,"messages":[{"role":"user","content":"Hello"}]}`))
	if res.Message.Text() != "Rome." || res.Usage.InputTokens != 2112 {
		t.Errorf("Chat = %+v", res)
	}
	if !hasLoss(res.Losses, "seed") {
		t.Errorf("Losses = %v; want seed", res.Losses)
	}
}

func TestProviderErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		kind   llm.ErrorKind
		retry  time.Duration
	}{
		{"rate limit", 429, http.Header{"Retry-After": {"30"}}, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}`, llm.ErrRateLimit, 30 * time.Second},
		{"overloaded", 529, nil, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, llm.ErrOverloaded, 0},
		{"auth", 401, nil, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, llm.ErrAuthentication, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeAnthropic(t, tt.status, tt.header, tt.body)
			p := newProvider(t, srv.URL)
			for _, call := range []func() error{
				func() error { _, err := p.Chat(context.Background(), chatRequest()); return err },
				func() error { _, err := p.Stream(context.Background(), chatRequest()); return err },
			} {
				var e *llm.Error
				if err := call(); !errors.As(err, &e) || e.Kind != tt.kind || e.Status != tt.status || e.RetryAfter != tt.retry || e.Provider != "anthropic" {
					t.Errorf("error = %#v; want kind %s, status %d, retry %v, provider anthropic", err, tt.kind, tt.status, tt.retry)
				}
			}
		})
	}
}

func TestProviderStream(t *testing.T) {
	srv, got := fakeAnthropic(t, 200, http.Header{"Content-Type": {"text/event-stream"}}, string(readTestdata(t, "stream_tool.sse")))
	p := newProvider(t, srv.URL)
	s, err := p.Stream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := drain(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if jsonField(t, *got, "stream") != "true" {
		t.Errorf("request body %s; want stream true", *got)
	}
	if evs[0].Type != llm.EventStart || !hasLoss(evs[0].Losses, "seed") {
		t.Errorf("first event = %+v; want EventStart with the seed loss", evs[0])
	}
}

func TestProviderStreamCut(t *testing.T) {
	srv, _ := fakeAnthropic(t, 200, http.Header{"Content-Type": {"text/event-stream"}}, string(readTestdata(t, "stream_cut.sse")))
	p := newProvider(t, srv.URL)
	s, err := p.Stream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := drain(t, s)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error = %v; want io.ErrUnexpectedEOF", err)
	}
	if u := evs[len(evs)-2].Usage; u == nil || u.Source != llm.UsageCutShort {
		t.Errorf("usage = %+v; want cut short", u)
	}
}

// TestProviderStreamCancel: canceling the context ends a stream that
// waits for more.
func TestProviderStreamCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	p := newProvider(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := p.Stream(ctx, chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ev, err := s.Next(); err != nil || ev.Type != llm.EventStart {
		t.Fatalf("Next = %v, %v; want EventStart", ev.Type, err)
	}
	cancel()
	_, err = drain(t, s)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error after cancel = %v; want context.Canceled", err)
	}
}

func TestProviderChatCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	p := newProvider(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Chat(ctx, chatRequest()); !errors.Is(err, context.Canceled) {
		t.Errorf("Chat with a canceled context = %v; want context.Canceled", err)
	}
}

func TestProviderForward(t *testing.T) {
	srv, got := fakeAnthropic(t, 529, nil, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	p := newProvider(t, srv.URL)
	in := `{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"unknown_field":1}`
	resp, err := p.Forward(context.Background(), llm.OpChat, "claude-x", []byte(in), false)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 529 {
		t.Errorf("status = %d; want 529 passed through", resp.StatusCode)
	}
	io.Copy(io.Discard, resp.Body)
	if string(*got) != in {
		t.Errorf("forwarded body = %s; want it unchanged", *got)
	}
	if _, err := p.Forward(context.Background(), llm.OpEmbed, "m", nil, false); err == nil {
		t.Error("Forward(OpEmbed) = nil error; want one")
	}
	if p.Format() != llm.FormatAnthropic || p.Name() != "anthropic" {
		t.Errorf("Format, Name = %s, %s", p.Format(), p.Name())
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []anthropic.Config{
		{BaseURL: "api.anthropic.com"},
		{BaseURL: "ftp://x"},
		{BaseURL: "http://x/?q=1"},
		{BaseURL: "http://[::1"},
		{Timeout: -time.Second},
	} {
		if _, err := anthropic.New(c); err == nil {
			t.Errorf("New(%+v) = nil error; want one", c)
		} else if strings.Contains(err.Error(), "sk-") {
			t.Errorf("error echoes the key: %v", err)
		}
	}
}

// TestNewKeepsConfig: New neither changes the caller's Config nor sees
// later changes to its Header.
func TestNewKeepsConfig(t *testing.T) {
	srv, _ := fakeAnthropic(t, 200, nil, string(readTestdata(t, "response_text.json")))
	h := http.Header{"Anthropic-Beta": {"tools-2024"}}
	c := anthropic.Config{APIKey: "sk-test", BaseURL: srv.URL, Header: h}
	p, err := anthropic.New(c)
	if err != nil {
		t.Fatal(err)
	}
	h.Set("Anthropic-Beta", "changed")
	if c.Name != "" || c.Timeout != 0 {
		t.Errorf("Config changed: %+v", c)
	}
	if _, err := p.Chat(context.Background(), chatRequest()); err != nil {
		t.Fatal(err)
	}
}
