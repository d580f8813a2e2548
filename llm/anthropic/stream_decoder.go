package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// maxStreamEvent bounds one event of a provider's stream.
const maxStreamEvent = 8 << 20

// errCutShort is the error of a stream that ended before message_stop.
var errCutShort = &llm.Error{Kind: llm.ErrServer, Message: "anthropic: stream ended before message_stop"}

// block kinds of the stream decoder: what each content block index is.
const (
	blockSkipped = iota // a block the model has no part for
	blockText
	blockReasoning
	blockRedacted
	blockTool
)

// StreamDecoder reads the server-sent events of a streamed messages
// response into model events. It is made by [NewStreamDecoder].
type StreamDecoder struct {
	body   io.Reader
	r      *sse.Reader
	losses []llm.Loss

	pending [3]llm.Event // events decoded, not yet returned
	np, ip  int

	blocks  []uint8 // kind by content block index
	tools   []int   // tool index by content block index
	ntools  int
	usage   llm.Usage
	raw     [3]int64 // input, cache write, cache read as reported
	started bool
	stopped bool  // message_stop seen
	err     error // returned once the pending events are out
	ev      wireEvent
}

// wireEvent is any event of the stream; its fields are reset before each
// decode.
type wireEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message *struct {
		ID    string     `json:"id"`
		Model string     `json:"model"`
		Usage *wireUsage `json:"usage"`
	} `json:"message"`
	ContentBlock *wireBlock `json:"content_block"`
	Delta        struct {
		Type         string `json:"type"`
		Text         string `json:"text"`
		PartialJSON  string `json:"partial_json"`
		Thinking     string `json:"thinking"`
		Signature    string `json:"signature"`
		StopReason   string `json:"stop_reason"`
		StopSequence string `json:"stop_sequence"`
	} `json:"delta"`
	Usage *wireUsage `json:"usage"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// NewStreamDecoder returns a [llm.Stream] of the events of body, a
// streamed messages response of the Anthropic API. Its first event is
// EventStart (from message_start), followed by EventUsage with the input
// figures; content blocks become part events with their index, tool_use
// blocks counted by ToolIndex; message_delta gives EventFinish and
// EventUsage. A stream that ends before message_stop gives an EventUsage
// with Source UsageCutShort and an EventError, then the error. Close
// closes body when it is an [io.Closer].
func NewStreamDecoder(body io.Reader) llm.Stream {
	return newStreamDecoder(body, nil)
}

func newStreamDecoder(body io.Reader, losses []llm.Loss) *StreamDecoder {
	return &StreamDecoder{body: body, r: sse.NewReader(body, maxStreamEvent), losses: losses}
}

// Next returns the next event, io.EOF after message_stop, or the error
// that ended the stream.
func (d *StreamDecoder) Next() (llm.Event, error) {
	for {
		if d.ip < d.np {
			ev := d.pending[d.ip]
			d.pending[d.ip] = llm.Event{}
			d.ip++
			return ev, nil
		}
		d.ip, d.np = 0, 0
		if d.err != nil {
			return llm.Event{}, d.err
		}
		if d.stopped {
			d.err = io.EOF
			continue
		}
		ev, err := d.r.Next()
		if err != nil {
			d.cut(err)
			continue
		}
		if err := d.decode(ev); err != nil {
			d.fail(err)
		}
	}
}

// Close ends the stream and closes the body when it is an io.Closer.
func (d *StreamDecoder) Close() error {
	if d.err == nil {
		d.err = io.EOF
	}
	d.np, d.ip = 0, 0
	if c, ok := d.body.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (d *StreamDecoder) push(ev llm.Event) {
	d.pending[d.np] = ev
	d.np++
}

// cut ends a stream that stopped before message_stop.
func (d *StreamDecoder) cut(err error) {
	if d.started { // before message_start, the error alone: EventStart comes first or not at all
		u := d.usage
		u.Source = llm.UsageCutShort
		d.push(llm.Event{Type: llm.EventUsage, Usage: &u})
	}
	e := *errCutShort
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		e.Message = "anthropic: stream failed: " + err.Error()
	} else {
		err = io.ErrUnexpectedEOF
	}
	d.push(llm.Event{Type: llm.EventError, Err: &e})
	d.err = err
}

// fail ends a stream on an event the decoder cannot read.
func (d *StreamDecoder) fail(err error) {
	e := &llm.Error{Kind: llm.ErrServer, Message: "anthropic: malformed stream event: " + err.Error()}
	d.push(llm.Event{Type: llm.EventError, Err: e})
	d.err = e
}

func (d *StreamDecoder) decode(sev sse.Event) error {
	switch sev.Type {
	case "ping":
		d.push(llm.Event{Type: llm.EventPing})
		return nil
	case "message_stop":
		d.stopped = true
		return nil
	}
	if sev.Type == "content_block_delta" && d.fastDelta(sev.Data) {
		return nil
	}
	d.ev = wireEvent{}
	if err := json.Unmarshal(sev.Data, &d.ev); err != nil {
		return err
	}
	ev := &d.ev
	switch ev.Type {
	case "message_start":
		if ev.Message == nil {
			return errors.New("message_start without a message")
		}
		d.started = true
		d.push(llm.Event{Type: llm.EventStart, ID: ev.Message.ID, Model: ev.Message.Model, Losses: d.losses})
		if ev.Message.Usage != nil {
			ev.Message.Usage.merge(&d.usage, &d.raw)
		}
		u := d.usage
		d.push(llm.Event{Type: llm.EventUsage, Usage: &u})
	case "content_block_start":
		if ev.ContentBlock == nil || ev.Index < 0 {
			return errors.New("content_block_start without a content block")
		}
		if ev.Index != len(d.blocks) {
			// Blocks are numbered 0, 1, 2... in order; another index would
			// have the decoder hold a slot for each number skipped.
			return fmt.Errorf("content_block_start of block %d after %d blocks", ev.Index, len(d.blocks))
		}
		d.blockStart(ev.Index, ev.ContentBlock)
	case "content_block_delta":
		if ev.Index < 0 || ev.Index >= len(d.blocks) {
			return errors.New("content_block_delta of a block not started")
		}
		d.delta(ev)
	case "content_block_stop":
		if ev.Index < 0 || ev.Index >= len(d.blocks) {
			return errors.New("content_block_stop of a block not started")
		}
		if k := d.blocks[ev.Index]; k != blockSkipped {
			d.push(llm.Event{Type: llm.EventPartEnd, Index: ev.Index, PartType: partOf(k), ToolIndex: d.tools[ev.Index]})
		}
	case "message_delta":
		if ev.Delta.StopReason != "" {
			d.push(llm.Event{Type: llm.EventFinish, FinishReason: finishReason(ev.Delta.StopReason), RawFinishReason: ev.Delta.StopReason, StopSequence: ev.Delta.StopSequence})
		}
		if ev.Usage != nil {
			ev.Usage.merge(&d.usage, &d.raw)
			u := d.usage
			d.push(llm.Event{Type: llm.EventUsage, Usage: &u})
		}
	case "message_stop":
		d.stopped = true
	case "ping":
		d.push(llm.Event{Type: llm.EventPing})
	case "error":
		e := &llm.Error{Kind: llm.ErrServer, Message: "anthropic: stream error"}
		if ev.Error != nil {
			if k, ok := errorKinds[ev.Error.Type]; ok {
				e.Kind = k
			}
			e.Code, e.Message = ev.Error.Type, ev.Error.Message
		}
		d.push(llm.Event{Type: llm.EventError, Err: e})
		d.err = e
	}
	return nil
}

func partOf(kind uint8) llm.PartType {
	switch kind {
	case blockText:
		return llm.PartText
	case blockReasoning:
		return llm.PartReasoning
	case blockRedacted:
		return llm.PartRedactedReasoning
	case blockTool:
		return llm.PartToolCall
	}
	return 0
}

func (d *StreamDecoder) blockStart(i int, b *wireBlock) {
	for len(d.blocks) <= i {
		d.blocks = append(d.blocks, blockSkipped)
		d.tools = append(d.tools, 0)
	}
	start := llm.Event{Type: llm.EventPartStart, Index: i}
	var delta llm.Event
	switch b.Type {
	case "text":
		d.blocks[i] = blockText
		delta.Text = b.Text
	case "thinking":
		d.blocks[i] = blockReasoning
		delta.Text, delta.Signature = b.Thinking, b.Signature
	case "redacted_thinking":
		d.blocks[i] = blockRedacted
		delta.Signature = b.Data
	case "tool_use":
		d.blocks[i] = blockTool
		d.tools[i] = d.ntools
		d.ntools++
		start.ToolCall = &llm.ToolCall{ID: b.ID, Name: b.Name}
		start.ToolIndex = d.tools[i]
		if !isNull(b.Input) && compact(b.Input) != "{}" {
			delta.Arguments = compact(b.Input)
		}
	default:
		d.blocks[i] = blockSkipped // server tool blocks: no part in the model
		return
	}
	start.PartType = partOf(d.blocks[i])
	d.push(start)
	if delta.Text != "" || delta.Signature != "" || delta.Arguments != "" {
		delta.Type, delta.Index, delta.PartType, delta.ToolIndex = llm.EventDelta, i, start.PartType, start.ToolIndex
		d.push(delta)
	}
}

func (d *StreamDecoder) delta(ev *wireEvent) {
	k := d.blocks[ev.Index]
	if k == blockSkipped {
		return
	}
	out := llm.Event{Type: llm.EventDelta, Index: ev.Index, PartType: partOf(k), ToolIndex: d.tools[ev.Index]}
	switch ev.Delta.Type {
	case "text_delta":
		out.Text = ev.Delta.Text
	case "input_json_delta":
		out.Arguments = ev.Delta.PartialJSON
	case "thinking_delta":
		out.Text = ev.Delta.Thinking
	case "signature_delta":
		out.Signature = ev.Delta.Signature
	default:
		return // citations_delta and others: no place in the model
	}
	d.push(out)
}

// deltaPrefix starts a content_block_delta as Anthropic writes it.
const deltaPrefix = `{"type":"content_block_delta","index":`

// fastDelta decodes a content_block_delta written in Anthropic's own
// field order without reflection: the common event of a stream. It
// returns false, having done nothing, for any other shape.
func (d *StreamDecoder) fastDelta(data []byte) bool {
	s := data
	if !bytes.HasPrefix(s, []byte(deltaPrefix)) || !bytes.HasSuffix(s, []byte(`"}}`)) {
		return false
	}
	s = s[len(deltaPrefix):]
	idx, n := 0, 0
	for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
		idx = idx*10 + int(s[n]-'0')
		n++
	}
	if n == 0 || idx >= len(d.blocks) {
		return false
	}
	s, ok := bytes.CutPrefix(s[n:], []byte(`,"delta":{"type":"`))
	if !ok {
		return false
	}
	var key string
	switch {
	case bytes.HasPrefix(s, []byte(`text_delta","text":"`)):
		key = "text"
	case bytes.HasPrefix(s, []byte(`input_json_delta","partial_json":"`)):
		key = "partial_json"
	case bytes.HasPrefix(s, []byte(`thinking_delta","thinking":"`)):
		key = "thinking"
	case bytes.HasPrefix(s, []byte(`signature_delta","signature":"`)):
		key = "signature"
	default:
		return false
	}
	start := bytes.IndexByte(s, ':') + 1 // the opening quote of the value
	if start <= 0 || start > len(s)-2 {
		return false
	}
	raw := s[start : len(s)-2] // the value, quoted
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false // not a whole string: let the full decoder judge
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '"') >= 0 && bytes.IndexByte(body, '\\') < 0 {
		return false // not one string: let the full decoder judge
	}
	var v string
	if bytes.IndexByte(body, '\\') < 0 {
		for _, c := range body {
			if c < 0x20 {
				return false
			}
		}
		v = string(body)
	} else if json.Unmarshal(raw, &v) != nil {
		return false
	}
	k := d.blocks[idx]
	if k == blockSkipped {
		return true
	}
	out := llm.Event{Type: llm.EventDelta, Index: idx, PartType: partOf(k), ToolIndex: d.tools[idx]}
	switch key {
	case "text":
		out.Text = v
	case "partial_json":
		out.Arguments = v
	case "thinking":
		out.Text = v
	case "signature":
		out.Signature = v
	}
	d.push(out)
	return true
}
