package echo_test

import (
	"context"
	"fmt"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/echo"
)

// ExampleNew answers a chat without a model or a network.
func ExampleNew() {
	p := echo.New("")
	res, err := p.Chat(context.Background(), &llm.Request{Model: "echo", Messages: []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hello there"}}},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Message.Text(), res.FinishReason, res.Usage.Source)
	// Output: echo: hello there stop estimated
}
