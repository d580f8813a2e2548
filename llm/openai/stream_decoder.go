package openai

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// MaxStreamEvent bounds one event of a provider's stream: 4 MiB.
const MaxStreamEvent = 4 << 20

// wireChunk is a chunk, but for its id and model, which are read once
// (see chunkHead): the same on every chunk, they would cost two strings
// per chunk.
type wireChunk struct {
	Choices []wireChunkChoice `json:"choices"`
	Usage   *wireUsage        `json:"usage"`
	Error   *wireError        `json:"error"`
	// XGroq is where Groq reports usage when stream_options is not set.
	XGroq *struct {
		Usage *wireUsage `json:"usage"`
	} `json:"x_groq"`
}

type chunkHead struct {
	ID    string `json:"id"`
	Model string `json:"model"`
}

type wireChunkChoice struct {
	Index        int       `json:"index"`
	Delta        wireDelta `json:"delta"`
	FinishReason *string   `json:"finish_reason"`
}

type wireDelta struct {
	Content          *string `json:"content"`
	ReasoningContent *string `json:"reasoning_content"`
	// Reasoning is the name some servers (OpenRouter, Ollama, newer vLLM)
	// give reasoning_content.
	Reasoning *string        `json:"reasoning"`
	Refusal   *string        `json:"refusal"`
	ToolCalls []wireToolCall `json:"tool_calls"`
}

// The kinds of streamed parts other than tool calls, as keys of the part
// that is open.
const (
	openNone = -1 - iota
	openText
	openReasoning
	openRefusal
)

// streamDecoder is the llm.Stream of NewStreamDecoder.
type streamDecoder struct {
	body  io.Reader
	r     *sse.Reader
	queue []llm.Event // events decoded and not yet returned
	qi    int
	err   error // returned once the queue is empty; nil while the stream goes on

	started bool
	open    int // the kind of the open part: openNone, openText..., or a tool index >= 0
	openIdx int // the part index of the open part
	openTyp llm.PartType
	next    int // the next part index
	tools   []int
	usage   llm.Usage
	hasUse  bool
	chunk   wireChunk
}

// NewStreamDecoder returns the [llm.Stream] of the events in body, a
// chat completions stream: "data: {chunk}" events ending in
// "data: [DONE]". Its first event is EventStart; each part (text,
// reasoning_content, refusal, each tool call by its index) is
// EventPartStart, EventDeltas and EventPartEnd; finish_reason is
// EventFinish and a chunk's usage EventUsage; an {"error":{...}} chunk is
// EventError, after which Next returns io.EOF.
//
// Only choice 0 is read. A stream that ends before [DONE] ends with
// EventUsage marked [llm.UsageCutShort] (when usage had come), then
// EventError, then Next returns io.ErrUnexpectedEOF (or the read error).
// Close closes body when it is an io.Closer.
func NewStreamDecoder(body io.Reader) llm.Stream {
	return &streamDecoder{body: body, r: sse.NewReader(body, MaxStreamEvent), open: openNone}
}

// Next returns the next event, io.EOF after the last.
func (d *streamDecoder) Next() (llm.Event, error) {
	for d.qi >= len(d.queue) {
		if d.err != nil {
			return llm.Event{}, d.err
		}
		d.queue, d.qi = d.queue[:0], 0
		d.read()
	}
	ev := d.queue[d.qi]
	d.queue[d.qi] = llm.Event{}
	d.qi++
	return ev, nil
}

