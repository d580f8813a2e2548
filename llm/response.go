package llm

import (
	"encoding/json"
	"time"
)

// Response is a complete (not streamed) chat response in the normalized
// model.
type Response struct {
	// ID is the provider's response id; "" when it gave none.
	ID string
	// Model is the model that answered, as the provider names it.
	Model string
	// Created is when the provider made the response, zero when unknown.
	Created time.Time
	// Message is the answer, with Role RoleAssistant: text, reasoning,
	// refusals and tool calls, in order.
	Message Message
	// FinishReason says why generation stopped.
	FinishReason FinishReason
	// RawFinishReason is the provider's own word for it (e.g. Anthropic
	// "end_turn", Gemini "SAFETY"), for an encoder of the same format.
	RawFinishReason string
	// StopSequence is the stop sequence that ended generation, when the
	// provider says which.
	StopSequence string
	Usage        Usage
	// Extra holds top-level fields of the provider's format the model has
	// no place for (e.g. OpenAI system_fingerprint), for an encoder of
	// ExtraFormat; other encoders report them as losses.
	Extra       map[string]json.RawMessage
	ExtraFormat Format
	// Losses lists what the provider's codec could not carry from the
	// request into its format; the ingress reports them to the client.
	Losses []Loss
}

// FinishReason says why generation stopped, in the model's terms.
type FinishReason string

// The finish reasons. The tables of each codec map its format's reasons
// onto these.
const (
	// FinishStop: the model ended its turn, or hit a stop sequence.
	FinishStop FinishReason = "stop"
	// FinishLength: the output reached MaxTokens (or the context limit).
	FinishLength FinishReason = "length"
	// FinishToolCalls: the model stopped to have its tool calls run.
	FinishToolCalls FinishReason = "tool_calls"
	// FinishContentFilter: output was withheld by a safety filter.
	FinishContentFilter FinishReason = "content_filter"
	// FinishRefusal: the model refused (Anthropic "refusal").
	FinishRefusal FinishReason = "refusal"
	// FinishPause: a long turn paused, to be continued by sending the
	// response back (Anthropic "pause_turn").
	FinishPause FinishReason = "pause"
	// FinishError: generation failed part way.
	FinishError FinishReason = "error"
	// FinishOther: a reason the model has no word for; RawFinishReason
	// holds the provider's.
	FinishOther FinishReason = "other"
)

// UsageSource tells where a [Usage] figure came from.
type UsageSource uint8

// The sources of usage figures.
const (
	// UsageReported: the provider reported the figures.
	UsageReported UsageSource = iota
	// UsageEstimated: the gateway counted them because the provider did
	// not.
	UsageEstimated
	// UsageCutShort: the response ended early (a stream cut off); the
	// figures cover what arrived.
	UsageCutShort
)

var usageSourceNames = [...]string{"reported", "estimated", "cut_short"}

// String returns the source's name: "reported", "estimated" or
// "cut_short".
func (s UsageSource) String() string {
	if int(s) < len(usageSourceNames) {
		return usageSourceNames[s]
	}
	return "unknown"
}

// Usage is the token count of one exchange, normalized: every input token
// counts in InputTokens, cached ones included, and every output token in
// OutputTokens, reasoning included, whatever the provider's own
// convention (Anthropic reports cache reads and writes apart from
// input_tokens; Gemini reports thoughts apart from candidates).
type Usage struct {
	// InputTokens is all the prompt's tokens, CacheReadTokens and
	// CacheWriteTokens included.
	InputTokens int64
	// OutputTokens is all generated tokens, ReasoningTokens included.
	OutputTokens int64
	// CacheReadTokens is the input tokens read from the provider's prompt
	// cache.
	CacheReadTokens int64
	// CacheWriteTokens is the input tokens written to the provider's
	// prompt cache.
	CacheWriteTokens int64
	// ReasoningTokens is the output tokens spent reasoning.
	ReasoningTokens int64
	// Source says where the figures came from.
	Source UsageSource
}

// Total returns InputTokens plus OutputTokens.
func (u Usage) Total() int64 { return u.InputTokens + u.OutputTokens }
