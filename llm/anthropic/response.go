package anthropic

import (
	"encoding/json"
	"strconv"

	"github.com/vivremotion/gateway/llm"
)

// wireUsage is Anthropic's usage object. Its input_tokens excludes the
// cache reads and writes.
type wireUsage struct {
	InputTokens              *int64 `json:"input_tokens"`
	OutputTokens             *int64 `json:"output_tokens"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens"`
}

// merge sets into u the figures w carries, normalized: every input token
// counts in InputTokens.
func (w *wireUsage) merge(u *llm.Usage, raw *[3]int64) {
	if w.InputTokens != nil {
		raw[0] = *w.InputTokens
	}
	if w.CacheCreationInputTokens != nil {
		raw[1] = *w.CacheCreationInputTokens
	}
	if w.CacheReadInputTokens != nil {
		raw[2] = *w.CacheReadInputTokens
	}
	if w.OutputTokens != nil {
		u.OutputTokens = *w.OutputTokens
	}
	u.InputTokens = raw[0] + raw[1] + raw[2]
	u.CacheWriteTokens, u.CacheReadTokens = raw[1], raw[2]
}

// Usage returns the normalized figures of w.
func (w *wireUsage) usage() llm.Usage {
	var u llm.Usage
	var raw [3]int64
	w.merge(&u, &raw)
	return u
}

// appendUsage writes u in Anthropic's terms: input_tokens without the
// cache reads and writes.
func appendUsage(b []byte, u *llm.Usage) []byte {
	in := u.InputTokens - u.CacheReadTokens - u.CacheWriteTokens
	if in < 0 {
		in = 0
	}
	b = append(b, '{')
	b = appendIntField(b, "input_tokens", in)
	b = appendIntField(b, "cache_creation_input_tokens", u.CacheWriteTokens)
	b = appendIntField(b, "cache_read_input_tokens", u.CacheReadTokens)
	b = appendIntField(b, "output_tokens", u.OutputTokens)
	return append(b, '}')
}

// stopReasons maps Anthropic's stop reasons to the model's.
var stopReasons = map[string]llm.FinishReason{
	"end_turn":                      llm.FinishStop,
	"stop_sequence":                 llm.FinishStop,
	"max_tokens":                    llm.FinishLength,
	"model_context_window_exceeded": llm.FinishLength,
	"tool_use":                      llm.FinishToolCalls,
	"pause_turn":                    llm.FinishPause,
	"refusal":                       llm.FinishRefusal,
}

// finishReason returns the model's reason for raw; "" for none.
func finishReason(raw string) llm.FinishReason {
	if raw == "" {
		return ""
	}
	if r, ok := stopReasons[raw]; ok {
		return r
	}
	return llm.FinishOther
}

// stopReason returns Anthropic's stop reason for a model's, and whether it
// says the same thing. A raw reason that is one of Anthropic's is kept.
func stopReason(r llm.FinishReason, raw, stopSeq string) (string, bool) {
	if _, ok := stopReasons[raw]; ok {
		return raw, true
	}
	switch r {
	case llm.FinishStop, "":
		if stopSeq != "" {
			return "stop_sequence", true
		}
		return "end_turn", true
	case llm.FinishLength:
		return "max_tokens", true
	case llm.FinishToolCalls:
		return "tool_use", true
	case llm.FinishPause:
		return "pause_turn", true
	case llm.FinishRefusal:
		return "refusal", true
	case llm.FinishContentFilter:
		return "refusal", false
	}
	return "end_turn", false
}

type wireResponse struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Role         string            `json:"role"`
	Model        string            `json:"model"`
	Content      []json.RawMessage `json:"content"`
	StopReason   string            `json:"stop_reason"`
	StopSequence string            `json:"stop_sequence"`
	Usage        *wireUsage        `json:"usage"`
}

// responseFields are the top-level fields of a response that
// [DecodeResponse] reads; the others go to Extra.
var responseFields = map[string]bool{"id": true, "type": true, "role": true, "model": true, "content": true, "stop_reason": true, "stop_sequence": true, "usage": true}

// DecodeResponse reads a messages response of the Anthropic API into the
// model, with Usage.Source UsageReported. Content blocks and fields the
// model has no place for (citations, server tool blocks, container) are
// kept in Extra, under their path or name, for [EncodeResponse].
func DecodeResponse(body []byte) (*llm.Response, error) {
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "anthropic: malformed response: " + err.Error()}
	}
	if w.Type != "" && w.Type != "message" {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "anthropic: response of type " + strconv.Quote(w.Type)}
	}
	res := &llm.Response{
		ID: w.ID, Model: w.Model,
		Message:         llm.Message{Role: llm.RoleAssistant},
		RawFinishReason: w.StopReason,
		FinishReason:    finishReason(w.StopReason),
		StopSequence:    w.StopSequence,
		ExtraFormat:     llm.FormatAnthropic,
	}
	if w.Usage != nil {
		res.Usage = w.Usage.usage()
	}
	extra := map[string]json.RawMessage{}
	res.Message.Parts = make([]llm.Part, 0, len(w.Content))
	for j, rb := range w.Content {
		path := "content[" + strconv.Itoa(j) + "]"
		var b wireBlock
		if err := json.Unmarshal(rb, &b); err != nil {
			return nil, &llm.Error{Kind: llm.ErrServer, Message: "anthropic: malformed " + path + ": " + err.Error()}
		}
		p, ok, err := decodeBlock(&b, path, extra)
		if err != nil || !ok {
			extra[path] = rb
			continue
		}
		if !isNull(b.Citations) {
			extra[path+".citations"] = b.Citations
		}
		res.Message.Parts = append(res.Message.Parts, p)
	}
	if hasOther(body) {
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) == nil {
			for k, v := range top {
				if !responseFields[k] {
					extra[k] = v
				}
			}
		}
	}
	if len(extra) > 0 {
		res.Extra = extra
	}
	return res, nil
}

