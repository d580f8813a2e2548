package openai

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vivremotion/gateway/llm"
)

// knownResponseFields are the top-level fields of a chat completion that
// DecodeResponse reads into the model.
var knownResponseFields = []string{"id", "object", "created", "model", "choices", "usage"}

// DecodeResponse decodes a chat completion (the body of a non-streamed
// answer) into the model. It keeps choice 0; further choices (n > 1) are
// reported in Response.Losses. system_fingerprint, service_tier and other
// top-level fields go to Extra. Usage.Source is [llm.UsageReported].
func DecodeResponse(body []byte) (*llm.Response, error) {
	if !isObject(body) {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: the response is not a JSON object"}
	}
	var extra map[string]json.RawMessage
	hasError, hasChoices := false, false
	for k, v := range objectFields(body) {
		switch string(k) {
		case "error":
			hasError = string(v) != "null"
		case "choices":
			hasChoices = true
		case "id", "object", "created", "model", "usage":
		default:
			if extra == nil {
				extra = make(map[string]json.RawMessage)
			}
			extra[string(k)] = bytes.Clone(v)
		}
	}
	if hasError && !hasChoices {
		return nil, DecodeError(0, nil, body) // some servers answer errors with 200
	}
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: malformed response: " + jsonReason(err)}
	}
	res := &llm.Response{ID: w.ID, Model: w.Model, Message: llm.Message{Role: llm.RoleAssistant}}
	if w.Created != 0 {
		res.Created = time.Unix(w.Created, 0).UTC()
	}
	if len(w.Choices) == 0 {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: the response has no choices"}
	}
	c := &w.Choices[0]
	for i := range w.Choices {
		if w.Choices[i].Index == 0 {
			c = &w.Choices[i]
		}
	}
	if len(w.Choices) > 1 {
		res.Losses = append(res.Losses, llm.Loss{Field: "choices", Reason: fmt.Sprintf("the model holds one choice: %d more dropped", len(w.Choices)-1)})
	}
	msg, err := decodeMessage(&c.Message, "choices[0].message")
	if err != nil && c.Message.Role == "" {
		c.Message.Role = "assistant" // some servers leave it out
		msg, err = decodeMessage(&c.Message, "choices[0].message")
	}
	if err != nil {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: malformed response: " + err.Error()}
	}
	res.Message.Parts = msg.Parts
	if len(c.Logprobs) > 0 && string(c.Logprobs) != "null" {
		res.Losses = append(res.Losses, llm.Loss{Field: "choices[0].logprobs", Reason: "no place in the model"})
	}
	if c.FinishReason != nil {
		res.FinishReason, res.RawFinishReason = FinishReason(*c.FinishReason), *c.FinishReason
	}
	if w.Usage != nil {
		res.Usage = w.Usage.model()
	}
	if extra != nil {
		res.Extra, res.ExtraFormat = extra, llm.FormatOpenAI
	}
	return res, nil
}

// FinishReason maps an OpenAI finish_reason to the model's:
//
//	stop            FinishStop
//	length          FinishLength
//	tool_calls      FinishToolCalls
//	function_call   FinishToolCalls (the deprecated functions API)
//	content_filter  FinishContentFilter
//	""              "" (no reason yet)
//	anything else   FinishOther
func FinishReason(raw string) llm.FinishReason {
	switch raw {
	case "stop":
		return llm.FinishStop
	case "length":
		return llm.FinishLength
	case "tool_calls", "function_call":
		return llm.FinishToolCalls
	case "content_filter":
		return llm.FinishContentFilter
	case "":
		return ""
	}
	return llm.FinishOther
}

