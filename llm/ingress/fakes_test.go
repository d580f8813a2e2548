package ingress_test

// Fake upstreams for the tests of the official clients (sdk_*_test.go):
// httptest servers that speak each provider's own wire format, reached
// through the real providers, behind an ingress Handler.

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vivremotion/gateway/llm"
	llmanthropic "github.com/vivremotion/gateway/llm/anthropic"
	"github.com/vivremotion/gateway/llm/echo"
	"github.com/vivremotion/gateway/llm/gemini"
	"github.com/vivremotion/gateway/llm/ingress"
	llmopenai "github.com/vivremotion/gateway/llm/openai"
)

// What the fakes say, and the tool they call.
const (
	toolName    = "get_weather"
	toolArgs    = `{"city":"Paris"}`
	toolResult  = `{"sky":"sunny","temp_c":21}`
	afterTool   = "It is sunny in Paris."
	promptText  = "Say hi"
	openaiKey   = "k-openai"
	anthropKey  = "k-anthropic"
	geminiKey   = "k-gemini"
	clientKey   = "client-key"
	openaiCall  = "call_oa1"
	anthropCall = "toolu_an1"
)

// The upstream names of the routed models.
const (
	openaiModel   = "gpt-4o-mini"
	anthropModel  = "claude-sonnet-4-5"
	geminiModel   = "gemini-2.0-flash"
	openaiEmbed   = "text-embedding-3-small"
	geminiEmbed   = "text-embedding-004"
	routeOpenAI   = "oa-chat"
	routeAnthrop  = "an-chat"
	routeGemini   = "gm-chat"
	routeEcho     = "echo"
	routeOAEmbed  = "oa-embed"
	routeGemEmbed = "gm-embed"
)

// pieces is the text a fake of format name streams; their sum is
// replyText(name).
func pieces(name string) []string { return []string{"Hello", " from", " " + name} }

func replyText(name string) string { return strings.Join(pieces(name), "") }

// toolArgPieces are the argument deltas of a streamed tool call.
var toolArgPieces = []string{`{"city":`, `"Paris"}`}

// usage is a fake's token counts: prompt, cached (part of prompt), output.
type usage struct{ prompt, cached, output int64 }

// The usage each fake reports, in its own terms: OpenAI's prompt_tokens
// include the cached; Anthropic's input_tokens do not.
var (
	openaiUsage  = usage{prompt: 11, cached: 2, output: 7}
	anthropUsage = usage{prompt: 15, cached: 3, output: 8} // input_tokens 12 + cache_read 3
	geminiUsage  = usage{prompt: 13, output: 9}
)

// received is one request a fake upstream received.
type received struct {
	Path   string // with the query
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// failure is what a fake answers every request with while it is set.
type failure struct {
	status int
	header http.Header
	body   string
}

// upstream is a fake provider.
type upstream struct {
	t    *testing.T
	name string // openai, anthropic, gemini
	srv  *httptest.Server

	mu   sync.Mutex
	reqs []received
	fail *failure
	// hang, when set, makes a streamed answer stop before its last two
	// events and wait for the request's end, then close gone.
	hang bool
	gone chan struct{}
	stop chan struct{} // closed when the test ends
	// midErr, when set, ends a streamed answer after its first piece of
	// text with an error event: the upstream overloaded.
	midErr bool
}

func newUpstream(t *testing.T, name string) *upstream {
	u := &upstream{t: t, name: name, gone: make(chan struct{}), stop: make(chan struct{})}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

// failWith makes every later request fail with status, header (pairs of
// name and value) and body.
func (u *upstream) failWith(status int, body string, header ...string) {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	u.mu.Lock()
	u.fail = &failure{status: status, header: h, body: body}
	u.mu.Unlock()
}

func (u *upstream) errorMidStream() {
	u.mu.Lock()
	u.midErr = true
	u.mu.Unlock()
}

func (u *upstream) hangStreams() {
	u.mu.Lock()
	u.hang = true
	u.mu.Unlock()
}

// requests returns what the fake received so far.
func (u *upstream) requests() []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]received(nil), u.reqs...)
}

