package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

// upstream is a fake OpenAI server: check inspects each request, then
// status and body are answered.
type upstream struct {
	t      *testing.T
	check  func(r *http.Request, body map[string]any)
	status int
	header http.Header
	body   string
	calls  atomic.Int32
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.calls.Add(1)
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		u.t.Errorf("request body %s is not JSON", raw)
	}
	if u.check != nil {
		u.check(r, body)
	}
	for k, v := range u.header {
		w.Header()[k] = v
	}
	if u.status != 0 {
		w.WriteHeader(u.status)
	}
	io.WriteString(w, u.body)
}

func serve(t *testing.T, u *upstream) string {
	t.Helper()
	u.t = t
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	return srv.URL
}

func chatReq() *llm.Request {
	return &llm.Request{Model: "gpt-4o-mini", Messages: []llm.Message{userText("capital of Peru?")}, MaxTokens: 50, TopK: ptr(5)}
}

func TestProviderChat(t *testing.T) {
	u := &upstream{body: string(readFile(t, "response_text.json"))}
	u.check = func(r *http.Request, body map[string]any) {
		if r.Method != "POST" || r.URL.Path != "/v1/chat/completions" {
			t.Errorf("request %s %s; want POST /v1/chat/completions", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer sk-test" {
			t.Errorf("Authorization = %q", got)
		}
		if r.Header.Get("OpenAI-Organization") != "org-1" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers = %v", r.Header)
		}
		if body["model"] != "gpt-4o-mini" || body["max_completion_tokens"] != 50.0 || body["stream"] != nil || body["max_tokens"] != nil {
			t.Errorf("body = %v", body)
		}
	}
	p, err := openai.New(openai.Config{APIKey: "sk-test", BaseURL: serve(t, u) + "/v1/", Header: http.Header{"Openai-Organization": {"org-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Chat(context.Background(), chatReq())
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Text() != "Lima is the capital of Peru." || res.Usage.InputTokens != 19 || res.Usage.Source != llm.UsageReported {
		t.Errorf("Chat = %+v", res)
	}
	hasLoss(t, res.Losses, "top_k", "no equivalent")
	if p.Name() != "openai" || p.Format() != llm.FormatOpenAI {
		t.Errorf("Name, Format = %s, %s", p.Name(), p.Format())
	}
}

func TestCompatibleChat(t *testing.T) {
	u := &upstream{body: string(readFile(t, "response_text.json"))}
	u.check = func(r *http.Request, body map[string]any) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "" {
			t.Errorf("request %s with Authorization %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		if body["max_tokens"] != 50.0 || body["max_completion_tokens"] != nil {
			t.Errorf("body = %v; want max_tokens", body)
		}
		if m := body["messages"].([]any)[0].(map[string]any); m["role"] != "system" {
			t.Errorf("first message %v; want the developer message sent as system", m)
		}
	}
	p, err := openai.NewCompatible(openai.Config{BaseURL: serve(t, u) + "/v1", Name: "ollama"})
	if err != nil {
		t.Fatal(err)
	}
	req := chatReq()
	req.Messages = append([]llm.Message{{Role: llm.RoleDeveloper, Parts: []llm.Part{{Type: llm.PartText, Text: "be brief"}}}}, req.Messages...)
	if _, err := p.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if p.Name() != "ollama" {
		t.Errorf("Name() = %s", p.Name())
	}
}

func TestAzureChat(t *testing.T) {
	u := &upstream{body: string(readFile(t, "response_text.json"))}
	u.check = func(r *http.Request, body map[string]any) {
		if r.URL.Path != "/openai/deployments/prod 4o/chat/completions" || r.URL.Query().Get("api-version") != "2024-10-21" {
			t.Errorf("request %s", r.URL)
		}
		if r.Header.Get("api-key") != "az-key" || r.Header.Get("Authorization") != "" {
			t.Errorf("headers = %v", r.Header)
		}
	}
	p, err := openai.NewAzure(openai.AzureConfig{Endpoint: serve(t, u), APIKey: "az-key", Deployments: map[string]string{"gpt-4o-mini": "prod 4o"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Chat(context.Background(), chatReq()); err != nil {
		t.Fatal(err)
	}
	req := chatReq()
	req.Model = "gpt-5"
	_, err = p.Chat(context.Background(), req)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.ErrNotFound || e.Provider != "azure" {
		t.Errorf("Chat(unknown model) = %v; want ErrNotFound from azure", err)
	}
	if u.calls.Load() != 1 {
		t.Errorf("%d calls; want 1 (none for the unknown model)", u.calls.Load())
	}
	// Without Deployments, the model names the deployment.
	u.check = func(r *http.Request, _ map[string]any) {
		if r.URL.Path != "/openai/deployments/gpt-4o-mini/chat/completions" || r.URL.Query().Get("api-version") != "2025-01-01-preview" {
			t.Errorf("request %s", r.URL)
		}
	}
	p, _ = openai.NewAzure(openai.AzureConfig{Endpoint: serve(t, u), APIKey: "k", APIVersion: "2025-01-01-preview"})
	if _, err := p.Chat(context.Background(), chatReq()); err != nil {
		t.Fatal(err)
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
		{"429 Retry-After", 429, http.Header{"Retry-After": {"7"}}, `{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, llm.ErrRateLimit, 7 * time.Second},
		{"500", 500, nil, `{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`, llm.ErrServer, 0},
		{"401", 401, nil, `{"error":{"message":"Incorrect API key provided: sk-te****","type":"invalid_request_error","code":"invalid_api_key"}}`, llm.ErrAuthentication, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &upstream{status: tt.status, header: tt.header, body: tt.body}
			p, _ := openai.New(openai.Config{APIKey: "sk-secret-key", BaseURL: serve(t, u)})
			for _, call := range []func() error{
				func() error { _, err := p.Chat(context.Background(), chatReq()); return err },
				func() error { _, err := p.Stream(context.Background(), chatReq()); return err },
				func() error {
					_, err := p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "e", Input: []string{"x"}})
					return err
				},
			} {
				err := call()
				var e *llm.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not an *llm.Error", err)
				}
				if e.Kind != tt.kind || e.RetryAfter != tt.retry || e.Provider != "openai" || e.Status != tt.status {
					t.Errorf("error = %+v; want kind %s retry %v status %d", e, tt.kind, tt.retry, tt.status)
				}
				if strings.Contains(e.Error(), "sk-secret-key") {
					t.Errorf("error %q holds the API key", e.Error())
				}
			}
		})
	}
}

func TestProviderUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p, _ := openai.NewCompatible(openai.Config{BaseURL: url, Name: "vllm"})
	_, err := p.Chat(context.Background(), chatReq())
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.ErrUnavailable || e.Provider != "vllm" {
		t.Errorf("Chat to a closed port = %v; want ErrUnavailable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Chat(ctx, chatReq())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Chat with a canceled context = %v; want context.Canceled", err)
	}
}

// blockingTransport answers when the request's context ends.
type blockingTransport struct{}

func (blockingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

func TestProviderTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := openai.New(openai.Config{APIKey: "k", Transport: blockingTransport{}, Timeout: 30 * time.Second})
		start := time.Now()
		_, err := p.Chat(context.Background(), chatReq())
		var e *llm.Error
		if !errors.As(err, &e) || e.Kind != llm.ErrTimeout {
			t.Errorf("Chat past Timeout = %v; want ErrTimeout", err)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("Chat gave up after %v; want 30s", d)
		}
	})
}

func TestProviderStream(t *testing.T) {
	u := &upstream{header: http.Header{"Content-Type": {"text/event-stream"}}, body: string(readFile(t, "stream_tools.sse"))}
	u.check = func(r *http.Request, body map[string]any) {
		so, _ := body["stream_options"].(map[string]any)
		if body["stream"] != true || so["include_usage"] != true || r.Header.Get("Accept") != "text/event-stream" {
			t.Errorf("stream request %v, Accept %q", body, r.Header.Get("Accept"))
		}
	}
	p, _ := openai.New(openai.Config{APIKey: "k", BaseURL: serve(t, u)})
	s, err := p.Stream(context.Background(), chatReq())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := drain(t, s)
	if err != io.EOF {
		t.Errorf("final error = %v", err)
	}
	want, _, _ := replay(t, "stream_tools.sse")
	if got := shows(evs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	hasLoss(t, evs[0].Losses, "top_k", "no equivalent")
}

// TestProviderStreamNotStreamed: a server that answers a stream request
// with a whole JSON response gives the same events as a stream.
func TestProviderStreamNotStreamed(t *testing.T) {
	u := &upstream{header: http.Header{"Content-Type": {"application/json"}}, body: string(readFile(t, "response_tools.json"))}
	p, _ := openai.NewCompatible(openai.Config{BaseURL: serve(t, u), Name: "deepseek"})
	s, err := p.Stream(context.Background(), chatReq())
	if err != nil {
		t.Fatal(err)
	}
	evs, err := drain(t, s)
	var acc llm.Accumulator
	for _, ev := range evs {
		acc.Add(ev)
	}
	got, _ := acc.Response()
	want, _ := openai.DecodeResponse(readFile(t, "response_tools.json"))
	if err != io.EOF || !reflect.DeepEqual(got.Message, want.Message) || got.Usage != want.Usage || got.FinishReason != want.FinishReason {
		t.Errorf("accumulated %+v, %v; want %+v", got, err, want)
	}
	hasLoss(t, evs[0].Losses, "top_k", "no equivalent")
}

// TestProviderStreamCut: a connection that drops mid-stream ends the
// stream with an error event, usage marked cut short, and an error.
func TestProviderStreamCut(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1}}\n\ndata: {\"id\":\"x\",\"cho")
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	p, _ := openai.New(openai.Config{APIKey: "k", BaseURL: srv.URL})
	s, err := p.Stream(context.Background(), chatReq())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := drain(t, s)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("final error = %v; want io.ErrUnexpectedEOF", err)
	}
	n := len(evs)
	if n < 2 || evs[n-2].Type != llm.EventUsage || evs[n-2].Usage.Source != llm.UsageCutShort || evs[n-1].Type != llm.EventError || evs[n-1].Err.Provider != "openai" {
		t.Errorf("events = %v; want usage cut short then an error from openai", shows(evs))
	}
}

// TestProviderStreamCancel: canceling the context closes the connection.
func TestProviderStreamCancel(t *testing.T) {
	gone := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the server sees the client go
		close(gone)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	p, _ := openai.New(openai.Config{APIKey: "k", BaseURL: srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := p.Stream(ctx, chatReq())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // start, part start, delta
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	evs, err := drain(t, s)
	if err == nil || err == io.EOF || len(evs) == 0 || evs[len(evs)-1].Type != llm.EventError {
		t.Errorf("after cancel: %v, %v; want an error event and an error", shows(evs), err)
	}
	s.Close()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw the connection close")
	}
}

func TestProviderEmbed(t *testing.T) {
	vecs := &llm.EmbeddingResponse{Model: "text-embedding-3-small", Embeddings: [][]float32{{0.5, -1}, {0.25, 3}}, Usage: llm.Usage{InputTokens: 4}}
	for _, tt := range []struct {
		name, format string
		mk           func(url string) (*openai.Provider, error)
	}{
		{"openai asks base64", "base64", func(url string) (*openai.Provider, error) {
			return openai.New(openai.Config{APIKey: "k", BaseURL: url})
		}},
		{"compatible asks floats", "float", func(url string) (*openai.Provider, error) {
			return openai.NewCompatible(openai.Config{BaseURL: url, Name: "ollama"})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := openai.EncodeEmbeddingResponse(vecs, tt.format)
			u := &upstream{body: string(body)}
			u.check = func(r *http.Request, b map[string]any) {
				if r.URL.Path != "/embeddings" || b["encoding_format"] != tt.format || b["dimensions"] != 2.0 || len(b["input"].([]any)) != 2 {
					t.Errorf("embeddings request %s %v", r.URL.Path, b)
				}
			}
			p, _ := tt.mk(serve(t, u))
			res, err := p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "text-embedding-3-small", Input: []string{"a", "b"}, Dimensions: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Embeddings) != 2 || res.Embeddings[1][1] != 3 || res.Usage.InputTokens != 4 {
				t.Errorf("Embed = %+v", res)
			}
		})
	}
	t.Run("azure", func(t *testing.T) {
		body, _ := openai.EncodeEmbeddingResponse(vecs, "base64")
		u := &upstream{body: string(body)}
		u.check = func(r *http.Request, _ map[string]any) {
			if r.URL.Path != "/openai/deployments/emb/embeddings" || r.URL.Query().Get("api-version") != openai.DefaultAzureAPIVersion {
				t.Errorf("request %s", r.URL)
			}
		}
		p, _ := openai.NewAzure(openai.AzureConfig{Endpoint: serve(t, u), APIKey: "k", Deployments: map[string]string{"text-embedding-3-small": "emb"}})
		if _, err := p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "text-embedding-3-small", Input: []string{"a", "b"}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("count mismatch", func(t *testing.T) {
		body, _ := openai.EncodeEmbeddingResponse(vecs, "float")
		p, _ := openai.New(openai.Config{APIKey: "k", BaseURL: serve(t, &upstream{body: string(body)})})
		if _, err := p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "m", Input: []string{"only one"}}); err == nil {
			t.Error("Embed with 2 vectors for 1 input succeeded")
		}
	})
}

func TestProviderForward(t *testing.T) {
	in := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"logit_bias":{"1":2}}`
	u := &upstream{status: 429, header: http.Header{"Retry-After": {"3"}}, body: `{"error":{"message":"slow"}}`}
	var got string
	u.check = func(r *http.Request, body map[string]any) {
		b, _ := json.Marshal(body)
		got = string(b)
		if r.URL.Path != "/openai/deployments/mini/chat/completions" || r.Header.Get("api-key") != "k" {
			t.Errorf("request %s", r.URL)
		}
	}
	p, _ := openai.NewAzure(openai.AzureConfig{Endpoint: serve(t, u), APIKey: "k", Deployments: map[string]string{"gpt-4o-mini": "mini"}})
	resp, err := p.Forward(context.Background(), llm.OpChat, "gpt-4o-mini", []byte(in), false)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || string(body) != u.body {
		t.Errorf("Forward = %d %v %s; want the 429 as it came", resp.StatusCode, resp.Header, body)
	}
	sameJSON(t, []byte(got), []byte(in))
	if _, err := p.Forward(context.Background(), llm.OpEmbed, "unknown", []byte(in), false); err == nil {
		t.Error("Forward for an unknown Azure model succeeded")
	}
}

func TestConstructorErrors(t *testing.T) {
	tests := []struct {
		name string
		mk   func() (*openai.Provider, error)
	}{
		{"New without key", func() (*openai.Provider, error) { return openai.New(openai.Config{}) }},
		{"New bad URL", func() (*openai.Provider, error) { return openai.New(openai.Config{APIKey: "k", BaseURL: "ftp://x"}) }},
		{"New URL with query", func() (*openai.Provider, error) {
			return openai.New(openai.Config{APIKey: "k", BaseURL: "https://x/v1?a=b"})
		}},
		{"New negative timeout", func() (*openai.Provider, error) { return openai.New(openai.Config{APIKey: "k", Timeout: -1}) }},
		{"compatible without URL", func() (*openai.Provider, error) { return openai.NewCompatible(openai.Config{Name: "x"}) }},
		{"compatible without name", func() (*openai.Provider, error) {
			return openai.NewCompatible(openai.Config{BaseURL: "http://localhost:11434/v1"})
		}},
		{"azure without endpoint", func() (*openai.Provider, error) { return openai.NewAzure(openai.AzureConfig{APIKey: "k"}) }},
		{"azure without key", func() (*openai.Provider, error) {
			return openai.NewAzure(openai.AzureConfig{Endpoint: "https://r.openai.azure.com"})
		}},
		{"azure empty deployment", func() (*openai.Provider, error) {
			return openai.NewAzure(openai.AzureConfig{Endpoint: "https://r.openai.azure.com", APIKey: "k", Deployments: map[string]string{"m": ""}})
		}},
	}
	for _, tt := range tests {
		if p, err := tt.mk(); err == nil || p != nil {
			t.Errorf("%s: = %v, %v; want an error", tt.name, p, err)
		}
	}
	// A key in Header is enough; the caller's Header is not changed.
	h := http.Header{"Authorization": {"Bearer t"}}
	if _, err := openai.New(openai.Config{Header: h}); err != nil {
		t.Errorf("New with Authorization in Header = %v", err)
	}
	if len(h) != 1 {
		t.Errorf("New changed the caller's Header: %v", h)
	}
}

// endlessTransport answers 200 with a body that never ends.
type endlessTransport struct{}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func (endlessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(zeros{}), Request: r}, nil
}

// TestProviderBodyBound: a response body is read up to 32 MiB, never
// without end.
func TestProviderBodyBound(t *testing.T) {
	p, _ := openai.New(openai.Config{APIKey: "k", Transport: endlessTransport{}})
	_, err := p.Chat(context.Background(), chatReq())
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.ErrServer || !strings.Contains(e.Message, "32 MiB") {
		t.Errorf("Chat with an endless body = %v; want ErrServer about the bound", err)
	}
}
