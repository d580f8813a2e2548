package openai

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// StreamEncoder writes model events as a chat completions stream: one
// "data: {chunk}" event per piece of content, every chunk with the same
// id, created and model and object "chat.completion.chunk", then
// "data: [DONE]". It is used by one goroutine.
type StreamEncoder struct {
	w            *sse.Writer
	includeUsage bool
	head         []byte // `{"id":...,"model":...` shared by every chunk
	buf          []byte // the chunk being written, reused
	usage        llm.Usage
	hasUsage     bool
	closed       bool
	failed       bool // an error event was written: the stream is over
	lostSig      bool
	losses       []llm.Loss
}

// NewStreamEncoder returns a [StreamEncoder] to w for an answer to req:
// usage is sent, in a last chunk with no choices, only when req asked for
// it (stream_options.include_usage, [llm.Request.StreamUsage]). req may be
// nil.
func NewStreamEncoder(w *sse.Writer, req *llm.Request) *StreamEncoder {
	e := &StreamEncoder{w: w, buf: make([]byte, 0, 512)}
	if req != nil {
		e.includeUsage = req.StreamUsage
	}
	return e
}

// Encode writes the chunks of ev, if any: EventStart the first chunk
// (role assistant), EventDelta content, reasoning_content, refusal or
// tool call arguments, EventPartStart of a tool call its id and name,
// EventFinish the finish_reason, EventError an {"error":{...}} event,
// EventPing an SSE comment. Usage is held for Close. Its error is the
// writer's.
func (e *StreamEncoder) Encode(ev llm.Event) error {
	if e.closed {
		return errors.New("openai: Encode after Close")
	}
	if e.failed {
		return nil // nothing follows an error event
	}
	switch ev.Type {
	case llm.EventStart:
		e.start(ev.ID, ev.Model)
		b := e.chunk()
		b = append(b, `"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`...)
		return e.send(b)
	case llm.EventPartStart:
		switch ev.PartType {
		case llm.PartToolCall:
			e.ensureStart()
			b := e.chunk()
			b = append(b, `"tool_calls":[{"index":`...)
			b = strconv.AppendInt(b, int64(ev.ToolIndex), 10)
			var id, name string
			if ev.ToolCall != nil {
				id, name = ev.ToolCall.ID, ev.ToolCall.Name
			}
			b = append(b, `,"id":`...)
			b = appendString(b, id)
			b = append(b, `,"type":"function","function":{"name":`...)
			b = appendString(b, name)
			b = append(b, `,"arguments":""}}]},"logprobs":null,"finish_reason":null}]`...)
			return e.send(b)
		case llm.PartText, llm.PartReasoning, llm.PartRefusal, 0:
		default:
			e.losses = append(e.losses, llm.Loss{Field: fmt.Sprintf("parts[%d]", ev.Index), Reason: fmt.Sprintf("a streamed %s part has no place in openai", ev.PartType)})
		}
		return nil
	case llm.EventDelta:
		return e.delta(&ev)
	case llm.EventFinish:
		e.ensureStart()
		r, lossy := WireFinishReason(ev.FinishReason, ev.RawFinishReason)
		if r == "" {
			r = "stop"
		}
		if lossy {
			e.losses = append(e.losses, llm.Loss{Field: "finish_reason", Reason: fmt.Sprintf("%s (%s) sent as stop", ev.FinishReason, ev.RawFinishReason)})
		}
		b := e.chunk()
		b = append(b, `},"logprobs":null,"finish_reason":`...)
		b = appendString(b, r)
		b = append(b, "}]"...)
		return e.send(b)
	case llm.EventUsage:
		if ev.Usage != nil {
			e.usage, e.hasUsage = *ev.Usage, true
		}
		return nil
	case llm.EventError:
		err := ev.Err
		if err == nil {
			err = &llm.Error{Kind: llm.ErrServer, Message: "stream failed"}
		}
		return e.writeError(err)
	case llm.EventPing:
		return e.w.WriteComment("ping")
	}
	return nil
}