// last returns the last request the fake received; the test fails when
// there was none.
func (u *upstream) last() received {
	u.t.Helper()
	rs := u.requests()
	if len(rs) == 0 {
		u.t.Fatalf("%s upstream received no request", u.name)
	}
	return rs[len(rs)-1]
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := received{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Raw: raw}
	if err := json.Unmarshal(raw, &rec.Body); err != nil {
		http.Error(w, "fake: body is not a JSON object: "+err.Error(), http.StatusBadRequest)
		return
	}
	u.mu.Lock()
	u.reqs = append(u.reqs, rec)
	fail, hang, midErr := u.fail, u.hang, u.midErr
	u.mu.Unlock()
	if fail != nil {
		for k, vs := range fail.header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(fail.status)
		io.WriteString(w, fail.body)
		return
	}
	var s *sseOut
	switch u.name {
	case "openai":
		s = u.serveOpenAI(w, r, rec.Body)
	case "anthropic":
		s = u.serveAnthropic(w, r, rec.Body)
	case "gemini":
		s = u.serveGemini(w, r, rec.Body)
	}
	if s == nil {
		return
	}
	if midErr {
		// The first piece of text, then the format's error event.
		keep := map[string]int{"openai": 2, "anthropic": 4, "gemini": 1}[u.name]
		s.events = append(s.events[:keep], map[string]string{
			"openai":    `data: {"error":{"message":"The server is overloaded.","type":"server_error","param":null,"code":null}}`,
			"anthropic": "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
			"gemini":    `data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`,
		}[u.name])
	}
	if hang {
		// All but the last two events (the text has begun, the stream
		// has not ended), then wait for the gateway to go away.
		s.flush(max(1, len(s.events)-2))
		select {
		case <-r.Context().Done():
			close(u.gone)
		case <-u.stop: // the test failed and ends
		}
		return
	}
	s.flush(len(s.events))
}

// sseOut collects a stream's events, to write them all, or only the first.
type sseOut struct {
	w      http.ResponseWriter
	events []string
	crlf   bool
}

func newSSE(w http.ResponseWriter) *sseOut {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return &sseOut{w: w}
}

// data adds an event of a data field only; event adds one with a name.
func (s *sseOut) data(v string) { s.events = append(s.events, "data: "+v) }
func (s *sseOut) event(name string, v string) {
	s.events = append(s.events, "event: "+name+"\ndata: "+v)
}

