package openai

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/vivremotion/gateway/llm"
)

// wireRequest is a chat completions request as this package writes it.
type wireRequest struct {
	Model               string              `json:"model"`
	Messages            []wireMessage       `json:"messages"`
	MaxCompletionTokens int                 `json:"max_completion_tokens,omitempty"`
	MaxTokens           int                 `json:"max_tokens,omitempty"`
	Temperature         *float64            `json:"temperature,omitempty"`
	TopP                *float64            `json:"top_p,omitempty"`
	PresencePenalty     *float64            `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64            `json:"frequency_penalty,omitempty"`
	Stop                []string            `json:"stop,omitempty"`
	Seed                *int64              `json:"seed,omitempty"`
	N                   int                 `json:"n,omitempty"`
	Tools               []wireTool          `json:"tools,omitempty"`
	ToolChoice          any                 `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool               `json:"parallel_tool_calls,omitempty"`
	ResponseFormat      *wireResponseFormat `json:"response_format,omitempty"`
	ReasoningEffort     string              `json:"reasoning_effort,omitempty"`
	User                string              `json:"user,omitempty"`
	Stream              bool                `json:"stream,omitempty"`
	StreamOptions       *wireStreamOptions  `json:"stream_options,omitempty"`
}

// knownRequestFields are the top-level fields DecodeRequest reads into
// the model; Extra never overwrites them.
var knownRequestFields = []string{
	"model", "messages", "max_completion_tokens", "max_tokens", "temperature", "top_p",
	"presence_penalty", "frequency_penalty", "stop", "seed", "n", "tools", "tool_choice",
	"parallel_tool_calls", "response_format", "reasoning_effort", "user", "stream", "stream_options",
}

// EncodeRequest encodes req as a chat completions request for an OpenAI
// provider, and lists what the format could not carry (see the package
// documentation, "What is carried"). The output cap goes in
// max_completion_tokens. Its error is an [*llm.Error] of kind
// [llm.ErrInvalidRequest] for a request no OpenAI server could take (no
// messages, an unknown role).
func EncodeRequest(req *llm.Request) (body []byte, losses []llm.Loss, err error) {
	return encodeRequest(req, false)
}

