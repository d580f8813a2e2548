package ingress

import (
	"bytes"
	"encoding/json"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
	"github.com/vivremotion/gateway/llm/openai"
	"github.com/vivremotion/gateway/llm/sse"
)

// clientFormat is the wire format a client speaks: what the Handler needs
// of a codec package to serve it.
type clientFormat interface {
	format() llm.Format
	decode(body []byte) (*llm.Request, error)
	encodeResponse(res *llm.Response) ([]byte, []llm.Loss, error)
	encodeError(e *llm.Error) (status int, body []byte)
	newStreamEncoder(w *sse.Writer, req *llm.Request) streamEncoder
	setModel(body []byte, model string) ([]byte, error)
	responseUsage(op llm.Operation, body []byte) (llm.Usage, bool)
	newUsageScanner() usageScanner
	// askStreamUsage returns a stream request's body, whose head is hd,
	// made to ask for usage, and whether the client had not asked.
	askStreamUsage(body []byte, hd head) ([]byte, bool)
	// usageOnly reports whether a stream event carries nothing but usage.
	usageOnly(data []byte) bool
}

// streamEncoder writes model events as the client's stream.
type streamEncoder interface {
	Encode(ev llm.Event) error
	Close(err error) error
	Losses() []llm.Loss
}

// usageScanner reads the usage of a stream passed through.
type usageScanner interface {
	Scan(ev sse.Event)
	Usage() (llm.Usage, bool)
}

// openaiFormat is OpenAI chat completions and embeddings.
type openaiFormat struct{}

func (openaiFormat) format() llm.Format                          { return llm.FormatOpenAI }
func (openaiFormat) decode(b []byte) (*llm.Request, error)       { return openai.DecodeRequest(b) }
func (openaiFormat) encodeError(e *llm.Error) (int, []byte)      { return openai.EncodeError(e) }
func (openaiFormat) setModel(b []byte, m string) ([]byte, error) { return openai.SetModel(b, m) }
func (openaiFormat) newUsageScanner() usageScanner               { return &openai.UsageScanner{} }
func (openaiFormat) encodeResponse(res *llm.Response) ([]byte, []llm.Loss, error) {
	return openai.EncodeResponse(res)
}
func (openaiFormat) newStreamEncoder(w *sse.Writer, req *llm.Request) streamEncoder {
	return openai.NewStreamEncoder(w, req)
}
func (openaiFormat) responseUsage(op llm.Operation, b []byte) (llm.Usage, bool) {
	return openai.ResponseUsage(b)
}

func (openaiFormat) askStreamUsage(b []byte, hd head) ([]byte, bool) { return askUsage(b, hd) }

// usageOnly reports whether data is the chunk OpenAI ends a stream with
// when asked for usage: no choices, and the usage.
func (openaiFormat) usageOnly(data []byte) bool {
	if !bytes.Contains(data, []byte(`"choices"`)) || !bytes.Contains(data, []byte(`"usage"`)) {
		return false
	}
	var c struct {
		Choices []json.RawMessage `json:"choices"`
		Usage   json.RawMessage   `json:"usage"`
	}
	return json.Unmarshal(data, &c) == nil && len(c.Choices) == 0 && len(c.Usage) > 0 && string(c.Usage) != "null"
}

// anthropicFormat is Anthropic messages.
type anthropicFormat struct{}

func (anthropicFormat) format() llm.Format                          { return llm.FormatAnthropic }
func (anthropicFormat) decode(b []byte) (*llm.Request, error)       { return anthropic.DecodeRequest(b) }
func (anthropicFormat) encodeError(e *llm.Error) (int, []byte)      { return anthropic.EncodeError(e) }
func (anthropicFormat) setModel(b []byte, m string) ([]byte, error) { return anthropic.SetModel(b, m) }
func (anthropicFormat) newUsageScanner() usageScanner               { return &anthropic.UsageScanner{} }
func (anthropicFormat) encodeResponse(res *llm.Response) ([]byte, []llm.Loss, error) {
	return anthropic.EncodeResponse(res)
}
func (anthropicFormat) newStreamEncoder(w *sse.Writer, req *llm.Request) streamEncoder {
	return anthropic.NewStreamEncoder(w, req)
}
func (anthropicFormat) askStreamUsage(b []byte, _ head) ([]byte, bool) { return b, false } // always reported
func (anthropicFormat) usageOnly([]byte) bool                          { return false }

func (anthropicFormat) responseUsage(op llm.Operation, b []byte) (llm.Usage, bool) {
	return anthropic.ResponseUsage(b)
}
