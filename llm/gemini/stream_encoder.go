package gemini

import (
	"strconv"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/internal/jsonw"
	"github.com/vivremotion/gateway/llm/sse"
)

// StreamEncoder writes model events as a streamGenerateContent?alt=sse
// stream: each text or reasoning delta a chunk of its own, each tool call
// one chunk (Gemini sends whole calls), and the finishReason with the
// usage in a last chunk, written by Close. The arguments of a call are
// gathered by part Index, so calls whose events interleave keep their
// own; a call is written when its part ends with arguments that are a
// whole JSON object, else (more deltas may follow an end when calls
// interleave) by Close, before the last chunk.
type StreamEncoder struct {
	w      *sse.Writer
	buf    []byte // the chunk being written, reused
	id     string
	model  string
	losses []llm.Loss

	calls    []pendingCall // tool calls not written yet, in order of start
	finish   llm.FinishReason
	raw      string
	finished bool
	usage    llm.Usage
	hasUsage bool
	closed   bool
	sigLoss  bool
}

// pendingCall is a tool call being gathered.
type pendingCall struct {
	index    int // its part's Index
	id, name string
	args     []byte
}

// NewStreamEncoder returns an encoder writing to w. req is the client's
// request; Gemini streams need nothing from it.
func NewStreamEncoder(w *sse.Writer, req *llm.Request) *StreamEncoder {
	_ = req
	return &StreamEncoder{w: w, buf: make([]byte, 0, 512)}
}

// Encode writes the chunks for ev, if any. Signatures are not written:
// a stream is encoded only for a client whose format differs from the
// provider's, so they come from another format (reported once as a
// loss).
func (e *StreamEncoder) Encode(ev llm.Event) error {
	if e.closed {
		return nil
	}
	switch ev.Type {
	case llm.EventStart:
		e.id, e.model = ev.ID, ev.Model
	case llm.EventPartStart:
		if ev.PartType == llm.PartToolCall && e.call(ev.Index) == nil {
			c := pendingCall{index: ev.Index}
			if ev.ToolCall != nil {
				c.id, c.name = ev.ToolCall.ID, ev.ToolCall.Name
			}
			e.calls = append(e.calls, c)
		}
	case llm.EventDelta:
		if ev.Signature != "" && !e.sigLoss {
			e.sigLoss = true
			e.loss("signature", "signature not from gemini not sent")
		}
		switch ev.PartType {
		case llm.PartToolCall:
			if c := e.call(ev.Index); c != nil {
				c.args = append(c.args, ev.Arguments...)
			} else if ev.Arguments != "" {
				return &llm.Error{Kind: llm.ErrServer, Message: "gemini: arguments for part " + strconv.Itoa(ev.Index) + ", no tool call open there"}
			}
		case llm.PartText, llm.PartReasoning, llm.PartRefusal:
			if ev.Text == "" {
				return nil
			}
			if ev.PartType == llm.PartRefusal {
				e.loss("part["+strconv.Itoa(ev.Index)+"]", "refusal sent as text")
			}
			return e.writeText(ev.Text, ev.PartType == llm.PartReasoning)
		}
	case llm.EventPartEnd:
		for i := range e.calls {
			c := &e.calls[i]
			if c.index != ev.Index {
				continue
			}
			if _, err := argsObject(string(c.args)); len(c.args) == 0 || err != nil {
				return nil // not whole yet: more may come, else Close writes it
			}
			err := e.writeCall(c)
			e.calls = append(e.calls[:i], e.calls[i+1:]...)
			return err
		}
	case llm.EventFinish:
		e.finish, e.raw, e.finished = ev.FinishReason, ev.RawFinishReason, true
	case llm.EventUsage:
		if ev.Usage != nil {
			e.usage, e.hasUsage = *ev.Usage, true
		}
	case llm.EventError:
		if ev.Err != nil {
			e.closed = true
			_, b := EncodeError(ev.Err)
			return e.w.WriteData(b)
		}
	case llm.EventPing:
		return e.w.WriteComment("")
	}
	return nil
}

