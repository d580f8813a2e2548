package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/llm"
)

func chatRequest() *llm.Request {
	return &llm.Request{Model: "gemini-2.5-flash", User: "u-1", Messages: []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Weather in Lyon and Nice?"}}},
	}}
}

func newProvider(t *testing.T, url string) *Provider {
	t.Helper()
	p, err := New(Config{APIKey: "test-key", BaseURL: url + "/v1beta", Header: http.Header{"X-Team": {"search"}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProviderChat(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
			t.Errorf("request %s %s; want POST /v1beta/models/gemini-2.5-flash:generateContent", r.Method, r.URL.Path)
		}
		if r.Header.Get("x-goog-api-key") != "test-key" || r.Header.Get("X-Team") != "search" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers = %v", r.Header)
		}
		body, _ := io.ReadAll(r.Body)
		if req, err := DecodeRequest(body); err != nil || req.Messages[0].Text() != "Weather in Lyon and Nice?" {
			t.Errorf("body %s: %v", body, err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(readFixture(t, "response_tools.json"))
	}))
	defer srv.Close()
	res, err := newProvider(t, srv.URL).Chat(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Message.ToolCalls()) != 2 || res.FinishReason != llm.FinishToolCalls || res.Usage.InputTokens != 125 {
		t.Errorf("Chat = %+v", res)
	}
	if got := lossFields(res.Losses); !slices.Equal(got, []string{"user"}) {
		t.Errorf("Losses = %v; want the user", res.Losses)
	}
}

func TestProviderChatErrors(t *testing.T) {
	rows := []struct {
		name   string
		status int
		header http.Header
		body   string
		kind   llm.ErrorKind
		retry  time.Duration
	}{
		{"429 RetryInfo", 429, nil, string(readFixture(t, "error_429.json")), llm.ErrRateLimit, 31 * time.Second},
		{"429 Retry-After", 429, http.Header{"Retry-After": {"12"}}, `{"error":{"code":429,"message":"slow","status":"RESOURCE_EXHAUSTED"}}`, llm.ErrRateLimit, 12 * time.Second},
		{"500", 500, nil, `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`, llm.ErrServer, 0},
		{"503 html", 503, nil, `<html>unavailable</html>`, llm.ErrUnavailable, 0},
		{"404 model", 404, nil, `{"error":{"code":404,"message":"models/nope is not found","status":"NOT_FOUND"}}`, llm.ErrNotFound, 0},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range r.header {
					w.Header()[k] = v
				}
				w.WriteHeader(r.status)
				io.WriteString(w, r.body)
			}))
			defer srv.Close()
			p := newProvider(t, srv.URL)
			_, err := p.Chat(context.Background(), chatRequest())
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != r.kind || le.RetryAfter != r.retry || le.Provider != "gemini" || le.Status != r.status {
				t.Errorf("Chat = %v (%+v); want kind %s retry %v from gemini", err, le, r.kind, r.retry)
			}
			if strings.Contains(err.Error(), "test-key") {
				t.Errorf("error %q echoes the API key", err)
			}
			_, err = p.Stream(context.Background(), chatRequest())
			if !errors.As(err, &le) || le.Kind != r.kind {
				t.Errorf("Stream = %v; want kind %s", err, r.kind)
			}
		})
	}
}

func TestProviderChatBodyBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"candidates":[`)
		pad := strings.Repeat(" ", 1<<20)
		for range 33 {
			io.WriteString(w, pad)
		}
	}))
	defer srv.Close()
	_, err := newProvider(t, srv.URL).Chat(context.Background(), chatRequest())
	if !errors.Is(err, errTooLarge) {
		t.Errorf("Chat(33 MiB body) = %v; want %v", err, errTooLarge)
	}
}

func TestProviderStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || r.URL.Query().Get("alt") != "sse" {
			t.Errorf("request %s; want :streamGenerateContent?alt=sse", r.URL)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(readFixture(t, "stream_tools.sse"))
	}))
	defer srv.Close()
	s, err := newProvider(t, srv.URL).Stream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, err := s.Next()
	if err != nil || first.Type != llm.EventStart || len(first.Losses) != 1 || first.Losses[0].Field != "user" {
		t.Errorf("first event = %+v, %v; want start with the user loss", first, err)
	}
	var acc llm.Accumulator
	acc.Add(first)
	for {
		ev, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		acc.Add(ev)
	}
	res, e := acc.Response()
	if e != nil || len(res.Message.ToolCalls()) != 2 || res.Usage.OutputTokens != 32 || res.FinishReason != llm.FinishToolCalls {
		t.Errorf("accumulated = %+v, %v", res, e)
	}
}

func TestProviderStreamCut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// A cut stream that never named its model.
		w.Write([]byte(strings.ReplaceAll(string(readFixture(t, "stream_cut.sse")), `"modelVersion": "gemini-2.5-flash",`, "")))
	}))
	defer srv.Close()
	s, err := newProvider(t, srv.URL).Stream(context.Background(), chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var start, last llm.Event
	var usage *llm.Usage
	for {
		ev, err := s.Next()
		if ev.Type == llm.EventStart {
			start = ev
		}
		if err != nil {
			if err != io.ErrUnexpectedEOF {
				t.Errorf("final error = %v; want unexpected EOF", err)
			}
			break
		}
		if ev.Type == llm.EventUsage {
			usage = ev.Usage
		}
		last = ev
	}
	if last.Type != llm.EventError || last.Err.Provider != "gemini" || usage == nil || usage.Source != llm.UsageCutShort || start.Model != "gemini-2.5-flash" {
		t.Errorf("last event %+v, usage %+v; want an error from gemini and cut-short usage", last, usage)
	}
}

// TestProviderCancel: canceling the context ends a call and a stream.
func TestProviderCancel(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server sees the client leave only once the body is read
		if r.URL.Query().Get("alt") == "sse" {
			io.WriteString(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\n")
			w.(http.Flusher).Flush()
		}
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	p := newProvider(t, srv.URL)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	if _, err := p.Chat(ctx, chatRequest()); !errors.Is(err, context.Canceled) {
		t.Errorf("Chat(canceled) = %v; want context.Canceled", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	s, err := p.Stream(ctx, chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 { // start, part start, delta
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	<-arrived
	cancel()
	var final error
	for final == nil {
		_, final = s.Next()
	}
	if final == io.EOF {
		t.Error("Stream after cancel ended cleanly; want an error")
	}
}

// blockingTransport answers nothing until the request's context ends.
type blockingTransport struct{}

func (blockingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// TestProviderTimeout: a call Timeout ends is an *llm.Error of kind
// timeout naming the provider (the gateway's retry and status logic reads
// the kind); a deadline of the caller's own stays the context's error.
func TestProviderTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := New(Config{Name: "g1", Timeout: 30 * time.Second, Transport: blockingTransport{}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.Chat(context.Background(), chatRequest())
		var le *llm.Error
		if !errors.As(err, &le) || le.Kind != llm.ErrTimeout || le.Provider != "g1" || time.Since(start) != 30*time.Second {
			t.Errorf("Chat = %#v after %v; want an *llm.Error of kind timeout from g1 after 30s", err, time.Since(start))
		}
		_, err = p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "m", Input: []string{"a"}})
		if !errors.As(err, &le) || le.Kind != llm.ErrTimeout {
			t.Errorf("Embed = %v; want an *llm.Error of kind timeout", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = p.Chat(ctx, chatRequest())
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &le) {
			t.Errorf("Chat(ctx with its own deadline) = %v; want the context's error", err)
		}
	})
}

func TestProviderEmbed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" {
			t.Errorf("path %s; want batchEmbedContents", r.URL.Path)
		}
		var in struct {
			Requests []struct {
				Model   string      `json:"model"`
				Content wireContent `json:"content"`
				Dim     int         `json:"outputDimensionality"`
			} `json:"requests"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		if len(in.Requests) != 2 || in.Requests[1].Model != "models/gemini-embedding-001" || *in.Requests[1].Content.Parts[0].Text != "b" || in.Requests[0].Dim != 3 {
			t.Errorf("body = %+v", in)
		}
		io.WriteString(w, `{"embeddings":[{"values":[0.1,0.2,0.3]},{"values":[0.4,0.5,0.6]}]}`)
	}))
	defer srv.Close()
	p := newProvider(t, srv.URL)
	res, err := p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "gemini-embedding-001", Input: []string{"a", "b"}, Dimensions: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Embeddings) != 2 || res.Embeddings[1][2] != 0.6 || res.Model != "gemini-embedding-001" {
		t.Errorf("Embed = %+v", res)
	}
	if _, err := p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "m"}); err == nil {
		t.Error("Embed(no input) = nil error")
	}
}

