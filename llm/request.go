package llm

import "encoding/json"

// Request is a chat request in the normalized model: what every ingress
// format decodes into and every provider format encodes from.
type Request struct {
	// Model names the model the client asked for: a name the router
	// knows, or the provider's own once routed.
	Model string
	// Messages is the conversation, system instructions first when there
	// are any (RoleSystem or RoleDeveloper messages).
	Messages []Message

	// MaxTokens caps the output tokens (reasoning included); 0 means the
	// provider's default (a codec whose format requires one supplies it).
	MaxTokens int
	// Temperature, TopP and TopK, when not nil, steer sampling.
	Temperature *float64
	TopP        *float64
	TopK        *int
	// PresencePenalty and FrequencyPenalty, when not nil, are OpenAI's
	// (and Gemini's) repetition penalties.
	PresencePenalty  *float64
	FrequencyPenalty *float64
	// Stop lists sequences that end generation.
	Stop []string
	// Seed, when not nil, asks for repeatable sampling.
	Seed *int64
	// N is how many choices to generate; 0 and 1 mean one. The model
	// carries one choice only: N above 1 is a loss wherever it is not
	// passed through.
	N int

	// Tools are the functions the model may call.
	Tools []Tool
	// ToolChoice says whether and which tool the model must call; nil
	// for the provider's default (auto when there are tools).
	ToolChoice *ToolChoice
	// ParallelToolCalls, when not nil, allows or forbids several tool
	// calls in one turn.
	ParallelToolCalls *bool

	// ResponseFormat asks for JSON output, optionally to a schema; nil
	// for text.
	ResponseFormat *ResponseFormat
	// Reasoning asks for (or bounds) the model's reasoning; nil for the
	// provider's default.
	Reasoning *Reasoning

	// User identifies the end user to the provider, for abuse
	// monitoring (OpenAI user, Anthropic metadata.user_id).
	User string
	// Stream asks for the response as a stream of events.
	Stream bool
	// StreamUsage asks for usage at the end of a stream (OpenAI
	// stream_options.include_usage); other formats always report it.
	StreamUsage bool

	// Extra holds the top-level fields of the source format that the
	// model has no place for, as they came (e.g. OpenAI logit_bias,
	// Gemini safetySettings). An encoder for ExtraFormat writes them back
	// unchanged; one for any other format reports each as a [Loss].
	Extra       map[string]json.RawMessage
	ExtraFormat Format
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments, as the client
	// wrote it; nil for none.
	Parameters json.RawMessage
	// Strict, when not nil, asks for arguments that follow Parameters
	// exactly (OpenAI strict).
	Strict *bool
}

// ToolChoiceMode says how the model uses the tools.
type ToolChoiceMode string

// The tool choice modes.
const (
	// ToolAuto: the model decides.
	ToolAuto ToolChoiceMode = "auto"
	// ToolNone: the model calls no tool.
	ToolNone ToolChoiceMode = "none"
	// ToolRequired: the model calls at least one tool (Anthropic "any",
	// Gemini ANY).
	ToolRequired ToolChoiceMode = "required"
	// ToolNamed: the model calls the tool named in [ToolChoice.Name].
	ToolNamed ToolChoiceMode = "tool"
)

// ToolChoice says whether and which tool the model must call.
type ToolChoice struct {
	Mode ToolChoiceMode
	// Name is the tool of ToolNamed.
	Name string
}

// ResponseFormatType is the kind of output a [ResponseFormat] asks for.
type ResponseFormatType string

// The response format types.
const (
	// FormatText: free text, the default.
	FormatText ResponseFormatType = "text"
	// FormatJSONObject: any JSON object.
	FormatJSONObject ResponseFormatType = "json_object"
	// FormatJSONSchema: JSON that follows Schema.
	FormatJSONSchema ResponseFormatType = "json_schema"
)

// ResponseFormat asks for structured output.
type ResponseFormat struct {
	Type ResponseFormatType
	// Name, Description, Schema and Strict describe the schema of
	// FormatJSONSchema (OpenAI json_schema).
	Name        string
	Description string
	Schema      json.RawMessage
	Strict      *bool
}

// Reasoning asks for the model's reasoning: by effort (OpenAI
// reasoning_effort), by token budget (Anthropic thinking, Gemini
// thinkingBudget), or both; a codec converts one to the other where its
// format has only one, and reports the conversion as a [Loss].
type Reasoning struct {
	// Effort is "minimal", "low", "medium" or "high"; "" for none given.
	Effort string
	// BudgetTokens is the tokens the model may spend reasoning; 0 for
	// none given.
	BudgetTokens int
	// Disabled turns reasoning off where the provider allows it.
	Disabled bool
	// IncludeThoughts asks for the reasoning text in the response
	// (Gemini includeThoughts); Anthropic always returns it.
	IncludeThoughts bool
}
