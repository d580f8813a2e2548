package openai

import (
	"io"

	"github.com/vivremotion/gateway/llm"
)

// eventStream is an llm.Stream of events known in advance.
type eventStream struct {
	events []llm.Event
	i      int
}

func (s *eventStream) Next() (llm.Event, error) {
	if s.i >= len(s.events) {
		return llm.Event{}, io.EOF
	}
	s.i++
	return s.events[s.i-1], nil
}

func (s *eventStream) Close() error {
	s.i = len(s.events)
	return nil
}

// responseEvents returns the events a stream of res would have had.
func responseEvents(res *llm.Response) []llm.Event {
	evs := []llm.Event{{Type: llm.EventStart, ID: res.ID, Model: res.Model}}
	tool := 0
	for i := range res.Message.Parts {
		p := &res.Message.Parts[i]
		start := llm.Event{Type: llm.EventPartStart, Index: i, PartType: p.Type}
		delta := llm.Event{Type: llm.EventDelta, Index: i, PartType: p.Type, Text: p.Text, Signature: p.Signature}
		if p.Type == llm.PartToolCall && p.ToolCall != nil {
			start.ToolIndex, delta.ToolIndex = tool, tool
			start.ToolCall = &llm.ToolCall{ID: p.ToolCall.ID, Name: p.ToolCall.Name}
			delta.Arguments = p.ToolCall.Arguments
			tool++
		}
		evs = append(evs, start, delta, llm.Event{Type: llm.EventPartEnd, Index: i, PartType: p.Type, ToolIndex: start.ToolIndex})
	}
	if res.FinishReason != "" {
		evs = append(evs, llm.Event{Type: llm.EventFinish, FinishReason: res.FinishReason, RawFinishReason: res.RawFinishReason, StopSequence: res.StopSequence})
	}
	u := res.Usage
	return append(evs, llm.Event{Type: llm.EventUsage, Usage: &u})
}
