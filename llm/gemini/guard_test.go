package gemini_test

import (
	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/gemini"
)

var (
	_ llm.Provider    = (*gemini.Provider)(nil)
	_ llm.Streamer    = (*gemini.Provider)(nil)
	_ llm.Embedder    = (*gemini.Provider)(nil)
	_ llm.Passthrough = (*gemini.Provider)(nil)
)