func (e *StreamEncoder) delta(ev *llm.Event) error {
	var field string
	switch ev.PartType {
	case llm.PartText:
		field = `"content":`
	case llm.PartReasoning:
		field = `"reasoning_content":`
		if ev.Signature != "" && !e.lostSig {
			e.lostSig = true
			e.losses = append(e.losses, llm.Loss{Field: fmt.Sprintf("parts[%d].signature", ev.Index), Reason: "no place for reasoning signatures in openai"})
		}
	case llm.PartRefusal:
		field = `"refusal":`
	case llm.PartToolCall:
		if ev.Arguments == "" {
			return nil
		}
		e.ensureStart()
		b := e.chunk()
		b = append(b, `"tool_calls":[{"index":`...)
		b = strconv.AppendInt(b, int64(ev.ToolIndex), 10)
		b = append(b, `,"function":{"arguments":`...)
		b = appendString(b, ev.Arguments)
		b = append(b, `}}]},"logprobs":null,"finish_reason":null}]`...)
		return e.send(b)
	default:
		return nil // losses of other parts are reported at their start
	}
	if ev.Text == "" {
		return nil
	}
	e.ensureStart()
	b := e.chunk()
	b = append(b, field...)
	b = appendString(b, ev.Text)
	b = append(b, `},"logprobs":null,"finish_reason":null}]`...)
	return e.send(b)
}

// start fixes the id, created and model every chunk carries.
func (e *StreamEncoder) start(id, model string) {
	h := make([]byte, 0, 128)
	h = append(h, `{"id":`...)
	h = appendString(h, responseID(id))
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = strconv.AppendInt(h, time.Now().Unix(), 10)
	h = append(h, `,"model":`...)
	h = appendString(h, model)
	e.head = h
}

// ensureStart fixes the chunk head for a stream whose events did not
// begin with EventStart.
func (e *StreamEncoder) ensureStart() {
	if e.head == nil {
		e.start("", "")
	}
}

// chunk begins a chunk of one choice, up to the inside of its delta.
func (e *StreamEncoder) chunk() []byte {
	b := append(e.buf[:0], e.head...)
	return append(b, `,"choices":[{"index":0,"delta":{`...)
}

// send ends a chunk begun by chunk and writes it.
func (e *StreamEncoder) send(b []byte) error {
	if e.includeUsage {
		b = append(b, `,"usage":null`...)
	}
	b = append(b, '}')
	e.buf = b
	return e.w.WriteData(b)
}

func (e *StreamEncoder) writeError(err *llm.Error) error {
	if e.failed {
		return nil
	}
	e.failed = true
	e.buf = appendErrorBody(e.buf[:0], err)
	return e.w.WriteData(e.buf)
}

// Close ends the stream. With err nil it writes the usage chunk (when the
// request asked for usage and an EventUsage came) and "data: [DONE]";
// otherwise it writes err as an {"error":{...}} event and no [DONE].
// After an EventError it writes nothing: that event ended the stream. An
// err that is not an [*llm.Error] is written as a server error with its
// message. Close is idempotent.
func (e *StreamEncoder) Close(err error) error {
	if e.closed {
		return nil
	}
	e.closed = true
	if e.failed {
		return nil // the error event ended the stream
	}
	if err != nil {
		var le *llm.Error
		if !errors.As(err, &le) {
			le = &llm.Error{Kind: llm.ErrServer, Message: err.Error()}
		}
		return e.writeError(le)
	}
	if e.includeUsage && e.hasUsage {
		e.ensureStart()
		b := append(e.buf[:0], e.head...)
		b = append(b, `,"choices":[],"usage":`...)
		u := &e.usage
		b = append(b, `{"prompt_tokens":`...)
		b = strconv.AppendInt(b, u.InputTokens, 10)
		b = append(b, `,"completion_tokens":`...)
		b = strconv.AppendInt(b, u.OutputTokens, 10)
		b = append(b, `,"total_tokens":`...)
		b = strconv.AppendInt(b, u.Total(), 10)
		b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
		b = strconv.AppendInt(b, u.CacheReadTokens, 10)
		b = append(b, `},"completion_tokens_details":{"reasoning_tokens":`...)
		b = strconv.AppendInt(b, u.ReasoningTokens, 10)
		b = append(b, "}}}"...)
		e.buf = b
		if err := e.w.WriteData(b); err != nil {
			return err
		}
	}
	if e.hasUsage && e.usage.CacheWriteTokens != 0 {
		e.losses = append(e.losses, llm.Loss{Field: "usage.cache_write_tokens", Reason: "no equivalent in openai"})
	}
	return e.w.WriteData(doneData)
}

// Losses returns what the stream could not carry so far: parts OpenAI
// has no place for (media, redacted reasoning), reasoning signatures,
// finish reasons it has no word for, cache-write token counts.
func (e *StreamEncoder) Losses() []llm.Loss { return e.losses }

// doneData is the data of the stream's last event.
var doneData = []byte("[DONE]")
