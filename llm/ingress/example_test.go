package ingress_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/echo"
	"github.com/vivremotion/gateway/llm/ingress"
)

// ExampleNew serves the OpenAI and Anthropic APIs over one router; both
// clients reach every model.
func ExampleNew() {
	router, err := llm.NewRouter(llm.Route{Model: "echo", Provider: echo.New("")})
	if err != nil {
		panic(err)
	}
	h, err := ingress.New(ingress.Config{Router: router})
	if err != nil {
		panic(err)
	}
	for _, r := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"echo","messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/messages", `{"model":"echo","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", r.path, strings.NewReader(r.body)))
		b, _ := io.ReadAll(w.Body)
		fmt.Println(w.Code, strings.Contains(string(b), "echo: hi"))
	}
	// Output:
	// 200 true
	// 200 true
}