func TestProviderForward(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-goog-api-key") != "test-key" {
			t.Errorf("no key on %s", r.URL)
		}
		w.WriteHeader(429)
		io.WriteString(w, r.URL.RequestURI())
	}))
	defer srv.Close()
	p := newProvider(t, srv.URL)
	rows := []struct {
		op     llm.Operation
		body   string
		stream bool
		want   string
	}{
		{llm.OpChat, `{"contents":[]}`, false, "/v1beta/models/gemini-2.5-pro:generateContent"},
		{llm.OpChat, `{"contents":[]}`, true, "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"},
		{llm.OpEmbed, `{"requests":[]}`, false, "/v1beta/models/gemini-2.5-pro:batchEmbedContents"},
		{llm.OpEmbed, `{"content":{"parts":[{"text":"a"}]}}`, false, "/v1beta/models/gemini-2.5-pro:embedContent"},
	}
	for _, r := range rows {
		resp, err := p.Forward(context.Background(), r.op, "models/gemini-2.5-pro", []byte(r.body), r.stream)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 429 || string(got) != r.want {
			t.Errorf("Forward(%d, stream %v) reached %s (%d); want %s as it came", r.op, r.stream, got, resp.StatusCode, r.want)
		}
	}
	if p.Format() != llm.FormatGemini || p.Name() != "gemini" {
		t.Errorf("Format, Name = %s, %s", p.Format(), p.Name())
	}
}

func TestNew(t *testing.T) {
	rows := []struct {
		name string
		c    Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"custom", Config{BaseURL: "http://localhost:8080/v1beta/", Name: "g2", Timeout: time.Second}, true},
		{"relative URL", Config{BaseURL: "/v1beta"}, false},
		{"ftp", Config{BaseURL: "ftp://x/v1"}, false},
		{"query", Config{BaseURL: "https://x/v1?key=1"}, false},
		{"negative timeout", Config{Timeout: -time.Second}, false},
		{"key in header", Config{Header: http.Header{"X-Goog-Api-Key": {"k"}}}, false},
		{"bad header name", Config{Header: http.Header{"Bad Name": {"v"}}}, false},
		{"bad header value", Config{Header: http.Header{"X-A": {"a\nb"}}}, false},
		{"bad key", Config{APIKey: "k\r\n"}, false},
	}
	for _, r := range rows {
		p, err := New(r.c)
		if (err == nil) != r.ok {
			t.Errorf("New(%s) = %v; want ok %v", r.name, err, r.ok)
		}
		if err == nil && r.c.Name != "" && p.Name() != r.c.Name {
			t.Errorf("Name() = %q; want %q", p.Name(), r.c.Name)
		}
	}
	// The caller's header is copied, not kept.
	h := http.Header{"X-A": {"1"}}
	p, _ := New(Config{Header: h})
	h.Set("X-A", "2")
	if p.header.Get("X-A") != "1" {
		t.Error("New keeps the caller's Header")
	}
}