// WireFinishReason maps the model's finish reason to OpenAI's, and says
// whether that lost something. The provider's own word (raw) is kept
// when it is an OpenAI reason of the same meaning (function_call stays
// function_call). FinishRefusal is "stop" (the refusal text travels in
// the message's refusal); FinishPause, FinishError and FinishOther become
// "stop" with a loss.
func WireFinishReason(r llm.FinishReason, raw string) (reason string, lossy bool) {
	if raw != "" && FinishReason(raw) == r && r != llm.FinishOther {
		return raw, false
	}
	switch r {
	case llm.FinishStop, llm.FinishLength, llm.FinishToolCalls, llm.FinishContentFilter:
		return string(r), false
	case llm.FinishRefusal:
		return "stop", false
	case "":
		return "", false
	}
	return "stop", true
}

// model returns u in the model's terms. OpenAI's prompt_tokens count the
// cached ones and completion_tokens the reasoning ones, as the model's
// do; DeepSeek's prompt_cache_hit_tokens stand for cached_tokens when
// those are missing.
func (u *wireUsage) model() llm.Usage {
	out := llm.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, Source: llm.UsageReported}
	if u.PromptTokensDetails != nil {
		out.CacheReadTokens = u.PromptTokensDetails.CachedTokens
	}
	if out.CacheReadTokens == 0 && u.PromptCacheHitTokens != nil {
		out.CacheReadTokens = *u.PromptCacheHitTokens
	}
	if u.CompletionTokensDetails != nil {
		out.ReasoningTokens = u.CompletionTokensDetails.ReasoningTokens
	}
	return out
}

// wireUsageOf returns u in OpenAI's terms.
func wireUsageOf(u llm.Usage) *wireUsage {
	return &wireUsage{
		PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.Total(),
		PromptTokensDetails:     &wirePromptDetails{CachedTokens: u.CacheReadTokens},
		CompletionTokensDetails: &wireCompletionDetails{ReasoningTokens: u.ReasoningTokens},
	}
}

type wireResponseOut struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices []wireChoiceOut `json:"choices"`
	Usage   *wireUsage      `json:"usage"`
}

type wireChoiceOut struct {
	Index        int            `json:"index"`
	Message      wireMessageOut `json:"message"`
	Logprobs     *struct{}      `json:"logprobs"`
	FinishReason *string        `json:"finish_reason"`
}

// wireMessageOut is a response message: content and refusal are always
// present, null when empty, as OpenAI writes them.
type wireMessageOut struct {
	Role             string         `json:"role"`
	Content          *string        `json:"content"`
	Refusal          *string        `json:"refusal"`
	ReasoningContent *string        `json:"reasoning_content,omitempty"`
	ToolCalls        []wireToolCall `json:"tool_calls,omitempty"`
}

// EncodeResponse encodes res as a chat completion with one choice, and
// lists what the format could not carry: signed or redacted reasoning,
// media in the answer, cache-write token counts, a finish reason OpenAI
// has no word for, and Extra of another format. An empty ID gets a new
// "chatcmpl-" one and a zero Created the current time.
func EncodeResponse(res *llm.Response) (body []byte, losses []llm.Loss, err error) {
	var ls []llm.Loss
	msg, ls := encodeAnswer(&res.Message, ls)
	c := wireChoiceOut{Message: msg}
	if r, lossy := WireFinishReason(res.FinishReason, res.RawFinishReason); r != "" {
		c.FinishReason = &r
		if lossy {
			ls = append(ls, llm.Loss{Field: "finish_reason", Reason: fmt.Sprintf("%s (%s) sent as stop", res.FinishReason, res.RawFinishReason)})
		}
	} else {
		stop := "stop"
		c.FinishReason = &stop
	}
	if res.Usage.CacheWriteTokens != 0 {
		ls = append(ls, llm.Loss{Field: "usage.cache_write_tokens", Reason: "no equivalent in openai"})
	}
	w := wireResponseOut{
		ID: responseID(res.ID), Object: "chat.completion", Created: unixOrNow(res.Created),
		Model: res.Model, Choices: []wireChoiceOut{c}, Usage: wireUsageOf(res.Usage),
	}
	body, err = json.Marshal(&w)
	if err != nil {
		return nil, nil, err
	}
	body, ls = appendExtra(body, res.Extra, res.ExtraFormat, knownResponseFields, ls)
	return body, ls, nil
}

