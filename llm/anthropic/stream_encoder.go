package anthropic

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// StreamEncoder writes model events as the server-sent events of a
// streamed messages response: message_start, then for each part
// content_block_start, content_block_delta and content_block_stop, then
// message_delta with the stop reason and usage, and message_stop. It
// opens and closes blocks itself when the events lack a part's start or
// end, and never interleaves blocks. It is used by one goroutine.
type StreamEncoder struct {
	w      *sse.Writer
	model  string
	buf    []byte
	losses []llm.Loss

	id            string
	startUsage    llm.Usage
	usage         llm.Usage
	finish        llm.Event
	hasFinish     bool
	started       bool // message_start written
	done          bool // message_stop or error written
	pendingStart  bool // EventStart seen, message_start not yet written
	open          bool // a block is open
	openModel     int  // the model index of the open block
	openType      llm.PartType
	next          int          // the next block index
	redacted      []byte       // data of an open redacted_thinking block
	redactedStart bool         // whether a redacted block awaits its data
	seen          map[int]bool // model indexes whose block was closed
	ntools        int
}

// NewStreamEncoder returns a [StreamEncoder] writing to w; req gives the
// model named in message_start when the events do not.
func NewStreamEncoder(w *sse.Writer, req *llm.Request) *StreamEncoder {
	e := &StreamEncoder{w: w, buf: make([]byte, 0, 256)}
	if req != nil {
		e.model = req.Model
	}
	return e
}

// Losses returns what the encoder could not carry so far.
func (e *StreamEncoder) Losses() []llm.Loss { return e.losses }

func (e *StreamEncoder) lose(field, reason string) {
	e.losses = append(e.losses, llm.Loss{Field: field, Reason: reason})
}

// Encode writes the events for ev: none, or several when it must open or
// close blocks first.
func (e *StreamEncoder) Encode(ev llm.Event) error {
	if e.done {
		return nil
	}
	switch ev.Type {
	case llm.EventStart:
		if ev.ID != "" {
			e.id = ev.ID
		}
		if ev.Model != "" {
			e.model = ev.Model
		}
		e.pendingStart = true
		return nil
	case llm.EventUsage:
		if ev.Usage != nil {
			e.usage = *ev.Usage
			if !e.started {
				e.startUsage = *ev.Usage
			}
		}
		return nil
	case llm.EventFinish:
		e.finish, e.hasFinish = ev, true
		return nil
	case llm.EventError:
		if ev.Err == nil {
			return e.Close(errors.New("stream failed"))
		}
		return e.Close(ev.Err)
	}
	if err := e.start(); err != nil {
		return err
	}
	switch ev.Type {
	case llm.EventPing:
		return e.w.WriteEvent("ping", []byte(`{"type":"ping"}`))
	case llm.EventPartStart:
		if e.open && e.openModel == ev.Index {
			return nil
		}
		return e.openBlock(ev)
	case llm.EventDelta:
		if !e.open || e.openModel != ev.Index {
			if err := e.openBlock(ev); err != nil {
				return err
			}
		}
		return e.delta(ev)
	case llm.EventPartEnd:
		if e.open && e.openModel == ev.Index {
			return e.closeBlock()
		}
	}
	return nil
}

// start writes message_start once.
func (e *StreamEncoder) start() error {
	if e.started {
		return nil
	}
	e.started = true
	if e.id == "" {
		var r [12]byte
		_, _ = rand.Read(r[:])
		e.id = "msg_" + hex.EncodeToString(r[:])
	}
	b := append(e.buf[:0], `{"type":"message_start","message":{`...)
	b = appendStringField(b, "id", e.id)
	b = append(b, `,"type":"message","role":"assistant","content":[]`...)
	b = appendStringField(b, "model", e.model)
	b = append(b, `,"stop_reason":null,"stop_sequence":null`...)
	b = appendUsage(appendKey(b, "usage"), &e.startUsage)
	b = append(b, "}}"...)
	e.buf = b
	return e.w.WriteEvent("message_start", b)
}

