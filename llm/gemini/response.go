package gemini

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/vivremotion/gateway/llm"
)

// responseKeys are the top-level response fields read into the model; the
// others (promptFeedback, modelStatus...) are kept in Extra.
var responseKeys = map[string]bool{
	"candidates": true, "usageMetadata": true, "responseId": true, "modelVersion": true, "createTime": true,
}

// wireResponse is a GenerateContentResponse, as far as the model reads it.
type wireResponse struct {
	Candidates     []json.RawMessage `json:"candidates"`
	UsageMetadata  *wireUsage        `json:"usageMetadata"`
	ResponseID     string            `json:"responseId"`
	ModelVersion   string            `json:"modelVersion"`
	CreateTime     string            `json:"createTime"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback"`
	Error *wireErrorBody `json:"error"` // an error event in a stream
}

// DecodeResponse reads a GenerateContentResponse into the model, from its
// first candidate. Tool calls without an id get "call_0_" + s,
// "call_1_" + s... in order, s 8 random hex digits of this response (ids
// of different responses differ); the usage is normalized (see the package documentation) with
// Source [llm.UsageReported]. Fields the model has no place for are kept
// in Extra (the candidate's own under "candidate"), and further
// candidates and parts of kinds the model lacks are reported in Losses.
func DecodeResponse(body []byte) (*llm.Response, error) {
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "gemini: malformed response: " + err.Error()}
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(body, &top) // cannot fail where the one above did not
	res := &llm.Response{ID: w.ResponseID, Model: w.ModelVersion, ExtraFormat: llm.FormatGemini, Message: llm.Message{Role: llm.RoleAssistant}}
	for k, v := range top {
		if !responseKeys[k] {
			setExtra(&res.Extra, k, v)
		}
	}
	if w.CreateTime != "" {
		if t, err := time.Parse(time.RFC3339Nano, w.CreateTime); err == nil {
			res.Created = t
		}
	}
	if w.UsageMetadata != nil {
		res.Usage = usage(w.UsageMetadata)
	}
	if len(w.Candidates) == 0 {
		if w.PromptFeedback != nil && w.PromptFeedback.BlockReason != "" {
			res.FinishReason, res.RawFinishReason = llm.FinishContentFilter, w.PromptFeedback.BlockReason
		}
		return res, nil
	}
	for i := 1; i < len(w.Candidates); i++ {
		res.Losses = append(res.Losses, llm.Loss{Field: "candidates[" + strconv.Itoa(i) + "]", Reason: "the model carries one candidate"})
	}
	var c wireCandidate
	if err := json.Unmarshal(w.Candidates[0], &c); err != nil {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "gemini: malformed candidate: " + err.Error()}
	}
	var cfields map[string]json.RawMessage
	_ = json.Unmarshal(w.Candidates[0], &cfields)
	for k := range cfields {
		if known(candidateKeys, k) {
			delete(cfields, k)
		}
	}
	if len(cfields) > 0 {
		b, _ := json.Marshal(cfields) // cannot fail: raw JSON values
		setExtra(&res.Extra, "candidate", b)
	}
	calls := 0
	suffix := ""
	if c.Content != nil {
		res.Message.Parts = make([]llm.Part, 0, len(c.Content.Parts))
		for j := range c.Content.Parts {
			p := &c.Content.Parts[j]
			part, ok := responsePart(p, &calls, &suffix)
			if !ok {
				res.Losses = append(res.Losses, llm.Loss{Field: "candidates[0].content.parts[" + strconv.Itoa(j) + "]", Reason: "part kind not in the model"})
				continue
			}
			res.Message.Parts = append(res.Message.Parts, part)
		}
	}
	res.RawFinishReason = c.FinishReason
	res.FinishReason = FinishReason(c.FinishReason, calls > 0)
	return res, nil
}

