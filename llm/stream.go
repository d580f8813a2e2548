package llm

// Stream is a response arriving as events. Next returns them in order and
// io.EOF after the last; Close ends the stream early and releases its
// connection. A Stream is used by one goroutine.
type Stream interface {
	Next() (Event, error)
	Close() error
}

// EventType is the kind of an [Event].
type EventType uint8

// The kinds of stream events. A well-formed stream is EventStart, then for
// each part EventPartStart, EventDeltas and EventPartEnd (parts may
// interleave only when the format interleaves them), then EventFinish and
// EventUsage in either order; EventPing may come anywhere, and EventError
// ends a stream that failed part way.
const (
	// EventStart: the response begins. ID, Model, and the Losses of the
	// request's translation, if any.
	EventStart EventType = iota + 1
	// EventPartStart: a part of PartType begins at Index. For a tool call,
	// ToolCall holds its ID and Name, and ToolIndex its position among
	// the message's tool calls.
	EventPartStart
	// EventDelta: more of the part at Index: Text for text, reasoning
	// and refusals, Arguments for a tool call, Signature for reasoning.
	EventDelta
	// EventPartEnd: the part at Index is complete.
	EventPartEnd
	// EventFinish: generation stopped; FinishReason, RawFinishReason and
	// StopSequence say why.
	EventFinish
	// EventUsage: Usage holds the figures so far; the last one counts.
	EventUsage
	// EventError: the provider failed part way; Err says how.
	EventError
	// EventPing: a keep-alive with no content.
	EventPing
)

var eventTypeNames = [...]string{"", "start", "part_start", "delta", "part_end", "finish", "usage", "error", "ping"}

// String returns the event type's name, e.g. "part_start".
func (t EventType) String() string {
	if int(t) < len(eventTypeNames) && t != 0 {
		return eventTypeNames[t]
	}
	return "unknown"
}

// Event is one step of a [Stream]. Type says which fields are set. It is
// passed by value.
type Event struct {
	Type EventType
	// ID and Model are the response's, on EventStart.
	ID, Model string
	// Index is the part's position in the message, on the part events.
	Index int
	// PartType is the part's kind, on EventPartStart and EventDelta.
	PartType PartType
	// ToolIndex is a tool call's position among the message's tool
	// calls, on the part events of a PartToolCall.
	ToolIndex int
	// ToolCall holds a tool call's ID and Name, on its EventPartStart.
	ToolCall *ToolCall
	// Text, Arguments and Signature are the content of an EventDelta.
	Text      string
	Arguments string
	Signature string
	// FinishReason, RawFinishReason and StopSequence are set on
	// EventFinish.
	FinishReason    FinishReason
	RawFinishReason string
	StopSequence    string
	// Usage is set on EventUsage.
	Usage *Usage
	// Err is set on EventError.
	Err *Error
	// Losses lists what the request's translation could not carry, on
	// EventStart, and what the response's could not, when known only at
	// the end, on EventFinish.
	Losses []Loss
}