// openBlock closes the open block, if any, and starts one for ev's part.
func (e *StreamEncoder) openBlock(ev llm.Event) error {
	if e.open {
		if err := e.closeBlock(); err != nil {
			return err
		}
	}
	if e.seen[ev.Index] {
		e.lose("index "+strconv.Itoa(ev.Index), "interleaved part split into another content block")
	}
	typ := ev.PartType
	b := append(e.buf[:0], `{"type":"content_block_start","index":`...)
	b = strconv.AppendInt(b, int64(e.next), 10)
	b = append(b, `,"content_block":{`...)
	switch typ {
	case llm.PartReasoning:
		b = append(b, `"type":"thinking","thinking":"","signature":""`...)
	case llm.PartRedactedReasoning:
		// Anthropic sends redacted thinking whole in its start event: the
		// data is gathered until the part ends.
		e.open, e.openModel, e.openType = true, ev.Index, typ
		e.redacted, e.redactedStart = e.redacted[:0], true
		return nil
	case llm.PartToolCall:
		var id, name string
		if ev.ToolCall != nil {
			id, name = ev.ToolCall.ID, ev.ToolCall.Name
		}
		if id == "" {
			id = "toolu_" + e.id + "_" + strconv.Itoa(e.ntools)
		}
		e.ntools++
		b = append(b, `"type":"tool_use"`...)
		b = appendStringField(b, "id", id)
		b = appendStringField(b, "name", name)
		b = append(b, `,"input":{}`...)
	case llm.PartText, llm.PartRefusal:
		if typ == llm.PartRefusal {
			e.lose("index "+strconv.Itoa(ev.Index), "refusal sent as text: anthropic has no refusal block")
		}
		typ = llm.PartText
		b = append(b, `"type":"text","text":""`...)
	default:
		e.lose("index "+strconv.Itoa(ev.Index), "part of type "+typ.String()+" has no equivalent in an anthropic stream")
		typ = 0
		b = append(b, `"type":"text","text":""`...)
	}
	b = append(b, "}}"...)
	e.buf = b
	e.open, e.openModel, e.openType = true, ev.Index, typ
	return e.w.WriteEvent("content_block_start", b)
}

func (e *StreamEncoder) delta(ev llm.Event) error {
	switch e.openType {
	case llm.PartRedactedReasoning:
		e.redacted = append(e.redacted, ev.Signature...)
		return nil
	case llm.PartText, llm.PartRefusal:
		if ev.Text == "" {
			return nil
		}
		return e.writeDelta("text_delta", "text", ev.Text)
	case llm.PartReasoning:
		if ev.Text != "" {
			if err := e.writeDelta("thinking_delta", "thinking", ev.Text); err != nil {
				return err
			}
		}
		if ev.Signature != "" {
			return e.writeDelta("signature_delta", "signature", ev.Signature)
		}
	case llm.PartToolCall:
		if ev.Arguments == "" {
			return nil
		}
		return e.writeDelta("input_json_delta", "partial_json", ev.Arguments)
	}
	return nil
}

func (e *StreamEncoder) writeDelta(typ, key, v string) error {
	b := append(e.buf[:0], `{"type":"content_block_delta","index":`...)
	b = strconv.AppendInt(b, int64(e.next), 10)
	b = append(b, `,"delta":{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	b = appendStringField(b, key, v)
	b = append(b, "}}"...)
	e.buf = b
	return e.w.WriteEvent("content_block_delta", b)
}

func (e *StreamEncoder) closeBlock() error {
	if e.openType == llm.PartRedactedReasoning && e.redactedStart {
		b := append(e.buf[:0], `{"type":"content_block_start","index":`...)
		b = strconv.AppendInt(b, int64(e.next), 10)
		b = append(b, `,"content_block":{"type":"redacted_thinking","data":`...)
		b = appendString(b, string(e.redacted))
		b = append(b, "}}"...)
		e.buf = b
		e.redactedStart = false
		if err := e.w.WriteEvent("content_block_start", b); err != nil {
			return err
		}
	}
	b := append(e.buf[:0], `{"type":"content_block_stop","index":`...)
	b = strconv.AppendInt(b, int64(e.next), 10)
	b = append(b, '}')
	e.buf = b
	if e.seen == nil {
		e.seen = make(map[int]bool)
	}
	e.seen[e.openModel] = true
	e.open = false
	e.next++
	return e.w.WriteEvent("content_block_stop", b)
}

// Close ends the stream. With err nil it closes the open block and writes
// message_delta, with the stop reason and usage, and message_stop; with an
// error it writes an error event in Anthropic's shape.
func (e *StreamEncoder) Close(err error) error {
	if e.done {
		return nil
	}
	if err != nil {
		e.done = true
		var le *llm.Error
		if !errors.As(err, &le) {
			le = &llm.Error{Kind: llm.ErrServer, Message: err.Error()}
		}
		_, body := EncodeError(le)
		return e.w.WriteEvent("error", body)
	}
	if err := e.start(); err != nil {
		return err
	}
	if e.open {
		if err := e.closeBlock(); err != nil {
			return err
		}
	}
	e.done = true
	f := e.finish
	reason, same := stopReason(f.FinishReason, f.RawFinishReason, f.StopSequence)
	if !same {
		e.lose("stop_reason", "finish reason "+string(f.FinishReason)+" sent as "+reason)
	}
	b := append(e.buf[:0], `{"type":"message_delta","delta":{`...)
	b = appendStringField(b, "stop_reason", reason)
	b = appendKey(b, "stop_sequence")
	if f.StopSequence != "" {
		b = appendString(b, f.StopSequence)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, '}')
	b = appendUsage(appendKey(b, "usage"), &e.usage)
	b = append(b, '}')
	e.buf = b
	if err := e.w.WriteEvent("message_delta", b); err != nil {
		return err
	}
	return e.w.WriteEvent("message_stop", []byte(`{"type":"message_stop"}`))
}
