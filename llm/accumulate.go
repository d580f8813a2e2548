package llm

import "strings"

// Accumulator builds the [Response] a [Stream]'s events add up to: for a
// client that asked for a whole response from a provider that streamed,
// and for tests. Its zero value is ready to use.
type Accumulator struct {
	res   Response
	parts []*accPart // pointers: a part's builders must not be copied
	err   *Error
}

// accPart is a part being built.
type accPart struct {
	started               bool
	typ                   PartType
	call                  ToolCall
	text, args, signature strings.Builder
}

// Add takes the next event of the stream.
func (a *Accumulator) Add(ev Event) {
	switch ev.Type {
	case EventStart:
		a.res.ID, a.res.Model = ev.ID, ev.Model
		a.res.Losses = append(a.res.Losses, ev.Losses...)
	case EventPartStart, EventDelta, EventPartEnd:
		p := a.part(ev.Index)
		if !p.started {
			p.started, p.typ = true, ev.PartType
		}
		if ev.ToolCall != nil {
			if ev.ToolCall.ID != "" {
				p.call.ID = ev.ToolCall.ID
			}
			if ev.ToolCall.Name != "" {
				p.call.Name = ev.ToolCall.Name
			}
		}
		p.text.WriteString(ev.Text)
		p.args.WriteString(ev.Arguments)
		p.signature.WriteString(ev.Signature)
	case EventFinish:
		a.res.FinishReason, a.res.RawFinishReason, a.res.StopSequence = ev.FinishReason, ev.RawFinishReason, ev.StopSequence
		a.res.Losses = append(a.res.Losses, ev.Losses...)
	case EventUsage:
		if ev.Usage != nil {
			a.res.Usage = *ev.Usage
		}
	case EventError:
		a.err = ev.Err
	}
}

func (a *Accumulator) part(i int) *accPart {
	if i < 0 {
		i = 0
	}
	for len(a.parts) <= i {
		a.parts = append(a.parts, &accPart{})
	}
	return a.parts[i]
}

// Response returns what the events added up to, and the error an
// EventError carried, if any.
func (a *Accumulator) Response() (*Response, *Error) {
	res := a.res
	res.Message = Message{Role: RoleAssistant}
	for _, p := range a.parts {
		if !p.started {
			continue
		}
		part := Part{Type: p.typ, Signature: p.signature.String()}
		switch p.typ {
		case PartToolCall:
			call := p.call
			call.Arguments = p.args.String()
			part.ToolCall = &call
		default:
			part.Text = p.text.String()
		}
		res.Message.Parts = append(res.Message.Parts, part)
	}
	return &res, a.err
}
