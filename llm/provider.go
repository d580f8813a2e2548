package llm

import (
	"context"
	"net/http"
)

// Format names a wire format: the shape of requests, responses, streams
// and errors of one API.
type Format string

// The formats the gateway speaks.
const (
	// FormatOpenAI: OpenAI chat completions and embeddings, and every
	// server that copies them (Azure OpenAI, Ollama, vLLM, Groq, Mistral,
	// DeepSeek, Together...).
	FormatOpenAI Format = "openai"
	// FormatAnthropic: Anthropic messages.
	FormatAnthropic Format = "anthropic"
	// FormatGemini: Google Gemini generateContent.
	FormatGemini Format = "gemini"
)

// Provider is one LLM backend. Implementations are safe for concurrent
// use. Streaming, embeddings and byte passthrough are separate abilities,
// found by type assertion: [Streamer], [Embedder], [Passthrough].
type Provider interface {
	// Name identifies the provider in logs, metrics and routing rules.
	Name() string
	// Chat sends req and returns the complete response. A failure the
	// provider reported is an [*Error].
	Chat(ctx context.Context, req *Request) (*Response, error)
}

// Streamer is the ability of a [Provider] to stream a response.
type Streamer interface {
	// Stream sends req and returns the response as it arrives. Its first
	// event is EventStart. Canceling ctx ends the stream.
	Stream(ctx context.Context, req *Request) (Stream, error)
}

// Embedder is the ability of a [Provider] to embed text.
type Embedder interface {
	Embed(ctx context.Context, req *EmbeddingRequest) (*EmbeddingResponse, error)
}

// Operation is what a request asks of a provider.
type Operation uint8

// The operations.
const (
	OpChat Operation = iota + 1
	OpEmbed
)

// Passthrough is the ability of a [Provider] to forward a request body
// written in its own format as it came: when a client speaks the
// provider's format, the gateway sends the bytes on and reads only the
// usage from the answer.
type Passthrough interface {
	// Format is the format the provider speaks.
	Format() Format
	// Forward sends body, a request for op in Format for the upstream
	// model (already set in body where the format keeps the model there),
	// streamed or not, and returns the provider's response, whatever
	// its status; the caller closes its body.
	Forward(ctx context.Context, op Operation, model string, body []byte, stream bool) (*http.Response, error)
}

// EmbeddingRequest asks for the embeddings of some inputs.
type EmbeddingRequest struct {
	// Model names the model, as for [Request.Model].
	Model string
	// Input is the texts to embed, in order.
	Input []string
	// Dimensions, when not 0, asks for vectors of that length.
	Dimensions int
	// User identifies the end user, as for [Request.User].
	User string
}

// EmbeddingResponse holds one vector per input, in the inputs' order.
type EmbeddingResponse struct {
	Model      string
	Embeddings [][]float32
	Usage      Usage
}
