package openai_test

import (
	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

var (
	_ gateway.LLMProvider = (*openai.Provider)(nil)
	_ llm.Provider        = (*openai.Provider)(nil)
	_ llm.Streamer        = (*openai.Provider)(nil)
	_ llm.Embedder        = (*openai.Provider)(nil)
	_ llm.Passthrough     = (*openai.Provider)(nil)
)
