package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
)

type llmRoute = llm.Route

// TestRunWithoutKeys: with no API key in the environment the gateway
// serves every listed model from the echo provider, through both APIs,
// streamed or not.
func TestRunWithoutKeys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	noEnv := func(string) string { return "" }
	go func() { errc <- run(ctx, "127.0.0.1:0", noEnv, func(a string, _ []llmRoute) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("run: %v", err)
	}
	do := func(method, path, body string, kv ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		for i := 0; i+1 < len(kv); i += 2 {
			req.Header.Set(kv[i], kv[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := do("GET", "/v1/models", "")
	var list struct{ Data []struct{ ID string } }
	json.Unmarshal([]byte(body), &list)
	if code != 200 || len(list.Data) < 5 {
		t.Fatalf("GET /v1/models = %d %s", code, body)
	}
	for _, m := range list.Data {
		if code, body := do("POST", "/v1/chat/completions", `{"model":"`+m.ID+`","messages":[{"role":"user","content":"hi there"}]}`); code != 200 || !strings.Contains(body, "echo: hi there") {
			t.Errorf("OpenAI chat with %s = %d %s", m.ID, code, body)
		}
		if code, body := do("POST", "/v1/messages", `{"model":"`+m.ID+`","max_tokens":50,"messages":[{"role":"user","content":"hi there"}]}`, "Anthropic-Version", "2023-06-01"); code != 200 || !strings.Contains(body, "echo: hi there") {
			t.Errorf("Anthropic messages with %s = %d %s", m.ID, code, body)
		}
	}
	code, body = do("POST", "/v1/chat/completions", `{"model":"fast","stream":true,"messages":[{"role":"user","content":"a b"}]}`)
	if code != 200 || !strings.Contains(body, `"content":"a "`) || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Errorf("OpenAI stream = %d %s", code, body)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("run after cancel = %v", err)
	}
}

// TestRoutesFromEnvironment: a key sends its family's models, and the
// alias fast, to the real provider; the others stay on echo.
func TestRoutesFromEnvironment(t *testing.T) {
	env := map[string]string{"ANTHROPIC_API_KEY": "sk-test"}
	rs, err := routes(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	byModel := map[string]llmRoute{}
	for _, rt := range rs {
		byModel[rt.Model] = rt
	}
	for model, want := range map[string]string{"claude-sonnet-4-5": "anthropic", "gpt-4o-mini": "echo", "gemini-2.5-flash": "echo", "echo": "echo", "fast": "anthropic"} {
		if got := byModel[model].Provider.Name(); got != want {
			t.Errorf("model %s -> %s; want %s", model, got, want)
		}
	}
	if fast := byModel["fast"]; fast.UpstreamModel() != "claude-haiku-4-5" {
		t.Errorf("fast -> %s; want claude-haiku-4-5", fast.UpstreamModel())
	}
}
