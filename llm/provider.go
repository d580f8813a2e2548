// Package llm holds the normalized model of large-language-model requests and
// responses and the [Provider] interface that every LLM backend implements.
package llm

import "context"

// Role is the author of a [Message].
type Role string

// The roles of the normalized model.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one turn of a conversation.
type Message struct {
	Role    Role
	Content string
}

// Request is a chat request in the normalized model.
type Request struct {
	// Model names the model the caller asked for.
	Model    string
	Messages []Message
	// MaxTokens caps the output; 0 means the provider's default.
	MaxTokens int
	// Temperature, when not nil, is the sampling temperature.
	Temperature *float64
}

// UsageSource tells where a [Usage] figure came from.
type UsageSource uint8

// The sources of usage figures.
const (
	// UsageReported: the provider reported the figures.
	UsageReported UsageSource = iota
	// UsageEstimated: the gateway counted them because the provider did not.
	UsageEstimated
	// UsageCutShort: the response ended early; the figures cover what arrived.
	UsageCutShort
)

// Usage is the token count of one exchange.
type Usage struct {
	InputTokens  int64
	OutputTokens int64
	Source       UsageSource
}

// Response is a complete (non-streamed) chat response in the normalized
// model.
type Response struct {
	// Model is the model that answered, as the provider names it.
	Model   string
	Message Message
	// FinishReason says why generation stopped: "stop", "length",
	// "tool_calls" or "content_filter".
	FinishReason string
	Usage        Usage
}

// Provider is one LLM backend. Implementations are safe for concurrent use.
// Streaming and other abilities are separate interfaces, found by type
// assertion.
type Provider interface {
	// Name identifies the provider in logs, metrics and routing rules.
	Name() string
	// Chat sends req and returns the complete response.
	Chat(ctx context.Context, req *Request) (*Response, error)
}
