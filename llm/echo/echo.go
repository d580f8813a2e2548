// Package echo is an LLM provider that needs no model and no network: it
// answers each chat with the text of the last user message, so that a
// gateway can be run and tested on a fresh machine, without an API key.
//
// Its answers follow the request: "echo: " and the text, word by word when
// streamed, cut at MaxTokens words (finish reason length); when the
// request requires a tool call (ToolChoice required, or a named tool) it
// calls that tool, or the first, with the arguments {}. Usage is
// estimated, at one token per four bytes of input and one per word of
// output. Embed returns a vector of 8 numbers (or Dimensions) derived
// from each input's bytes.
package echo

import (
	"context"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vivremotion/gateway/llm"
)

// Provider is the echo provider. Its zero value is not usable; build it
// with [New].
type Provider struct {
	name string
	seq  atomic.Uint64
}

// New returns an echo provider named name ("" means "echo").
func New(name string) *Provider {
	if name == "" {
		name = "echo"
	}
	return &Provider{name: name}
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.name }

// Chat answers req at once.
func (p *Provider) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := p.answer(req)
	res := &llm.Response{
		ID:           a.id,
		Model:        req.Model,
		Created:      time.Now(),
		Message:      llm.Message{Role: llm.RoleAssistant},
		FinishReason: a.finish,
		Usage:        a.usage,
	}
	if a.call != nil {
		res.Message.Parts = []llm.Part{{Type: llm.PartToolCall, ToolCall: a.call}}
	} else {
		res.Message.Parts = []llm.Part{{Type: llm.PartText, Text: strings.Join(a.words, "")}}
	}
	return res, nil
}

// Stream answers req as a stream: the text word by word.
func (p *Provider) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := p.answer(req)
	evs := []llm.Event{{Type: llm.EventStart, ID: a.id, Model: req.Model}}
	if a.call != nil {
		call := *a.call
		evs = append(evs,
			llm.Event{Type: llm.EventPartStart, PartType: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: call.ID, Name: call.Name}},
			llm.Event{Type: llm.EventDelta, PartType: llm.PartToolCall, Arguments: call.Arguments},
			llm.Event{Type: llm.EventPartEnd, PartType: llm.PartToolCall})
	} else {
		evs = append(evs, llm.Event{Type: llm.EventPartStart, PartType: llm.PartText})
		for _, w := range a.words {
			evs = append(evs, llm.Event{Type: llm.EventDelta, PartType: llm.PartText, Text: w})
		}
		evs = append(evs, llm.Event{Type: llm.EventPartEnd, PartType: llm.PartText})
	}
	u := a.usage
	evs = append(evs, llm.Event{Type: llm.EventFinish, FinishReason: a.finish}, llm.Event{Type: llm.EventUsage, Usage: &u})
	return &stream{ctx: ctx, evs: evs}, nil
}

// Embed returns one vector per input, derived from its bytes.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dims := req.Dimensions
	if dims <= 0 {
		dims = 8
	}
	res := &llm.EmbeddingResponse{Model: req.Model, Embeddings: make([][]float32, len(req.Input))}
	for i, in := range req.Input {
		v := make([]float32, dims)
		for j := range v {
			h := fnv.New32a()
			h.Write([]byte(strconv.Itoa(j)))
			h.Write([]byte(in))
			v[j] = float32(h.Sum32()%2000)/1000 - 1
		}
		res.Embeddings[i] = v
		res.Usage.InputTokens += estimate(in)
	}
	res.Usage.Source = llm.UsageEstimated
	return res, nil
}

// answer is what the provider says to a request.
type answer struct {
	id     string
	words  []string // each with its trailing space, the last without
	call   *llm.ToolCall
	finish llm.FinishReason
	usage  llm.Usage
}

func (p *Provider) answer(req *llm.Request) answer {
	a := answer{id: "echo-" + strconv.FormatUint(p.seq.Add(1), 10), finish: llm.FinishStop}
	for _, m := range req.Messages {
		a.usage.InputTokens += estimate(m.Text())
	}
	if a.usage.InputTokens == 0 {
		a.usage.InputTokens = 1
	}
	a.usage.Source = llm.UsageEstimated
	if name, ok := toolToCall(req); ok {
		a.call = &llm.ToolCall{ID: "call_" + a.id, Name: name, Arguments: "{}"}
		a.finish = llm.FinishToolCalls
		a.usage.OutputTokens = 1
		return a
	}
	var last string
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == llm.RoleUser {
			last = req.Messages[i].Text()
			break
		}
	}
	fields := append([]string{"echo:"}, strings.Fields(last)...)
	if req.MaxTokens > 0 && len(fields) > req.MaxTokens {
		fields, a.finish = fields[:req.MaxTokens], llm.FinishLength
	}
	for i, f := range fields {
		if i < len(fields)-1 {
			f += " "
		}
		a.words = append(a.words, f)
	}
	a.usage.OutputTokens = int64(len(fields))
	return a
}

// toolToCall returns the tool a request requires a call of.
func toolToCall(req *llm.Request) (string, bool) {
	if req.ToolChoice == nil || len(req.Tools) == 0 {
		return "", false
	}
	switch req.ToolChoice.Mode {
	case llm.ToolNamed:
		return req.ToolChoice.Name, req.ToolChoice.Name != ""
	case llm.ToolRequired:
		return req.Tools[0].Name, true
	}
	return "", false
}

// estimate counts the tokens of s at one per four bytes, rounded up.
func estimate(s string) int64 { return int64(len(s)+3) / 4 }

// stream replays a prepared list of events.
type stream struct {
	ctx context.Context
	evs []llm.Event
	i   int
}

func (s *stream) Next() (llm.Event, error) {
	if err := s.ctx.Err(); err != nil {
		return llm.Event{}, err
	}
	if s.i >= len(s.evs) {
		return llm.Event{}, io.EOF
	}
	ev := s.evs[s.i]
	s.i++
	return ev, nil
}

func (s *stream) Close() error {
	s.i = len(s.evs)
	return nil
}
