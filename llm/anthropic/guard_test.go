package anthropic_test

import (
	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

var (
	_ llm.Provider    = (*anthropic.Provider)(nil)
	_ llm.Streamer    = (*anthropic.Provider)(nil)
	_ llm.Passthrough = (*anthropic.Provider)(nil)
	_ llm.Stream      = (*anthropic.StreamDecoder)(nil)
)
