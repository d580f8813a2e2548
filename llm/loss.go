package llm

// Loss is something a translation between formats could not carry: a
// field, a part or a value the target format has no place for, or had to
// change. Codecs report every one, so that nothing is dropped silently.
type Loss struct {
	// Field names what was lost, as a path in the source format (e.g.
	// "logit_bias", "messages[2].content[0].cache_control", "n").
	Field string
	// Reason says why, in lower case (e.g. "no equivalent in anthropic",
	// "budget_tokens 4096 sent as reasoning_effort medium").
	Reason string
}

// String returns "field: reason".
func (l Loss) String() string { return l.Field + ": " + l.Reason }
