package gemini

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// maxEvent bounds one SSE event of a stream (a chunk can carry an inline
// image).
const maxEvent = 32 << 20

// maxChunkParts bounds the parts of one stream chunk: each becomes events
// far larger than its JSON, so a chunk of many tiny parts would cost
// memory out of proportion to its size. Gemini sends a few.
const maxChunkParts = 1000

// streamDecoder reads a streamGenerateContent?alt=sse body into model
// events.
type streamDecoder struct {
	r      *sse.Reader
	body   io.Reader
	losses []llm.Loss

	queue []llm.Event // events decoded and not yet returned
	next  int

	started  bool
	open     bool         // a text or reasoning part is open
	kind     llm.PartType // its type
	index    int          // the index of the next part
	calls    int          // tool calls so far
	toolCall bool         // a tool call was seen
	suffix   string       // of the made-up call ids, chosen at the first
	others   bool         // other candidates were reported as a loss
	finished bool         // a finishReason was seen
	usage    *llm.Usage   // the latest usage
	// pendingLoss is the loss of other candidates seen after the start,
	// for the EventFinish.
	pendingLoss []llm.Loss
	err         error // the error to return once the queue is empty
}

// NewStreamDecoder returns the model events of a Gemini SSE stream. Its
// first event is EventStart; text in consecutive chunks is one part,
// with a new part when the kind changes (thought or text); each
// functionCall is a PartStart, one Delta with the whole arguments, and a
// PartEnd; a finishReason is EventFinish, followed by EventUsage. A
// stream that ends without a finishReason gives an EventUsage with
// Source [llm.UsageCutShort], an EventError, then io.ErrUnexpectedEOF.
// Only candidate 0 is read: other candidates (candidateCount above 1)
// are reported once as a loss, on the EventStart when the first chunk
// has them, else on the EventFinish. Empty text parts without a
// signature give no event; a chunk of more than 1000 parts is an error.
// Close closes body when it is an io.Closer.
func NewStreamDecoder(body io.Reader) llm.Stream {
	return newStreamDecoder(body, nil)
}

func newStreamDecoder(body io.Reader, losses []llm.Loss) *streamDecoder {
	return &streamDecoder{r: sse.NewReader(body, maxEvent), body: body, losses: losses}
}

// Next returns the next event, io.EOF after the last one.
func (d *streamDecoder) Next() (llm.Event, error) {
	for d.next >= len(d.queue) {
		if d.err != nil {
			return llm.Event{}, d.err
		}
		d.queue, d.next = d.queue[:0], 0
		d.read()
	}
	ev := d.queue[d.next]
	d.queue[d.next] = llm.Event{} // drop references
	d.next++
	return ev, nil
}