// hasOther reports cheaply whether a response body may hold top-level
// fields besides the usual ones: it counts the keys at depth one.
func hasOther(body []byte) bool {
	depth, keys, inStr, esc := 0, 0, false, false
	for i, c := range body {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
			if depth == 1 {
				// a key when the previous significant byte is { or ,
				for k := i - 1; k >= 0; k-- {
					if p := body[k]; p != ' ' && p != '\n' && p != '\r' && p != '\t' {
						if p == '{' || p == ',' {
							keys++
						}
						break
					}
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return keys > len(responseFields)
}

// EncodeResponse writes res as a messages response of the Anthropic API,
// and lists what it could not carry. Usage is written in Anthropic's
// terms: input_tokens is InputTokens less the cache reads and writes.
func EncodeResponse(res *llm.Response) ([]byte, []llm.Loss, error) {
	native := res.ExtraFormat == llm.FormatAnthropic
	w := &blockWriter{b: make([]byte, 0, 512), native: true}
	if native && hasPaths(res.Extra) {
		w.extra = res.Extra
	}
	w.b = append(w.b, '{')
	w.b = appendStringField(w.b, "id", res.ID)
	w.b = appendStringField(w.b, "type", "message")
	w.b = appendStringField(w.b, "role", "assistant")
	w.b = appendStringField(w.b, "model", res.Model)
	w.b = append(appendKey(w.b, "content"), '[')
	oj := 0
	for j := range res.Message.Parts {
		p := &res.Message.Parts[j]
		oj = w.kept("content", oj)
		path := ""
		if w.extra != nil {
			path = "content[" + strconv.Itoa(oj) + "]"
		}
		src := "content[" + strconv.Itoa(j) + "]"
		if p.Type == llm.PartReasoning || p.Type == llm.PartRedactedReasoning {
			// To the client, thinking goes as it is, signed or not.
			writeThinking(w, p)
			oj++
			continue
		}
		if p.Type == llm.PartToolCall && p.ToolCall != nil && !validArgs(p.ToolCall.Arguments) {
			w.lose(src+".arguments", "tool call arguments are not a JSON object: sent as {}")
			q := *p
			call := *p.ToolCall
			call.Arguments = "{}"
			q.ToolCall = &call
			p = &q
		}
		ok, err := w.part(p, path, src, true)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			oj++
		}
	}
	w.kept("content", oj)
	w.b = append(w.b, ']')
	reason, same := stopReason(res.FinishReason, res.RawFinishReason, res.StopSequence)
	if !same {
		w.lose("stop_reason", "finish reason "+string(res.FinishReason)+" sent as "+reason)
	}
	w.b = appendStringField(w.b, "stop_reason", reason)
	w.b = appendKey(w.b, "stop_sequence")
	if res.StopSequence != "" {
		w.b = appendString(w.b, res.StopSequence)
	} else {
		w.b = append(w.b, "null"...)
	}
	w.b = appendUsage(appendKey(w.b, "usage"), &res.Usage)
	if native {
		writeExtra(w, res.Extra, res.ExtraFormat)
	} else {
		for k := range res.Extra {
			w.lose(k, "no equivalent in anthropic (from "+string(res.ExtraFormat)+")")
		}
	}
	w.b = append(w.b, '}')
	return w.b, w.losses, nil
}

func writeThinking(w *blockWriter, p *llm.Part) {
	w.b = append(comma(w.b), '{')
	if p.Type == llm.PartReasoning {
		w.b = appendStringField(w.b, "type", "thinking")
		w.b = appendStringField(w.b, "thinking", p.Text)
		w.b = appendStringField(w.b, "signature", p.Signature)
	} else {
		w.b = appendStringField(w.b, "type", "redacted_thinking")
		w.b = appendStringField(w.b, "data", p.Signature)
	}
	w.b = append(w.b, '}')
}

// validArgs reports whether args is empty or a JSON object.
func validArgs(args string) bool {
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return json.Valid([]byte(args))
		}
		return false
	}
	return true
}

// ResponseUsage reads the usage of a messages response passed through
// unchanged; ok is false when the body has none.
func ResponseUsage(body []byte) (llm.Usage, bool) {
	var w struct {
		Usage *wireUsage `json:"usage"`
	}
	if json.Unmarshal(body, &w) != nil || w.Usage == nil {
		return llm.Usage{}, false
	}
	return w.Usage.usage(), true
}