func (s *sseOut) flush(n int) {
	sep := "\n\n"
	if s.crlf {
		sep = "\r\n\r\n"
	}
	for _, e := range s.events[:n] {
		if s.crlf {
			e = strings.ReplaceAll(e, "\n", "\r\n")
		}
		io.WriteString(s.w, e+sep)
		s.w.(http.Flusher).Flush()
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// --- OpenAI ---

func (u *upstream) serveOpenAI(w http.ResponseWriter, r *http.Request, body map[string]any) *sseOut {
	switch r.URL.Path {
	case "/v1/embeddings":
		u.openaiEmbeddings(w, body)
		return nil
	case "/v1/chat/completions":
	default:
		http.Error(w, "fake openai: no route "+r.URL.Path, http.StatusNotFound)
		return nil
	}
	model, _ := body["model"].(string)
	stream, _ := body["stream"].(bool)
	msgs, _ := body["messages"].([]any)
	tools, _ := body["tools"].([]any)
	hasResult := false
	for _, m := range msgs {
		if mm, _ := m.(map[string]any); mm["role"] == "tool" {
			hasResult = true
		}
	}
	callTool := len(tools) > 0 && !hasResult
	text := replyText("openai")
	if hasResult {
		text = afterTool
	}
	us := map[string]any{
		"prompt_tokens": openaiUsage.prompt, "completion_tokens": openaiUsage.output,
		"total_tokens":              openaiUsage.prompt + openaiUsage.output,
		"prompt_tokens_details":     map[string]any{"cached_tokens": openaiUsage.cached, "audio_tokens": 0},
		"completion_tokens_details": map[string]any{"reasoning_tokens": 0, "audio_tokens": 0},
	}
	const id, created = "chatcmpl-fake1", 1700000000
	if !stream {
		msg := map[string]any{"role": "assistant", "content": text, "refusal": nil}
		finish := "stop"
		if callTool {
			msg["content"] = nil
			msg["tool_calls"] = []any{map[string]any{"id": openaiCall, "type": "function",
				"function": map[string]any{"name": toolName, "arguments": toolArgs}}}
			finish = "tool_calls"
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, mustJSON(map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": model + "-2024-07-18",
			"choices":            []any{map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
			"usage":              us,
			"system_fingerprint": "fp_fake",
		}))
		return nil
	}
	includeUsage := false
	if so, _ := body["stream_options"].(map[string]any); so != nil {
		includeUsage, _ = so["include_usage"].(bool)
	}
	s := newSSE(w)
	chunk := func(delta map[string]any, finish any) {
		c := map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model + "-2024-07-18",
			"system_fingerprint": "fp_fake",
			"choices":            []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}}
		if includeUsage {
			c["usage"] = nil
		}
		s.data(mustJSON(c))
	}
	if callTool {
		chunk(map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
			"index": 0, "id": openaiCall, "type": "function", "function": map[string]any{"name": toolName, "arguments": ""}}}}, nil)
		for _, p := range toolArgPieces {
			chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": p}}}}, nil)
		}
		chunk(map[string]any{}, "tool_calls")
	} else {
		chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)
		ps := pieces("openai")
		if hasResult {
			ps = []string{afterTool}
		}
		for _, p := range ps {
			chunk(map[string]any{"content": p}, nil)
		}
		chunk(map[string]any{}, "stop")
	}
	if includeUsage {
		s.data(mustJSON(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created,
			"model": model + "-2024-07-18", "system_fingerprint": "fp_fake", "choices": []any{}, "usage": us}))
	}
	s.data("[DONE]")
	return s
}

// embedVector is the vector a fake gives input: numbers a float32 holds
// exactly.
func embedVector(input string) []float32 { return []float32{0.5, -0.25, float32(len(input))} }

