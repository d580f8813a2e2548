package llm

// Role is the author of a [Message].
type Role string

// The roles of the normalized model.
const (
	// RoleSystem: instructions to the model, before the conversation.
	RoleSystem Role = "system"
	// RoleDeveloper: OpenAI's name for system instructions to reasoning
	// models; formats without it read it as RoleSystem.
	RoleDeveloper Role = "developer"
	// RoleUser: the person (or program) the model answers.
	RoleUser Role = "user"
	// RoleAssistant: the model.
	RoleAssistant Role = "assistant"
	// RoleTool: the results of tool calls, as OpenAI sends them (one
	// message per result). Anthropic and Gemini send results in a user
	// turn; the model accepts [PartToolResult] parts in either.
	RoleTool Role = "tool"
)

// Message is one turn of a conversation: its author and its parts, in
// order.
type Message struct {
	Role Role
	// Name is OpenAI's optional participant name; "" for none.
	Name string
	// Parts are the message's content in order: text, media, reasoning,
	// tool calls (from the assistant) and tool results.
	Parts []Part
}

// Text returns the concatenated text of m's [PartText] parts.
func (m *Message) Text() string {
	var n int
	var only string
	for i := range m.Parts {
		if m.Parts[i].Type == PartText {
			n++
			only = m.Parts[i].Text
		}
	}
	if n <= 1 {
		return only // no copy for the common single text part
	}
	var b []byte
	for i := range m.Parts {
		if m.Parts[i].Type == PartText {
			b = append(b, m.Parts[i].Text...)
		}
	}
	return string(b)
}

// ToolCalls returns the tool calls among m's parts, in order.
func (m *Message) ToolCalls() []*ToolCall {
	var out []*ToolCall
	for i := range m.Parts {
		if m.Parts[i].Type == PartToolCall && m.Parts[i].ToolCall != nil {
			out = append(out, m.Parts[i].ToolCall)
		}
	}
	return out
}

// PartType is the kind of a [Part].
type PartType uint8

// The kinds of parts.
const (
	// PartText: Text holds text.
	PartText PartType = iota + 1
	// PartImage: Media holds an image, by URL or inline data.
	PartImage
	// PartFile: Media holds a document or other file (a PDF, audio), by
	// URL or inline data.
	PartFile
	// PartReasoning: Text holds the model's reasoning (Anthropic
	// "thinking", Gemini thought parts, OpenAI-compatible
	// "reasoning_content"), and Signature the provider's signature over
	// it, which must be sent back unchanged in later turns.
	PartReasoning
	// PartRedactedReasoning: reasoning the provider keeps encrypted
	// (Anthropic "redacted_thinking"); Signature holds its opaque data.
	PartRedactedReasoning
	// PartRefusal: Text holds a refusal (OpenAI message.refusal).
	PartRefusal
	// PartToolCall: ToolCall holds a call the model asks for.
	PartToolCall
	// PartToolResult: ToolResult holds the answer to a tool call.
	PartToolResult
)

var partTypeNames = [...]string{"", "text", "image", "file", "reasoning", "redacted_reasoning", "refusal", "tool_call", "tool_result"}

// String returns the part type's name, e.g. "tool_call".
func (t PartType) String() string {
	if int(t) < len(partTypeNames) && t != 0 {
		return partTypeNames[t]
	}
	return "unknown"
}

// Part is one piece of a message's content. Type says which of its fields
// are set.
type Part struct {
	Type PartType
	// Text is the text of a PartText, PartReasoning or PartRefusal.
	Text string
	// Signature is a provider's opaque token attached to the part:
	// Anthropic's thinking signature or redacted thinking data, Gemini's
	// thoughtSignature (which may come on any part). It is sent back as
	// it came, and only to the format it came from.
	Signature string
	// Media is the image or file of a PartImage or PartFile.
	Media *Media
	// ToolCall is the call of a PartToolCall.
	ToolCall *ToolCall
	// ToolResult is the result of a PartToolResult.
	ToolResult *ToolResult
	// Cache marks the end of a prompt prefix the provider may cache
	// (Anthropic cache_control); nil for none.
	Cache *CacheHint
}

// Media is an image or a file, given by URL or inline.
type Media struct {
	// MediaType is the MIME type, e.g. "image/png"; it may be "" for a
	// URL.
	MediaType string
	// Data is the content, when inline.
	Data []byte
	// URL locates the content when it is not inline: http(s), or a
	// provider's file URI.
	URL string
	// Detail is OpenAI's image detail ("low", "high", "auto"); "" for
	// none.
	Detail string
	// Name is a file name, when the format carries one.
	Name string
}

// ToolCall is a call of a tool (a function) the model asks for.
type ToolCall struct {
	// ID identifies the call, for its result; providers that have none
	// (Gemini) get one made up by the codec.
	ID string
	// Name is the tool's name.
	Name string
	// Arguments is the call's arguments, a JSON object as text. While a
	// stream is in progress it may be a prefix of one.
	Arguments string
}

// ToolResult is the answer to a [ToolCall].
type ToolResult struct {
	// CallID is the [ToolCall.ID] it answers.
	CallID string
	// Name is the tool's name, when known (Gemini requires it; codecs
	// find it from the call when the source format has none).
	Name string
	// Parts are the result: text, or text and images.
	Parts []Part
	// IsError says the tool failed (Anthropic is_error).
	IsError bool
}

// CacheHint marks a prompt-cache breakpoint.
type CacheHint struct {
	// TTL is the cache lifetime asked for, as Anthropic writes it ("5m",
	// "1h"); "" for the provider's default.
	TTL string
}