// responsePart converts a part of a response; calls counts the tool calls
// and suffix is the response's, chosen at the first made-up id. It
// reports false for kinds the model lacks (executableCode,
// codeExecutionResult).
func responsePart(p *wirePart, calls *int, suffix *string) (llm.Part, bool) {
	out := llm.Part{Signature: p.ThoughtSignature}
	switch {
	case p.FunctionCall != nil:
		id := p.FunctionCall.ID
		if id == "" {
			if *suffix == "" {
				*suffix = idSuffix()
			}
			id = madeUpID(*calls, *suffix)
		}
		*calls++
		args, err := argsText(p.FunctionCall.Args)
		if err != nil {
			args = string(p.FunctionCall.Args)
		}
		out.Type, out.ToolCall = llm.PartToolCall, &llm.ToolCall{ID: id, Name: p.FunctionCall.Name, Arguments: args}
	case p.Text != nil:
		out.Type, out.Text = llm.PartText, *p.Text
		if p.Thought {
			out.Type = llm.PartReasoning
		}
	case p.InlineData != nil:
		out.Type, out.Media = mediaType(p.InlineData.MimeType), &llm.Media{MediaType: p.InlineData.MimeType, Data: p.InlineData.Data}
	case p.FileData != nil:
		out.Type, out.Media = mediaType(p.FileData.MimeType), &llm.Media{MediaType: p.FileData.MimeType, URL: p.FileData.FileURI}
	default:
		return out, false
	}
	return out, true
}

// FinishReason maps a Gemini finishReason to the model's. A STOP that
// ends a turn with function calls is [llm.FinishToolCalls]; reasons it
// does not know are [llm.FinishOther].
func FinishReason(reason string, toolCalls bool) llm.FinishReason {
	switch reason {
	case "STOP":
		if toolCalls {
			return llm.FinishToolCalls
		}
		return llm.FinishStop
	case "MAX_TOKENS":
		return llm.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
		"IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return llm.FinishContentFilter
	case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS":
		return llm.FinishError
	case "":
		return ""
	}
	return llm.FinishOther // OTHER, FINISH_REASON_UNSPECIFIED, LANGUAGE, NO_IMAGE...
}

// finishWord is the Gemini finishReason written for the model's reason:
// raw when it is a Gemini word that maps back to the same reason, else
// the table's. ok is false when the word only approximates the reason.
func finishWord(r llm.FinishReason, raw string) (word string, ok bool) {
	if geminiWord(raw) && FinishReason(raw, r == llm.FinishToolCalls) == r {
		return raw, true
	}
	switch r {
	case llm.FinishStop, llm.FinishToolCalls:
		return "STOP", true
	case llm.FinishLength:
		return "MAX_TOKENS", true
	case llm.FinishContentFilter:
		return "SAFETY", true
	case llm.FinishError:
		return "OTHER", false
	case llm.FinishRefusal:
		return "SAFETY", false
	case llm.FinishPause:
		return "STOP", false
	case "":
		return "", true
	}
	return "OTHER", true
}

// geminiWord reports whether s has the shape of a Gemini enum word
// (SAFETY, MAX_TOKENS); other formats' reasons are lower case.
func geminiWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return s != ""
}

// usage normalizes Gemini's usage: the prompt count already includes
// cached tokens; tool-use prompt tokens are input too; thoughts are
// output.
func usage(u *wireUsage) llm.Usage {
	return llm.Usage{
		InputTokens:     u.PromptTokenCount + u.ToolUsePromptTokenCount,
		OutputTokens:    u.CandidatesTokenCount + u.ThoughtsTokenCount,
		CacheReadTokens: u.CachedContentTokenCount,
		ReasoningTokens: u.ThoughtsTokenCount,
		Source:          llm.UsageReported,
	}
}

// wireUsageOf is the usageMetadata written for u.
func wireUsageOf(u *llm.Usage) *wireUsage {
	return &wireUsage{
		PromptTokenCount:        u.InputTokens,
		CandidatesTokenCount:    u.OutputTokens - u.ReasoningTokens,
		CachedContentTokenCount: u.CacheReadTokens,
		ThoughtsTokenCount:      u.ReasoningTokens,
		TotalTokenCount:         u.InputTokens + u.OutputTokens,
	}
}