func (u *upstream) openaiEmbeddings(w http.ResponseWriter, body map[string]any) {
	var inputs []string
	switch in := body["input"].(type) {
	case string:
		inputs = []string{in}
	case []any:
		for _, v := range in {
			s, _ := v.(string)
			inputs = append(inputs, s)
		}
	}
	b64 := body["encoding_format"] == "base64"
	data := make([]any, len(inputs))
	for i, in := range inputs {
		vec := embedVector(in)
		var emb any = vec
		if b64 {
			buf := make([]byte, 4*len(vec))
			for k, f := range vec {
				binary.LittleEndian.PutUint32(buf[4*k:], math.Float32bits(f))
			}
			emb = base64.StdEncoding.EncodeToString(buf)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, mustJSON(map[string]any{"object": "list", "data": data, "model": body["model"],
		"usage": map[string]any{"prompt_tokens": 5, "total_tokens": 5}}))
}

// --- Anthropic ---

func (u *upstream) serveAnthropic(w http.ResponseWriter, r *http.Request, body map[string]any) *sseOut {
	if r.URL.Path != "/v1/messages" {
		http.Error(w, "fake anthropic: no route "+r.URL.Path, http.StatusNotFound)
		return nil
	}
	model, _ := body["model"].(string)
	stream, _ := body["stream"].(bool)
	tools, _ := body["tools"].([]any)
	hasResult := len(anthropicToolResults(body)) > 0
	callTool := len(tools) > 0 && !hasResult
	text := replyText("anthropic")
	if hasResult {
		text = afterTool
	}
	const id = "msg_fake1"
	input := anthropUsage.prompt - anthropUsage.cached
	if !stream {
		var content []any
		stop := "end_turn"
		if callTool {
			content = []any{map[string]any{"type": "tool_use", "id": anthropCall, "name": toolName, "input": json.RawMessage(toolArgs)}}
			stop = "tool_use"
		} else {
			content = []any{map[string]any{"type": "text", "text": text}}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_fake")
		io.WriteString(w, mustJSON(map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
			"stop_reason": stop, "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": input, "cache_creation_input_tokens": 0,
				"cache_read_input_tokens": anthropUsage.cached, "output_tokens": anthropUsage.output},
		}))
		return nil
	}
	s := newSSE(w)
	s.event("message_start", mustJSON(map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": input, "cache_creation_input_tokens": 0,
			"cache_read_input_tokens": anthropUsage.cached, "output_tokens": 1}}}))
	stop := "end_turn"
	if callTool {
		s.event("content_block_start", mustJSON(map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "tool_use", "id": anthropCall, "name": toolName, "input": map[string]any{}}}))
		s.event("ping", `{"type": "ping"}`)
		for _, p := range toolArgPieces {
			s.event("content_block_delta", mustJSON(map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "input_json_delta", "partial_json": p}}))
		}
		stop = "tool_use"
	} else {
		s.event("content_block_start", mustJSON(map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}}))
		s.event("ping", `{"type": "ping"}`)
		ps := pieces("anthropic")
		if hasResult {
			ps = []string{afterTool}
		}
		for _, p := range ps {
			s.event("content_block_delta", mustJSON(map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "text_delta", "text": p}}))
		}
	}
	s.event("content_block_stop", `{"type":"content_block_stop","index":0}`)
	s.event("message_delta", mustJSON(map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": anthropUsage.output}}))
	s.event("message_stop", `{"type":"message_stop"}`)
	return s
}

// anthropicToolResults returns the tool_result blocks of an Anthropic
// request's user turns.
func anthropicToolResults(body map[string]any) []map[string]any {
	var out []map[string]any
	msgs, _ := body["messages"].([]any)
	for _, m := range msgs {
		mm, _ := m.(map[string]any)
		if mm["role"] != "user" {
			continue
		}
		blocks, _ := mm["content"].([]any)
		for _, b := range blocks {
			if bm, _ := b.(map[string]any); bm["type"] == "tool_result" {
				out = append(out, bm)
			}
		}
	}
	return out
}

// --- Gemini ---

func (u *upstream) serveGemini(w http.ResponseWriter, r *http.Request, body map[string]any) *sseOut {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1beta/models/")
	model, method, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		http.Error(w, "fake gemini: no route "+r.URL.Path, http.StatusNotFound)
		return nil
	}
	switch method {
	case "batchEmbedContents":
		reqs, _ := body["requests"].([]any)
		embs := make([]any, len(reqs))
		for i, rq := range reqs {
			text := ""
			if c, _ := rq.(map[string]any)["content"].(map[string]any); c != nil {
				if ps, _ := c["parts"].([]any); len(ps) > 0 {
					text, _ = ps[0].(map[string]any)["text"].(string)
				}
			}
			embs[i] = map[string]any{"values": embedVector(text)}
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, mustJSON(map[string]any{"embeddings": embs}))
		return nil
	case "generateContent", "streamGenerateContent":
	default:
		http.Error(w, "fake gemini: no method "+method, http.StatusNotFound)
		return nil
	}
	stream := method == "streamGenerateContent"
	if stream && r.URL.Query().Get("alt") != "sse" {
		http.Error(w, "fake gemini: streams only as alt=sse", http.StatusBadRequest)
		return nil
	}
	tools, _ := body["tools"].([]any)
	hasResult := len(geminiFunctionResponses(body)) > 0
	callTool := len(tools) > 0 && !hasResult
	text := replyText("gemini")
	if hasResult {
		text = afterTool
	}
	usageMeta := func(final bool) map[string]any {
		if !final {
			return map[string]any{"promptTokenCount": geminiUsage.prompt, "totalTokenCount": geminiUsage.prompt}
		}
		return map[string]any{"promptTokenCount": geminiUsage.prompt, "candidatesTokenCount": geminiUsage.output,
			"totalTokenCount": geminiUsage.prompt + geminiUsage.output}
	}
	respond := func(parts []any, finish string, final bool) map[string]any {
		cand := map[string]any{"content": map[string]any{"role": "model", "parts": parts}, "index": 0}
		if finish != "" {
			cand["finishReason"] = finish
		}
		return map[string]any{"candidates": []any{cand}, "usageMetadata": usageMeta(final),
			"modelVersion": model, "responseId": "gem-fake1"}
	}
	call := map[string]any{"functionCall": map[string]any{"name": toolName, "args": json.RawMessage(toolArgs)}}
	if !stream {
		parts := []any{map[string]any{"text": text}}
		if callTool {
			parts = []any{call}
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, mustJSON(respond(parts, "STOP", true)))
		return nil
	}
	s := newSSE(w)
	s.crlf = true // as Google's servers write it
	switch {
	case callTool:
		s.data(mustJSON(respond([]any{call}, "STOP", true)))
	case hasResult:
		s.data(mustJSON(respond([]any{map[string]any{"text": afterTool}}, "STOP", true)))
	default:
		ps := pieces("gemini")
		for i, p := range ps {
			finish, final := "", i == len(ps)-1
			if final {
				finish = "STOP"
			}
			s.data(mustJSON(respond([]any{map[string]any{"text": p}}, finish, final)))
		}
	}
	return s
}