// Close ends the stream and closes the body.
func (d *streamDecoder) Close() error {
	if d.err == nil {
		d.err = io.EOF
	}
	if c, ok := d.body.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// read decodes the next SSE event into the queue, or sets err.
func (d *streamDecoder) read() {
	ev, err := d.r.Next()
	if err != nil {
		d.end(err)
		return
	}
	if len(ev.Data) == 0 {
		return // a comment or an event without data
	}
	var w struct {
		Candidates []struct {
			Content      *wireContent `json:"content"`
			FinishReason string       `json:"finishReason"`
			Index        int          `json:"index"`
		} `json:"candidates"`
		UsageMetadata  *wireUsage                    `json:"usageMetadata"`
		ResponseID     string                        `json:"responseId"`
		ModelVersion   string                        `json:"modelVersion"`
		PromptFeedback *struct{ BlockReason string } `json:"promptFeedback"`
		Error          *wireErrorBody                `json:"error"`
	}
	if err := json.Unmarshal(ev.Data, &w); err != nil {
		d.fail(&llm.Error{Kind: llm.ErrServer, Message: "gemini: malformed stream chunk: " + err.Error()})
		return
	}
	if w.Error != nil {
		e := &llm.Error{}
		decodeErrorBody(e, w.Error)
		if e.Status == 0 {
			e.Status = 500
		}
		if e.Kind == "" {
			e.Kind = llm.KindOf(e.Status)
		}
		d.fail(e)
		return
	}
	c0, other := -1, false
	for i := range w.Candidates {
		if w.Candidates[i].Index == 0 {
			if c0 < 0 {
				c0 = i
			}
		} else {
			other = true
		}
	}
	var otherLoss []llm.Loss
	if other && !d.others {
		d.others = true
		otherLoss = []llm.Loss{{Field: "candidates", Reason: "only candidate 0 is streamed"}}
	}
	if !d.started {
		d.started = true
		d.queue = append(d.queue, llm.Event{Type: llm.EventStart, ID: w.ResponseID, Model: w.ModelVersion, Losses: append(d.losses, otherLoss...)})
		otherLoss = nil
	}
	if w.UsageMetadata != nil {
		u := usage(w.UsageMetadata)
		d.usage = &u
	}
	if otherLoss != nil {
		d.pendingLoss = otherLoss
	}
	finish := ""
	if c0 >= 0 {
		c := &w.Candidates[c0]
		if c.Content != nil && len(c.Content.Parts) > maxChunkParts {
			d.fail(&llm.Error{Kind: llm.ErrServer, Message: "gemini: a stream chunk of " + strconv.Itoa(len(c.Content.Parts)) + " parts; at most " + strconv.Itoa(maxChunkParts) + " are read"})
			return
		}
		if c.Content != nil {
			for j := range c.Content.Parts {
				d.part(&c.Content.Parts[j])
			}
		}
		finish = c.FinishReason
	} else if len(w.Candidates) == 0 && w.PromptFeedback != nil && w.PromptFeedback.BlockReason != "" && !d.finished {
		d.finished = true
		d.queue = append(d.queue, llm.Event{Type: llm.EventFinish, FinishReason: llm.FinishContentFilter, RawFinishReason: w.PromptFeedback.BlockReason, Losses: d.takeLoss()})
	}
	switch {
	case finish != "" && !d.finished:
		d.finished = true
		d.closePart()
		d.queue = append(d.queue, llm.Event{Type: llm.EventFinish, FinishReason: FinishReason(finish, d.toolCall), RawFinishReason: finish, Losses: d.takeLoss()})
		if d.usage != nil {
			d.queue = append(d.queue, llm.Event{Type: llm.EventUsage, Usage: d.usage})
		}
	case d.finished && w.UsageMetadata != nil: // usage in a chunk after the finish
		d.queue = append(d.queue, llm.Event{Type: llm.EventUsage, Usage: d.usage})
	}
}

// takeLoss returns the pending loss for an EventFinish, once.
func (d *streamDecoder) takeLoss() []llm.Loss {
	l := d.pendingLoss
	d.pendingLoss = nil
	return l
}

// part turns one part of a chunk into events.
func (d *streamDecoder) part(p *wirePart) {
	switch {
	case p.FunctionCall != nil:
		d.closePart()
		id := p.FunctionCall.ID
		if id == "" {
			if d.suffix == "" {
				d.suffix = idSuffix()
			}
			id = madeUpID(d.calls, d.suffix)
		}
		args, err := argsText(p.FunctionCall.Args)
		if err != nil {
			args = string(p.FunctionCall.Args)
		}
		i, ti := d.index, d.calls
		d.index++
		d.calls++
		d.toolCall = true
		d.queue = append(d.queue,
			llm.Event{Type: llm.EventPartStart, Index: i, PartType: llm.PartToolCall, ToolIndex: ti, ToolCall: &llm.ToolCall{ID: id, Name: p.FunctionCall.Name}},
			llm.Event{Type: llm.EventDelta, Index: i, PartType: llm.PartToolCall, ToolIndex: ti, Arguments: args, Signature: p.ThoughtSignature},
			llm.Event{Type: llm.EventPartEnd, Index: i, PartType: llm.PartToolCall, ToolIndex: ti})
	case p.Text != nil:
		if *p.Text == "" && p.ThoughtSignature == "" {
			return // carries nothing
		}
		kind := llm.PartText
		if p.Thought {
			kind = llm.PartReasoning
		}
		if !d.open || d.kind != kind {
			d.closePart()
			d.open, d.kind = true, kind
			d.queue = append(d.queue, llm.Event{Type: llm.EventPartStart, Index: d.index, PartType: kind})
		}
		d.queue = append(d.queue, llm.Event{Type: llm.EventDelta, Index: d.index, PartType: kind, Text: *p.Text, Signature: p.ThoughtSignature})
	}
	// inlineData, executableCode and codeExecutionResult parts have no
	// stream event in the model: the package documentation lists them.
}

func (d *streamDecoder) closePart() {
	if d.open {
		d.queue = append(d.queue, llm.Event{Type: llm.EventPartEnd, Index: d.index, PartType: d.kind})
		d.open = false
		d.index++
	}
}

// end handles the end of the body: clean after a finishReason, cut short
// otherwise.
func (d *streamDecoder) end(err error) {
	if d.finished && errors.Is(err, io.EOF) {
		d.err = io.EOF
		return
	}
	if !d.started {
		d.started = true
		d.queue = append(d.queue, llm.Event{Type: llm.EventStart, Losses: d.losses})
	}
	msg := "gemini: stream ended without a finish reason"
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "gemini: stream failed: " + err.Error()
	}
	d.closePart()
	u := llm.Usage{Source: llm.UsageCutShort}
	if d.usage != nil {
		u = *d.usage
		u.Source = llm.UsageCutShort
	}
	d.queue = append(d.queue,
		llm.Event{Type: llm.EventUsage, Usage: &u},
		llm.Event{Type: llm.EventError, Err: &llm.Error{Kind: llm.ErrServer, Message: msg}})
	d.err = io.ErrUnexpectedEOF
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		d.err = err
	}
}

// fail ends the stream with an error the provider sent.
func (d *streamDecoder) fail(e *llm.Error) {
	if !d.started {
		d.started = true
		d.queue = append(d.queue, llm.Event{Type: llm.EventStart, Losses: d.losses})
	}
	d.closePart()
	if d.usage != nil && !d.finished {
		u := *d.usage
		u.Source = llm.UsageCutShort
		d.queue = append(d.queue, llm.Event{Type: llm.EventUsage, Usage: &u})
	}
	d.queue = append(d.queue, llm.Event{Type: llm.EventError, Err: e})
	d.err = e
}