// encodeAnswer writes the assistant's message of a response.
func encodeAnswer(m *llm.Message, ls []llm.Loss) (wireMessageOut, []llm.Loss) {
	out := wireMessageOut{Role: "assistant"}
	var text, refusal, reasoning []byte
	var hasText, hasRefusal, hasReasoning bool
	for j := range m.Parts {
		p := &m.Parts[j]
		switch {
		case p.Type == llm.PartText:
			text, hasText = append(text, p.Text...), true
		case p.Type == llm.PartRefusal:
			refusal, hasRefusal = append(refusal, p.Text...), true
		case p.Type == llm.PartReasoning:
			reasoning, hasReasoning = append(reasoning, p.Text...), true
			if p.Signature != "" {
				ls = append(ls, llm.Loss{Field: fmt.Sprintf("message.parts[%d].signature", j), Reason: "no place for reasoning signatures in openai"})
			}
		case p.Type == llm.PartToolCall && p.ToolCall != nil:
			args := p.ToolCall.Arguments
			if args == "" {
				args = "{}"
			}
			out.ToolCalls = append(out.ToolCalls, wireToolCall{ID: p.ToolCall.ID, Type: "function", Function: wireFunction{Name: p.ToolCall.Name, Arguments: args}})
		default:
			ls = append(ls, llm.Loss{Field: fmt.Sprintf("message.parts[%d]", j), Reason: fmt.Sprintf("a %s part has no place in an openai answer", p.Type)})
		}
	}
	if hasText {
		s := string(text)
		out.Content = &s
	}
	if hasRefusal {
		s := string(refusal)
		out.Refusal = &s
	}
	if hasReasoning {
		s := string(reasoning)
		out.ReasoningContent = &s
	}
	return out, ls
}

func unixOrNow(t time.Time) int64 {
	if t.IsZero() {
		return time.Now().Unix()
	}
	return t.Unix()
}

// responseID returns id, or a new "chatcmpl-" id when it is "".
func responseID(id string) string {
	if id != "" {
		return id
	}
	var b [12]byte
	rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

// ResponseUsage reads the usage of a chat completion or embeddings
// response body passed through unchanged, without decoding the rest. It
// returns false when the body has no usage.
func ResponseUsage(body []byte) (llm.Usage, bool) {
	var w struct {
		Usage *wireUsage `json:"usage"`
	}
	if json.Unmarshal(body, &w) != nil || w.Usage == nil {
		return llm.Usage{}, false
	}
	return w.Usage.model(), true
}

// SetModel returns body, a JSON object, with its top-level "model" set
// to model, every other byte as it was; a body without one gets it as its
// first field. Its error is an [*llm.Error] of kind ErrInvalidRequest for
// a body that is not a JSON object.
func SetModel(body []byte, model string) ([]byte, error) {
	name, _ := json.Marshal(model)
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '{' {
		return nil, invalid("", "the request body is not a JSON object")
	}
	open := int(dec.InputOffset())
	start, end := -1, -1
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid("", "the request body is not valid JSON")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, invalid("", "the request body is not valid JSON")
		}
		if tok == "model" {
			if start >= 0 {
				// Parsers differ on which one counts: the one routed might
				// not be the one served.
				return nil, invalid("model", "the request names model twice")
			}
			end = int(dec.InputOffset())
			start = end - len(v)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, invalid("", "the request body is not valid JSON")
	}
	if start >= 0 {
		out := make([]byte, 0, len(body)-(end-start)+len(name))
		out = append(out, body[:start]...)
		out = append(out, name...)
		return append(out, body[end:]...), nil
	}
	out := make([]byte, 0, len(body)+len(name)+10)
	out = append(out, body[:open]...)
	out = append(out, `"model":`...)
	out = append(out, name...)
	if bytes.TrimSpace(body[open:])[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[open:]...), nil
}