// Close ends the stream and closes its body.
func (d *streamDecoder) Close() error {
	if d.err == nil {
		d.err = io.EOF
	}
	if c, ok := d.body.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// read decodes the next SSE event into queued model events.
func (d *streamDecoder) read() {
	ev, err := d.r.Next()
	if err != nil {
		d.cut(err)
		return
	}
	data := ev.Data
	if len(data) == 0 {
		if ev.Type != "" {
			d.queue = append(d.queue, llm.Event{Type: llm.EventPing})
		}
		return
	}
	if string(data) == "[DONE]" {
		d.endPart()
		d.err = io.EOF
		return
	}
	// encoding/json decodes into the reused elements of a slice without
	// zeroing them first: clear them, or a field absent from this chunk
	// would keep the last one's value.
	choices := d.chunk.Choices[:cap(d.chunk.Choices)]
	clear(choices)
	d.chunk = wireChunk{Choices: choices[:0]}
	if err := json.Unmarshal(data, &d.chunk); err != nil {
		d.fail(&llm.Error{Kind: llm.ErrServer, Message: "openai: malformed stream chunk: " + jsonReason(err)}, errors.New("openai: malformed stream chunk"))
		return
	}
	c := &d.chunk
	if c.Error != nil {
		e := &llm.Error{Message: c.Error.Message, Param: rawString(c.Error.Param), Code: rawString(c.Error.Code)}
		e.Kind = kindOfType(c.Error.Type, e.Code)
		if e.Code == "model_not_found" {
			e.Kind = llm.ErrNotFound
		}
		d.endPart()
		d.queue = append(d.queue, llm.Event{Type: llm.EventError, Err: e})
		d.err = io.EOF
		return
	}
	if !d.started {
		d.started = true
		var h chunkHead
		json.Unmarshal(data, &h) // valid: the chunk decoded
		d.queue = append(d.queue, llm.Event{Type: llm.EventStart, ID: h.ID, Model: h.Model})
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Index != 0 {
			continue // the model holds one choice
		}
		dl := &ch.Delta
		if dl.ReasoningContent == nil {
			dl.ReasoningContent = dl.Reasoning
		}
		d.text(openReasoning, llm.PartReasoning, dl.ReasoningContent)
		d.text(openText, llm.PartText, dl.Content)
		d.text(openRefusal, llm.PartRefusal, dl.Refusal)
		for j := range dl.ToolCalls {
			d.tool(&dl.ToolCalls[j], j)
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			d.endPart()
			d.queue = append(d.queue, llm.Event{Type: llm.EventFinish, FinishReason: FinishReason(*ch.FinishReason), RawFinishReason: *ch.FinishReason})
		}
	}
	if c.Usage == nil && c.XGroq != nil {
		c.Usage = c.XGroq.Usage
	}
	if c.Usage != nil {
		d.usage, d.hasUse = c.Usage.model(), true
		u := d.usage
		d.queue = append(d.queue, llm.Event{Type: llm.EventUsage, Usage: &u})
	}
}

// text adds a delta of a text-like part.
func (d *streamDecoder) text(kind int, typ llm.PartType, s *string) {
	if s == nil || *s == "" {
		return
	}
	if d.open != kind {
		d.endPart()
		d.open, d.openIdx, d.openTyp = kind, d.next, typ
		d.next++
		d.queue = append(d.queue, llm.Event{Type: llm.EventPartStart, Index: d.openIdx, PartType: typ})
	}
	d.queue = append(d.queue, llm.Event{Type: llm.EventDelta, Index: d.openIdx, PartType: typ, Text: *s})
}

// tool adds a tool call delta; pos is its position in the chunk, for
// servers that leave index out.
func (d *streamDecoder) tool(tc *wireToolCall, pos int) {
	ti := pos
	if tc.Index != nil {
		ti = *tc.Index
	}
	if ti < 0 || ti > 1<<16 {
		return
	}
	for len(d.tools) <= ti {
		d.tools = append(d.tools, -1)
	}
	idx := d.tools[ti]
	if idx < 0 {
		d.endPart()
		idx = d.next
		d.next++
		d.tools[ti] = idx
		d.open, d.openIdx, d.openTyp = ti, idx, llm.PartToolCall
		d.queue = append(d.queue, llm.Event{Type: llm.EventPartStart, Index: idx, PartType: llm.PartToolCall, ToolIndex: ti,
			ToolCall: &llm.ToolCall{ID: tc.ID, Name: tc.Function.Name}})
	} else if d.open != ti {
		d.endPart() // calls interleave: the part at idx goes on without a new start
		d.open, d.openIdx, d.openTyp = ti, idx, llm.PartToolCall
	}
	if tc.Function.Arguments != "" {
		d.queue = append(d.queue, llm.Event{Type: llm.EventDelta, Index: idx, PartType: llm.PartToolCall, ToolIndex: ti, Arguments: tc.Function.Arguments})
	}
}

// endPart ends the open part, if any.
func (d *streamDecoder) endPart() {
	if d.open == openNone {
		return
	}
	ev := llm.Event{Type: llm.EventPartEnd, Index: d.openIdx, PartType: d.openTyp}
	if d.open >= 0 {
		ev.ToolIndex = d.open
	}
	d.queue = append(d.queue, ev)
	d.open = openNone
}

// cut ends a stream whose reader failed before [DONE].
func (d *streamDecoder) cut(err error) {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	d.fail(&llm.Error{Kind: llm.ErrServer, Message: "openai: the stream ended before [DONE]: " + err.Error()}, err)
}

// fail queues the usage so far, marked cut short, and e; Next then
// returns err.
func (d *streamDecoder) fail(e *llm.Error, err error) {
	if d.hasUse {
		u := d.usage
		u.Source = llm.UsageCutShort
		d.queue = append(d.queue, llm.Event{Type: llm.EventUsage, Usage: &u})
	}
	d.queue = append(d.queue, llm.Event{Type: llm.EventError, Err: e})
	d.err = err
}
