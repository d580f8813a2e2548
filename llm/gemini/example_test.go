package gemini_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/gemini"
)

func ExampleNew() {
	// A stand-in for generativelanguage.googleapis.com.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"Bonjour !"}]},"finishReason":"STOP","index":0}],
		"usageMetadata":{"promptTokenCount":6,"candidatesTokenCount":3,"thoughtsTokenCount":4,"totalTokenCount":13},"modelVersion":"gemini-2.5-flash"}`)
	}))
	defer api.Close()

	// The key comes from the environment or a secret store in real use;
	// BaseURL defaults to the public API.
	p, err := gemini.New(gemini.Config{APIKey: "AIza-example", BaseURL: api.URL + "/v1beta"})
	if err != nil {
		log.Fatal(err)
	}
	res, err := p.Chat(context.Background(), &llm.Request{
		Model:    "gemini-2.5-flash",
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Say hello in French."}}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Message.Text(), res.FinishReason)
	fmt.Printf("in %d, out %d (reasoning %d)\n", res.Usage.InputTokens, res.Usage.OutputTokens, res.Usage.ReasoningTokens)
	// Output:
	// Bonjour ! stop
	// in 6, out 7 (reasoning 4)
}

func ExampleDecodeRequestFor() {
	req, err := gemini.DecodeRequestFor("gemini-2.5-pro", []byte(`{
	  "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
	  "generationConfig": {"maxOutputTokens": 100},
	  "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
	}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Model, req.MaxTokens, req.Messages[0].Text())
	// Sent to another format, safetySettings is reported as a loss.
	for k := range req.Extra {
		fmt.Println("extra:", k)
	}
	// Output:
	// gemini-2.5-pro 100 Hi
	// extra: safetySettings
}
