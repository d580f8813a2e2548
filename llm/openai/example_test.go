package openai_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

// fakeOpenAI answers every chat completion with "Lima.", and shows the
// path and auth header it was called with.
func fakeOpenAI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		auth := r.Header.Get("Authorization")
		if k := r.Header.Get("api-key"); k != "" {
			auth = "api-key " + k
		}
		fmt.Printf("POST %s (%s)\n", r.URL.RequestURI(), auth)
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini",
			"choices":[{"index":0,"message":{"role":"assistant","content":"Lima."},"finish_reason":"stop"}],
			"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}`)
	}))
}

func ask(p llm.Provider) {
	res, err := p.Chat(context.Background(), &llm.Request{
		Model:    "gpt-4o-mini",
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Capital of Peru?"}}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s (%d in, %d out)\n", p.Name(), res.Message.Text(), res.Usage.InputTokens, res.Usage.OutputTokens)
}

func ExampleNew() {
	srv := fakeOpenAI()
	defer srv.Close()

	p, err := openai.New(openai.Config{
		APIKey:  "sk-example",    // from the environment or a secret store in real use
		BaseURL: srv.URL + "/v1", // leave empty for https://api.openai.com/v1
	})
	if err != nil {
		log.Fatal(err)
	}
	ask(p)
	// Output:
	// POST /v1/chat/completions (Bearer sk-example)
	// openai: Lima. (12 in, 2 out)
}

func ExampleNewCompatible() {
	srv := fakeOpenAI()
	defer srv.Close()

	// A local Ollama needs no key: only its URL and a name for routing.
	p, err := openai.NewCompatible(openai.Config{
		BaseURL: srv.URL + "/v1", // "http://localhost:11434/v1" for Ollama
		Name:    "ollama",
	})
	if err != nil {
		log.Fatal(err)
	}
	ask(p)
	// Output:
	// POST /v1/chat/completions ()
	// ollama: Lima. (12 in, 2 out)
}

func ExampleNewAzure() {
	srv := fakeOpenAI()
	defer srv.Close()

	p, err := openai.NewAzure(openai.AzureConfig{
		Endpoint: srv.URL, // "https://my-resource.openai.azure.com"
		APIKey:   "az-example",
		// Only the models listed here are served; others are ErrNotFound.
		Deployments: map[string]string{"gpt-4o-mini": "mini-prod"},
	})
	if err != nil {
		log.Fatal(err)
	}
	ask(p)
	// Output:
	// POST /openai/deployments/mini-prod/chat/completions?api-version=2024-10-21 (api-key az-example)
	// azure: Lima. (12 in, 2 out)
}