// Close writes the last chunk (finishReason and usageMetadata), or, when
// err is not nil, an error chunk in Gemini's error shape.
func (e *StreamEncoder) Close(err error) error {
	if e.closed {
		return nil
	}
	e.closed = true
	if err != nil {
		le, ok := err.(*llm.Error)
		if !ok {
			le = &llm.Error{Kind: llm.ErrServer, Message: err.Error()}
		}
		_, b := EncodeError(le)
		return e.w.WriteData(b)
	}
	for i := range e.calls {
		if err := e.writeCall(&e.calls[i]); err != nil {
			return err
		}
	}
	e.calls = e.calls[:0]
	if !e.finished && !e.hasUsage {
		return nil
	}
	b := append(e.buf[:0], `{"candidates":[{"content":{"role":"model","parts":[]},`...)
	if e.finished {
		word, exact := finishWord(e.finish, e.raw)
		if !exact {
			e.loss("finish_reason", string(e.finish)+" sent as "+word)
		}
		b = append(b, `"finishReason":`...)
		b = appendJSONString(b, word)
		b = append(b, ',')
	}
	b = append(b, `"index":0}]`...)
	if e.hasUsage {
		u := &e.usage
		b = append(b, `,"usageMetadata":{"promptTokenCount":`...)
		b = strconv.AppendInt(b, u.InputTokens, 10)
		b = append(b, `,"candidatesTokenCount":`...)
		b = strconv.AppendInt(b, u.OutputTokens-u.ReasoningTokens, 10)
		if u.CacheReadTokens > 0 {
			b = append(b, `,"cachedContentTokenCount":`...)
			b = strconv.AppendInt(b, u.CacheReadTokens, 10)
		}
		if u.ReasoningTokens > 0 {
			b = append(b, `,"thoughtsTokenCount":`...)
			b = strconv.AppendInt(b, u.ReasoningTokens, 10)
		}
		b = append(b, `,"totalTokenCount":`...)
		b = strconv.AppendInt(b, u.InputTokens+u.OutputTokens, 10)
		b = append(b, '}')
	}
	b = e.appendTail(b)
	e.buf = b
	return e.w.WriteData(b)
}

// Losses returns what the stream could not carry so far.
func (e *StreamEncoder) Losses() []llm.Loss { return e.losses }

func (e *StreamEncoder) loss(field, reason string) {
	for _, l := range e.losses {
		if l.Field == field && l.Reason == reason {
			return
		}
	}
	e.losses = append(e.losses, llm.Loss{Field: field, Reason: reason})
}

func (e *StreamEncoder) writeText(text string, thought bool) error {
	b := append(e.buf[:0], `{"candidates":[{"content":{"role":"model","parts":[{`...)
	if thought {
		b = append(b, `"thought":true,`...)
	}
	b = append(b, `"text":`...)
	b = appendJSONString(b, text)
	b = append(b, `}]},"index":0}]`...)
	b = e.appendTail(b)
	e.buf = b
	return e.w.WriteData(b)
}

// call returns the pending call of part index, nil when none.
func (e *StreamEncoder) call(index int) *pendingCall {
	for i := range e.calls {
		if e.calls[i].index == index {
			return &e.calls[i]
		}
	}
	return nil
}

func (e *StreamEncoder) writeCall(c *pendingCall) error {
	args, err := argsObject(string(c.args))
	if err != nil {
		return &llm.Error{Kind: llm.ErrServer, Message: "gemini: tool call " + c.name + ": " + err.Error()}
	}
	b := append(e.buf[:0], `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{`...)
	if !isMadeUp(c.id) {
		b = append(b, `"id":`...)
		b = appendJSONString(b, c.id)
		b = append(b, ',')
	}
	b = append(b, `"name":`...)
	b = appendJSONString(b, c.name)
	b = append(b, `,"args":`...)
	b = append(b, compactBytes(args)...)
	b = append(b, `}}]},"index":0}]`...)
	b = e.appendTail(b)
	e.buf = b
	return e.w.WriteData(b)
}

func (e *StreamEncoder) appendTail(b []byte) []byte {
	if e.model != "" {
		b = append(b, `,"modelVersion":`...)
		b = appendJSONString(b, e.model)
	}
	if e.id != "" {
		b = append(b, `,"responseId":`...)
		b = appendJSONString(b, e.id)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string ([jsonw.AppendString]).
func appendJSONString(b []byte, s string) []byte { return jsonw.AppendString(b, s) }