// encodeRequest is EncodeRequest; compatible writes for the servers that
// copy OpenAI's API: the output cap in max_tokens, which all of them read
// (Mistral and DeepSeek know no other), and developer messages as system
// ones, which older servers refuse.
func encodeRequest(req *llm.Request, compatible bool) ([]byte, []llm.Loss, error) {
	if len(req.Messages) == 0 {
		return nil, nil, invalid("messages", "messages is required and must not be empty")
	}
	var ls []llm.Loss
	w := wireRequest{
		Model: req.Model, Temperature: req.Temperature, TopP: req.TopP,
		PresencePenalty: req.PresencePenalty, FrequencyPenalty: req.FrequencyPenalty,
		Stop: req.Stop, Seed: req.Seed, ParallelToolCalls: req.ParallelToolCalls,
		User: req.User, Stream: req.Stream,
	}
	if req.N > 1 {
		w.N = req.N
	}
	if compatible {
		w.MaxTokens = req.MaxTokens
	} else {
		w.MaxCompletionTokens = req.MaxTokens
	}
	if req.Stream && req.StreamUsage {
		t := true
		w.StreamOptions = &wireStreamOptions{IncludeUsage: &t}
	}
	if req.TopK != nil {
		ls = append(ls, llm.Loss{Field: "top_k", Reason: "no equivalent in openai"})
	}
	msgs, mls, err := encodeMessages(req.Messages, compatible)
	if err != nil {
		return nil, nil, err
	}
	w.Messages = msgs
	ls = append(ls, mls...)
	for _, t := range req.Tools {
		w.Tools = append(w.Tools, wireTool{Type: "function", Function: wireFunctionDef{Name: t.Name, Description: t.Description, Parameters: t.Parameters, Strict: t.Strict}})
	}
	if tc := req.ToolChoice; tc != nil {
		switch tc.Mode {
		case llm.ToolAuto, llm.ToolNone, llm.ToolRequired:
			w.ToolChoice = string(tc.Mode)
		case llm.ToolNamed:
			w.ToolChoice = map[string]any{"type": "function", "function": map[string]string{"name": tc.Name}}
		default:
			return nil, nil, invalid("tool_choice", "tool choice mode %q is unknown", tc.Mode)
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		w.ResponseFormat = &wireResponseFormat{Type: string(rf.Type)}
		if rf.Type == llm.FormatJSONSchema {
			w.ResponseFormat.JSONSchema = &wireJSONSchema{Name: rf.Name, Description: rf.Description, Schema: rf.Schema, Strict: rf.Strict}
		}
	}
	if r := req.Reasoning; r != nil {
		w.ReasoningEffort, ls = encodeReasoning(r, ls)
	}
	body, err := json.Marshal(&w)
	if err != nil {
		return nil, nil, invalid("", "encoding the request: %v", err)
	}
	body, ls = appendExtra(body, req.Extra, req.ExtraFormat, knownRequestFields, ls)
	return body, ls, nil
}

// EffortForBudget returns the reasoning_effort a reasoning budget in
// tokens is sent as: below 2048 "low", below 8192 "medium", from 8192 on
// "high".
func EffortForBudget(budgetTokens int) string {
	switch {
	case budgetTokens < 2048:
		return "low"
	case budgetTokens < 8192:
		return "medium"
	}
	return "high"
}

func encodeReasoning(r *llm.Reasoning, ls []llm.Loss) (string, []llm.Loss) {
	effort := r.Effort
	switch {
	case r.Disabled && effort == "":
		effort = "none"
	case effort == "" && r.BudgetTokens > 0:
		effort = EffortForBudget(r.BudgetTokens)
		ls = append(ls, llm.Loss{Field: "reasoning.budget_tokens", Reason: fmt.Sprintf("budget_tokens %d sent as reasoning_effort %s", r.BudgetTokens, effort)})
	case r.BudgetTokens > 0:
		ls = append(ls, llm.Loss{Field: "reasoning.budget_tokens", Reason: fmt.Sprintf("budget_tokens %d dropped: reasoning_effort %s given", r.BudgetTokens, effort)})
	}
	if r.IncludeThoughts {
		ls = append(ls, llm.Loss{Field: "reasoning.include_thoughts", Reason: "no equivalent in openai"})
	}
	return effort, ls
}

// appendExtra writes the fields of extra into body, a JSON object, when
// they are in format openai; otherwise reports each as a loss. Fields in
// known are never overwritten.
func appendExtra(body []byte, extra map[string]json.RawMessage, format llm.Format, known []string, ls []llm.Loss) ([]byte, []llm.Loss) {
	if len(extra) == 0 {
		return body, ls
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if format != llm.FormatOpenAI {
		for _, k := range keys {
			ls = append(ls, llm.Loss{Field: k, Reason: "no equivalent in openai"})
		}
		return body, ls
	}
	body = body[:len(body)-1] // the closing brace
	for _, k := range keys {
		if slices.Contains(known, k) {
			ls = append(ls, llm.Loss{Field: k, Reason: "extra field shadowed by the model's own"})
			continue
		}
		body = append(body, ',')
		body = appendString(body, k)
		body = append(body, ':')
		body = append(body, extra[k]...)
	}
	return append(body, '}'), ls
}

func encodeMessages(ms []llm.Message, compatible bool) ([]wireMessage, []llm.Loss, error) {
	out := make([]wireMessage, 0, len(ms))
	var ls []llm.Loss
	for i := range ms {
		m := &ms[i]
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper, llm.RoleUser, llm.RoleAssistant, llm.RoleTool:
		default:
			path := messagePath(i)
			return nil, nil, invalid(path+".role", "%s.role %q is unknown", path, m.Role)
		}
		// Tool results become tool messages, before the rest of the turn.
		var content []wireContentPart
		wm := wireMessage{Role: string(m.Role), Name: m.Name}
		if compatible && m.Role == llm.RoleDeveloper {
			wm.Role = string(llm.RoleSystem)
		}
		var reasoning, refusal string
		var hasReasoning, hasRefusal bool
		for j := range m.Parts {
			p := &m.Parts[j]
			if p.Cache != nil {
				ls = append(ls, llm.Loss{Field: partPath(i, j) + ".cache", Reason: "no prompt-cache hints in openai"})
			}
			switch p.Type {
			case llm.PartToolResult:
				tm, tls := encodeToolResult(p.ToolResult, i, j)
				ls = append(ls, tls...)
				out = append(out, tm)
				continue
			case llm.PartText:
				content = append(content, wireContentPart{Type: "text", Text: &p.Text})
				continue
			}
			switch {
			case (p.Type == llm.PartImage || p.Type == llm.PartFile) && (m.Role == llm.RoleUser || m.Role == llm.RoleTool):
				cp, err := encodeMedia(p)
				if err != nil {
					ls = append(ls, llm.Loss{Field: partPath(i, j), Reason: err.Error()})
					continue
				}
				content = append(content, cp)
			case p.Type == llm.PartReasoning && m.Role == llm.RoleAssistant && p.Signature == "":
				reasoning += p.Text
				hasReasoning = true
			case p.Type == llm.PartReasoning && m.Role == llm.RoleAssistant:
				ls = append(ls, llm.Loss{Field: partPath(i, j), Reason: "signed reasoning has no place in openai"})
			case p.Type == llm.PartRefusal && m.Role == llm.RoleAssistant:
				refusal += p.Text
				hasRefusal = true
			case p.Type == llm.PartToolCall && m.Role == llm.RoleAssistant && p.ToolCall != nil:
				args := p.ToolCall.Arguments
				if args == "" {
					args = "{}"
				}
				wm.ToolCalls = append(wm.ToolCalls, wireToolCall{ID: p.ToolCall.ID, Type: "function", Function: wireFunction{Name: p.ToolCall.Name, Arguments: args}})
			default:
				ls = append(ls, llm.Loss{Field: partPath(i, j), Reason: fmt.Sprintf("a %s part has no place in an openai %s message", p.Type, m.Role)})
			}
		}
		if hasReasoning {
			wm.ReasoningContent = &reasoning
		}
		if hasRefusal {
			wm.Refusal = &refusal
		}
		if len(content) == 0 && len(wm.ToolCalls) == 0 && !hasRefusal && !hasReasoning {
			if len(m.Parts) > 0 {
				continue // a turn of tool results only, or of lost parts
			}
			wm.Content = json.RawMessage(`""`)
		} else {
			wm.Content = marshalContent(content)
		}
		if m.Role == llm.RoleTool {
			ls = append(ls, llm.Loss{Field: messagePath(i), Reason: "a tool message without a tool result: sent as a user message"})
			wm.Role = "user"
		}
		out = append(out, wm)
	}
	return out, ls, nil
}

// marshalContent writes content parts: a string for a single text part,
// an array otherwise, nothing for none.
func marshalContent(content []wireContentPart) json.RawMessage {
	switch {
	case len(content) == 0:
		return nil
	case len(content) == 1 && content[0].Type == "text":
		b, _ := json.Marshal(*content[0].Text)
		return b
	}
	b, _ := json.Marshal(content)
	return b
}

func encodeToolResult(r *llm.ToolResult, i, j int) (wireMessage, []llm.Loss) {
	var ls []llm.Loss
	if r == nil {
		return wireMessage{Role: "tool", Content: json.RawMessage(`""`)}, []llm.Loss{{Field: partPath(i, j), Reason: "empty tool result"}}
	}
	if r.IsError {
		ls = append(ls, llm.Loss{Field: partPath(i, j) + ".is_error", Reason: "no error flag on openai tool messages"})
	}
	var content []wireContentPart
	for k := range r.Parts {
		p := &r.Parts[k]
		if p.Type == llm.PartText {
			content = append(content, wireContentPart{Type: "text", Text: &p.Text})
			continue
		}
		ls = append(ls, llm.Loss{Field: fmt.Sprintf("%s.parts[%d]", partPath(i, j), k), Reason: fmt.Sprintf("openai tool messages hold text only, not %s", p.Type)})
	}
	wm := wireMessage{Role: "tool", ToolCallID: r.CallID, Content: marshalContent(content)}
	if wm.Content == nil {
		wm.Content = json.RawMessage(`""`)
	}
	return wm, ls
}

func dataURL(mediaType string, data []byte) string {
	b := make([]byte, 0, len("data:;base64,")+len(mediaType)+base64.StdEncoding.EncodedLen(len(data)))
	b = append(b, "data:"...)
	b = append(b, mediaType...)
	b = append(b, ";base64,"...)
	b = base64.StdEncoding.AppendEncode(b, data)
	return string(b)
}

func encodeMedia(p *llm.Part) (wireContentPart, error) {
	m := p.Media
	if m == nil {
		return wireContentPart{}, fmt.Errorf("a %s part without media", p.Type)
	}
	if p.Type == llm.PartImage {
		u := m.URL
		if m.Data != nil {
			u = dataURL(m.MediaType, m.Data)
		}
		return wireContentPart{Type: "image_url", ImageURL: &wireImageURL{URL: u, Detail: m.Detail}}, nil
	}
	if f := audioFormat(m.MediaType); f != "" && m.Data != nil {
		return wireContentPart{Type: "input_audio", InputAudio: &wireInputAudio{Data: base64.StdEncoding.EncodeToString(m.Data), Format: f}}, nil
	}
	switch {
	case m.Data != nil:
		return wireContentPart{Type: "file", File: &wireFile{FileData: dataURL(m.MediaType, m.Data), Filename: m.Name}}, nil
	case isHTTPURL(m.URL):
		return wireContentPart{}, fmt.Errorf("openai takes files inline or by file id, not by URL")
	}
	return wireContentPart{Type: "file", File: &wireFile{FileID: m.URL, Filename: m.Name}}, nil
}

func isHTTPURL(u string) bool {
	return len(u) > 7 && (u[:7] == "http://" || (len(u) > 8 && u[:8] == "https://")) || (len(u) > 5 && u[:5] == "gs://")
}

// messagePath and partPath name a message and a part in losses; made
// only when there is a loss to report.
func messagePath(i int) string { return "messages[" + strconv.Itoa(i) + "]" }

func partPath(i, j int) string { return messagePath(i) + ".parts[" + strconv.Itoa(j) + "]" }
