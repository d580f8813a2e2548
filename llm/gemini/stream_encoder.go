package gemini

import (
	"strconv"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// StreamEncoder writes model events as a streamGenerateContent?alt=sse
// stream: each text or reasoning delta a chunk of its own, each tool call
// one chunk when its part ends (Gemini sends whole calls), and the
// finishReason with the usage in a last chunk, written by Close.
type StreamEncoder struct {
	w      *sse.Writer
	buf    []byte // the chunk being written, reused
	id     string
	model  string
	losses []llm.Loss

	call     llm.ToolCall // the tool call being aggregated
	args     []byte
	inCall   bool
	finish   llm.FinishReason
	raw      string
	finished bool
	usage    llm.Usage
	hasUsage bool
	closed   bool
	sigLoss  bool
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
		if ev.PartType == llm.PartToolCall {
			e.inCall, e.args = true, e.args[:0]
			e.call = llm.ToolCall{}
			if ev.ToolCall != nil {
				e.call.ID, e.call.Name = ev.ToolCall.ID, ev.ToolCall.Name
			}
		}
	case llm.EventDelta:
		if ev.Signature != "" && !e.sigLoss {
			e.sigLoss = true
			e.loss("signature", "signature not from gemini not sent")
		}
		switch ev.PartType {
		case llm.PartToolCall:
			e.args = append(e.args, ev.Arguments...)
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
		if e.inCall {
			e.inCall = false
			return e.writeCall()
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
			return e.w.WriteData(errorBody(ev.Err, ev.Err.HTTPStatus()))
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
		return e.w.WriteData(errorBody(le, le.HTTPStatus()))
	}
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

func (e *StreamEncoder) writeCall() error {
	args, err := argsObject(string(e.args))
	if err != nil {
		return &llm.Error{Kind: llm.ErrServer, Message: "gemini: tool call " + e.call.Name + ": " + err.Error()}
	}
	b := append(e.buf[:0], `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{`...)
	if !isMadeUp(e.call.ID) {
		b = append(b, `"id":`...)
		b = appendJSONString(b, e.call.ID)
		b = append(b, ',')
	}
	b = append(b, `"name":`...)
	b = appendJSONString(b, e.call.Name)
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

// appendJSONString appends s as a JSON string, without allocating.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