// geminiFunctionResponses returns the functionResponse parts of a Gemini
// request.
func geminiFunctionResponses(body map[string]any) []map[string]any {
	var out []map[string]any
	contents, _ := body["contents"].([]any)
	for _, c := range contents {
		parts, _ := c.(map[string]any)["parts"].([]any)
		for _, p := range parts {
			if fr, _ := p.(map[string]any)["functionResponse"].(map[string]any); fr != nil {
				out = append(out, fr)
			}
		}
	}
	return out
}

// --- the gateway ---

// env is a gateway over the three fakes and the echo provider.
type env struct {
	openai, anthropic, gemini *upstream
	gw                        *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{openai: newUpstream(t, "openai"), anthropic: newUpstream(t, "anthropic"), gemini: newUpstream(t, "gemini")}
	oa, err := llmopenai.New(llmopenai.Config{BaseURL: e.openai.srv.URL + "/v1", APIKey: openaiKey})
	if err != nil {
		t.Fatal(err)
	}
	an, err := llmanthropic.New(llmanthropic.Config{BaseURL: e.anthropic.srv.URL, APIKey: anthropKey})
	if err != nil {
		t.Fatal(err)
	}
	gm, err := gemini.New(gemini.Config{BaseURL: e.gemini.srv.URL + "/v1beta", APIKey: geminiKey})
	if err != nil {
		t.Fatal(err)
	}
	router, err := llm.NewRouter(
		llm.Route{Model: routeOpenAI, Provider: oa, Upstream: openaiModel},
		llm.Route{Model: routeAnthrop, Provider: an, Upstream: anthropModel},
		llm.Route{Model: routeGemini, Provider: gm, Upstream: geminiModel},
		llm.Route{Model: routeEcho, Provider: echo.New("")},
		llm.Route{Model: routeOAEmbed, Provider: oa, Upstream: openaiEmbed},
		llm.Route{Model: routeGemEmbed, Provider: gm, Upstream: geminiEmbed},
	)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ingress.New(ingress.Config{Router: router, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	e.gw = httptest.NewServer(h)
	t.Cleanup(e.gw.Close)
	t.Cleanup(func() { // first: a stream a fake holds lets go, so the servers can close
		close(e.openai.stop)
		close(e.anthropic.stop)
		close(e.gemini.stop)
	})
	return e
}

// target is one upstream format, as the tests go over them.
type target struct {
	name  string // the fake's format
	model string // the route's name, as clients ask for it
	up    func(*env) *upstream
	usage usage
}

var targets = []target{
	{"openai", routeOpenAI, func(e *env) *upstream { return e.openai }, openaiUsage},
	{"anthropic", routeAnthrop, func(e *env) *upstream { return e.anthropic }, anthropUsage},
	{"gemini", routeGemini, func(e *env) *upstream { return e.gemini }, geminiUsage},
}

// checkUpstream asserts that a fake received a request in its own format
// for the route's upstream model, with the gateway's key (not the
// client's), and that it holds promptText.
func checkUpstream(t *testing.T, tg target, rec received, stream bool) {
	t.Helper()
	switch tg.name {
	case "openai":
		if got := rec.Header.Get("Authorization"); got != "Bearer "+openaiKey {
			t.Errorf("openai upstream Authorization = %q; want %q", got, "Bearer "+openaiKey)
		}
		if !strings.HasPrefix(rec.Path, "/v1/chat/completions") {
			t.Errorf("openai upstream path = %q; want /v1/chat/completions", rec.Path)
		}
		if rec.Body["model"] != openaiModel {
			t.Errorf("openai upstream model = %v; want %q", rec.Body["model"], openaiModel)
		}
		if got, _ := rec.Body["stream"].(bool); got != stream {
			t.Errorf("openai upstream stream = %v; want %v", rec.Body["stream"], stream)
		}
	case "anthropic":
		if got := rec.Header.Get("X-Api-Key"); got != anthropKey {
			t.Errorf("anthropic upstream x-api-key = %q; want %q", got, anthropKey)
		}
		if rec.Header.Get("Anthropic-Version") == "" {
			t.Error("anthropic upstream got no anthropic-version")
		}
		if got := rec.Header.Get("Authorization"); got != "" {
			t.Errorf("anthropic upstream Authorization = %q; want none (the client's must not pass)", got)
		}
		if rec.Path != "/v1/messages" {
			t.Errorf("anthropic upstream path = %q; want /v1/messages", rec.Path)
		}
		if rec.Body["model"] != anthropModel {
			t.Errorf("anthropic upstream model = %v; want %q", rec.Body["model"], anthropModel)
		}
		if mt, _ := rec.Body["max_tokens"].(float64); mt <= 0 {
			t.Errorf("anthropic upstream max_tokens = %v; want > 0", rec.Body["max_tokens"])
		}
		if got, _ := rec.Body["stream"].(bool); got != stream {
			t.Errorf("anthropic upstream stream = %v; want %v", rec.Body["stream"], stream)
		}
	case "gemini":
		if got := rec.Header.Get("X-Goog-Api-Key"); got != geminiKey {
			t.Errorf("gemini upstream x-goog-api-key = %q; want %q", got, geminiKey)
		}
		if got := rec.Header.Get("Authorization"); got != "" {
			t.Errorf("gemini upstream Authorization = %q; want none (the client's must not pass)", got)
		}
		want := "/v1beta/models/" + geminiModel + ":generateContent"
		if stream {
			want = "/v1beta/models/" + geminiModel + ":streamGenerateContent?alt=sse"
		}
		if rec.Path != want {
			t.Errorf("gemini upstream path = %q; want %q", rec.Path, want)
		}
	}
	if !strings.Contains(string(rec.Raw), promptText) {
		t.Errorf("%s upstream body lacks the prompt %q: %s", tg.name, promptText, rec.Raw)
	}
}

// checkToolResult asserts that the second turn reached a fake with the
// tool's result, in the fake's format, for the call it made.
func checkToolResult(t *testing.T, tg target, rec received) {
	t.Helper()
	switch tg.name {
	case "openai":
		msgs, _ := rec.Body["messages"].([]any)
		var call, result map[string]any
		for _, m := range msgs {
			mm, _ := m.(map[string]any)
			switch mm["role"] {
			case "assistant":
				if tcs, _ := mm["tool_calls"].([]any); len(tcs) > 0 {
					call, _ = tcs[0].(map[string]any)
				}
			case "tool":
				result = mm
			}
		}
		if call == nil || call["id"] != openaiCall {
			t.Errorf("openai upstream: assistant tool call = %v; want id %q", call, openaiCall)
		} else if fn, _ := call["function"].(map[string]any); fn["name"] != toolName || !jsonEqual(fn["arguments"], toolArgs) {
			t.Errorf("openai upstream: assistant tool call function = %v; want %s(%s)", fn, toolName, toolArgs)
		}
		if result == nil {
			t.Fatalf("openai upstream: no tool message in %s", rec.Raw)
		}
		if result["tool_call_id"] != openaiCall {
			t.Errorf("openai upstream: tool_call_id = %v; want %q", result["tool_call_id"], openaiCall)
		}
		if !strings.Contains(mustJSON(result["content"]), "sunny") {
			t.Errorf("openai upstream: tool content = %v; want the result %s", result["content"], toolResult)
		}
	case "anthropic":
		rs := anthropicToolResults(rec.Body)
		if len(rs) != 1 {
			t.Fatalf("anthropic upstream: %d tool_result blocks; want 1: %s", len(rs), rec.Raw)
		}
		if rs[0]["tool_use_id"] != anthropCall {
			t.Errorf("anthropic upstream: tool_use_id = %v; want %q", rs[0]["tool_use_id"], anthropCall)
		}
		if !strings.Contains(mustJSON(rs[0]["content"]), "sunny") {
			t.Errorf("anthropic upstream: tool_result content = %v; want the result %s", rs[0]["content"], toolResult)
		}
		if !strings.Contains(string(rec.Raw), `"type":"tool_use","id":"`+anthropCall+`"`) &&
			!strings.Contains(string(rec.Raw), `"id":"`+anthropCall+`"`) {
			t.Errorf("anthropic upstream: no assistant tool_use %q before the result: %s", anthropCall, rec.Raw)
		}
	case "gemini":
		rs := geminiFunctionResponses(rec.Body)
		if len(rs) != 1 {
			t.Fatalf("gemini upstream: %d functionResponse parts; want 1: %s", len(rs), rec.Raw)
		}
		// Gemini's calls come without ids: the function's name ties the
		// response to its call.
		if rs[0]["name"] != toolName {
			t.Errorf("gemini upstream: functionResponse name = %v; want %q", rs[0]["name"], toolName)
		}
		if !jsonEqual(mustJSON(rs[0]["response"]), toolResult) {
			t.Errorf("gemini upstream: functionResponse response = %s; want %s", mustJSON(rs[0]["response"]), toolResult)
		}
		if !strings.Contains(string(rec.Raw), `"functionCall":{"name":"`+toolName+`"`) {
			t.Errorf("gemini upstream: no model functionCall before the response: %s", rec.Raw)
		}
	}
}

// jsonEqual reports whether a (a JSON string, or a value to marshal) and
// b hold the same JSON value.
func jsonEqual(a any, b string) bool {
	s, ok := a.(string)
	if !ok {
		s = mustJSON(a)
	}
	var x, y any
	if json.Unmarshal([]byte(s), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return mustJSON(x) == mustJSON(y)
}

// errorCase is an upstream failure, in each fake's own words.
type errorCase struct {
	name string
	// fail makes tg's fake fail.
	fail func(u *upstream)
}

// failRateLimit makes u answer 429 with Retry-After: 7, in its format.
func failRateLimit(u *upstream) {
	switch u.name {
	case "openai":
		u.failWith(429, `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, "Retry-After", "7")
	case "anthropic":
		u.failWith(429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`, "Retry-After", "7", "Request-Id", "req_fake")
	case "gemini":
		u.failWith(429, `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}`)
	}
}

// failAuth makes u refuse the gateway's key.
func failAuth(u *upstream) {
	switch u.name {
	case "openai":
		u.failWith(401, `{"error":{"message":"Incorrect API key provided: k-openai.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	case "anthropic":
		u.failWith(401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
	case "gemini":
		u.failWith(401, `{"error":{"code":401,"message":"API key not valid. Please pass a valid API key.","status":"UNAUTHENTICATED"}}`)
	}
}

// failServer makes u answer 500.
func failServer(u *upstream) {
	switch u.name {
	case "openai":
		u.failWith(500, `{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`)
	case "anthropic":
		u.failWith(500, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`)
	case "gemini":
		u.failWith(500, `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`)
	}
}

// failOverloaded makes u say it is overloaded: 503 (OpenAI, Gemini) or
// 529 (Anthropic).
func failOverloaded(u *upstream) {
	switch u.name {
	case "openai":
		u.failWith(503, `{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}`)
	case "anthropic":
		u.failWith(529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	case "gemini":
		u.failWith(503, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// String makes received readable in failures.
func (r received) String() string { return fmt.Sprintf("%s %s", r.Path, r.Raw) }