func TestProviderNoModel(t *testing.T) {
	p, _ := New(Config{Transport: blockingTransport{}})
	req := chatRequest()
	req.Model = ""
	var le *llm.Error
	if _, err := p.Chat(context.Background(), req); !errors.As(err, &le) || le.Param != "model" {
		t.Errorf("Chat(no model) = %v; want invalid_request at model", err)
	}
}

// Go's client copies every header but Authorization and cookies on a
// redirect to another host: x-goog-api-key must not follow one.
func TestProviderRedirectKeepsKey(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := r.Header.Get("x-goog-api-key"); k != "" {
			t.Errorf("redirect target got x-goog-api-key %q", k)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}]}`)
	}))
	defer other.Close()
	// 127.0.0.1 and localhost are different hosts to the client.
	target := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer first.Close()
	p, err := New(Config{APIKey: "secret-key", BaseURL: first.URL + "/v1beta"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.Chat(context.Background(), &llm.Request{Model: "gemini-2.5-flash",
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}})
}

// batchEmbedContents takes at most 100 requests ("at most 100 requests can
// be in one batch"); OpenAI clients send up to 2048 inputs.
func TestProviderEmbedBatchesOf100(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Requests []json.RawMessage `json:"requests"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		if len(in.Requests) > 100 {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"code":400,"message":"* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch","status":"INVALID_ARGUMENT"}}`)
			return
		}
		var b strings.Builder
		b.WriteString(`{"embeddings":[`)
		for i := range in.Requests {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"values":[0.5]}`)
		}
		b.WriteString(`]}`)
		io.WriteString(w, b.String())
	}))
	defer srv.Close()
	p, err := New(Config{APIKey: "k", BaseURL: srv.URL + "/v1beta"})
	if err != nil {
		t.Fatal(err)
	}
	input := make([]string, 150)
	for i := range input {
		input[i] = fmt.Sprint("text ", i)
	}
	res, err := p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "gemini-embedding-001", Input: input})
	if err != nil {
		t.Fatalf("Embed(150 inputs) = %v; want batches of at most 100", err)
	}
	if len(res.Embeddings) != 150 {
		t.Errorf("Embed gave %d vectors; want 150", len(res.Embeddings))
	}
}

// pathTransport records the escaped path of each request and answers 200.
type pathTransport struct{ paths []string }

func (p *pathTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p.paths = append(p.paths, r.URL.EscapedPath())
	return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
		Body: io.NopCloser(strings.NewReader(`{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}]}`))}, nil
}

// TestProviderModelPath: a model named with its collection (a tuned
// model) is called there, each segment escaped; a bare id is a base
// model's, escaped whole, and cannot leave the collection.
func TestProviderModelPath(t *testing.T) {
	rows := []struct{ model, path string }{
		{"gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:generateContent"},
		{"models/gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:generateContent"},
		{"tunedModels/my-model-7", "/v1beta/tunedModels/my-model-7:generateContent"},
		{"tunedModels/a b", "/v1beta/tunedModels/a%20b:generateContent"},
		{"a/b", "/v1beta/models/a%2Fb:generateContent"},
		{"tunedModels/..", ""},
		{"tunedModels/a/b", ""},
		{"..", ""},
	}
	for _, r := range rows {
		tr := &pathTransport{}
		p, err := New(Config{BaseURL: "https://example.com/v1beta", Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		req := chatRequest()
		req.Model = r.model
		_, err = p.Chat(context.Background(), req)
		var le *llm.Error
		switch {
		case r.path == "" && (!errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest || len(tr.paths) != 0):
			t.Errorf("Chat(model %q) = %v, sent %v; want invalid_request, nothing sent", r.model, err, tr.paths)
		case r.path != "" && (err != nil || len(tr.paths) != 1 || tr.paths[0] != r.path):
			t.Errorf("Chat(model %q) = %v, sent %v; want %s", r.model, err, tr.paths, r.path)
		}
	}
}