// EncodeResponse writes res as a GenerateContentResponse with one
// candidate. Signatures and Extra are written only when res came from
// gemini (ExtraFormat gemini); tool-call ids are written unless they are
// ones this codec made up.
func EncodeResponse(res *llm.Response) ([]byte, []llm.Loss, error) {
	var losses []llm.Loss
	loss := func(field, reason string) { losses = append(losses, llm.Loss{Field: field, Reason: reason}) }
	fromGemini := res.ExtraFormat == llm.FormatGemini
	parts := make([]wirePart, 0, len(res.Message.Parts))
	for j := range res.Message.Parts {
		p := &res.Message.Parts[j]
		field := "message.parts[" + strconv.Itoa(j) + "]"
		w, ok, err := outPart(p, fromGemini)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			loss(field, p.Type.String()+" part not in gemini responses")
			continue
		}
		if p.Signature != "" && !fromGemini {
			loss(field+".signature", "signature not from gemini not sent")
		}
		if p.Type == llm.PartRefusal {
			loss(field, "refusal sent as text")
		}
		parts = append(parts, w)
	}
	var out struct {
		Candidates    []json.RawMessage `json:"candidates,omitempty"`
		UsageMetadata *wireUsage        `json:"usageMetadata,omitempty"`
		ModelVersion  string            `json:"modelVersion,omitempty"`
		ResponseID    string            `json:"responseId,omitempty"`
	}
	extra := res.Extra
	if !fromGemini {
		for _, k := range sortedKeys(extra) {
			loss(k, "no equivalent in gemini")
		}
		extra = nil
	}
	// A prompt blocked before any candidate is written back as it came.
	blocked := false
	if raw, ok := extra["promptFeedback"]; ok && len(parts) == 0 && res.FinishReason == llm.FinishContentFilter {
		var pf struct {
			BlockReason string `json:"blockReason"`
		}
		blocked = json.Unmarshal(raw, &pf) == nil && pf.BlockReason != "" && pf.BlockReason == res.RawFinishReason
	}
	if !blocked {
		word, exact := finishWord(res.FinishReason, res.RawFinishReason)
		if !exact {
			loss("finish_reason", string(res.FinishReason)+" sent as "+word)
		}
		c, err := json.Marshal(&wireCandidate{Content: &wireContent{Role: "model", Parts: parts}, FinishReason: word})
		if err != nil {
			return nil, nil, &llm.Error{Kind: llm.ErrServer, Message: err.Error()}
		}
		if raw, ok := extra["candidate"]; ok {
			var cf map[string]json.RawMessage
			if json.Unmarshal(raw, &cf) == nil {
				for _, k := range sortedKeys(cf) {
					if !candidateKeys[k] {
						c = appendField(c, k, cf[k])
					}
				}
			}
		}
		out.Candidates = []json.RawMessage{c}
	}
	out.UsageMetadata = wireUsageOf(&res.Usage)
	if res.Usage.CacheWriteTokens > 0 {
		loss("usage.cache_write_tokens", "no cache write count in gemini (counted in promptTokenCount)")
	}
	out.ModelVersion, out.ResponseID = res.Model, res.ID
	body, err := json.Marshal(&out)
	if err != nil {
		return nil, nil, &llm.Error{Kind: llm.ErrServer, Message: err.Error()}
	}
	for _, k := range sortedKeys(extra) {
		if k == "candidate" || responseKeys[k] {
			continue
		}
		body = appendField(body, k, extra[k])
	}
	if !res.Created.IsZero() && fromGemini {
		body = appendField(body, "createTime", mustJSON(res.Created.Format(time.RFC3339Nano)))
	}
	return body, losses, nil
}

// outPart is a part of a response sent to a Gemini client. It reports
// false for kinds Gemini responses lack (redacted reasoning, tool
// results).
func outPart(p *llm.Part, signatures bool) (wirePart, bool, error) {
	var w wirePart
	if signatures {
		w.ThoughtSignature = p.Signature
	}
	switch p.Type {
	case llm.PartText, llm.PartRefusal:
		w.Text = &p.Text
	case llm.PartReasoning:
		w.Text, w.Thought = &p.Text, true
	case llm.PartImage, llm.PartFile:
		m := p.Media
		switch {
		case m == nil:
			return w, false, nil
		case m.Data != nil:
			w.InlineData = &wireBlob{MimeType: m.MediaType, Data: m.Data}
		default:
			w.FileData = &wireFile{MimeType: m.MediaType, FileURI: m.URL}
		}
	case llm.PartToolCall:
		tc := p.ToolCall
		if tc == nil {
			return w, false, nil
		}
		args, err := argsObject(tc.Arguments)
		if err != nil {
			return w, false, &llm.Error{Kind: llm.ErrServer, Message: "gemini: tool call " + tc.Name + ": " + err.Error()}
		}
		w.FunctionCall = &wireCall{Name: tc.Name, Args: args}
		if !isMadeUp(tc.ID) {
			w.FunctionCall.ID = tc.ID
		}
	default:
		return w, false, nil
	}
	return w, true, nil
}
