package openai

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vivremotion/gateway/llm"
)

// invalid returns an *llm.Error of kind ErrInvalidRequest about param.
func invalid(param, format string, args ...any) *llm.Error {
	return &llm.Error{Kind: llm.ErrInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

// DecodeRequest decodes a chat completions request body into the model.
// Top-level fields the model has no place for (logit_bias, logprobs,
// metadata, store, service_tier, modalities, prediction, ...) are kept in
// Extra as they came, with ExtraFormat [llm.FormatOpenAI]. Malformed JSON,
// a field of the wrong type and a missing model or messages are an
// [*llm.Error] of kind [llm.ErrInvalidRequest] naming the field in Param.
func DecodeRequest(body []byte) (*llm.Request, error) {
	if !isObject(body) {
		return nil, invalid("", "the request body is not a JSON object")
	}
	req := &llm.Request{}
	var maxTokens, maxCompletion int
	haveMessages := false
	for key, v := range objectFields(body) {
		var err error
		switch string(key) { // no copy: the compiler compares in place
		case "model":
			err = json.Unmarshal(v, &req.Model)
		case "messages":
			haveMessages = true
			req.Messages, err = decodeMessages(v)
		case "max_completion_tokens":
			err = unmarshalNullable(v, &maxCompletion)
		case "max_tokens":
			err = unmarshalNullable(v, &maxTokens)
		case "temperature":
			req.Temperature, err = optional[float64](v)
		case "top_p":
			req.TopP, err = optional[float64](v)
		case "presence_penalty":
			req.PresencePenalty, err = optional[float64](v)
		case "frequency_penalty":
			req.FrequencyPenalty, err = optional[float64](v)
		case "seed":
			req.Seed, err = optional[int64](v)
		case "n":
			err = unmarshalNullable(v, &req.N)
		case "stop":
			req.Stop, err = stringOrArray(v)
		case "tools":
			req.Tools, err = decodeTools(v)
		case "tool_choice":
			req.ToolChoice, err = decodeToolChoice(v)
		case "parallel_tool_calls":
			req.ParallelToolCalls, err = optional[bool](v)
		case "response_format":
			req.ResponseFormat, err = decodeResponseFormat(v)
		case "reasoning_effort":
			var effort string
			if err = unmarshalNullable(v, &effort); err == nil && effort != "" {
				if effort == "none" {
					req.Reasoning = &llm.Reasoning{Disabled: true}
				} else {
					req.Reasoning = &llm.Reasoning{Effort: effort}
				}
			}
		case "user":
			err = unmarshalNullable(v, &req.User)
		case "stream":
			err = unmarshalNullable(v, &req.Stream)
		case "stream_options":
			var so *wireStreamOptions
			if err = json.Unmarshal(v, &so); err == nil && so != nil && so.IncludeUsage != nil {
				req.StreamUsage = *so.IncludeUsage
			}
		default:
			if req.Extra == nil {
				req.Extra = make(map[string]json.RawMessage)
			}
			req.Extra[string(key)] = bytes.Clone(v)
			req.ExtraFormat = llm.FormatOpenAI
		}
		if err != nil {
			if e, ok := err.(*llm.Error); ok {
				return nil, e
			}
			k := string(key)
			return nil, invalid(k, "%s: %v", k, jsonReason(err))
		}
	}
	if !haveMessages || len(req.Messages) == 0 {
		return nil, invalid("messages", "messages is required and must not be empty")
	}
	if req.Model == "" {
		return nil, invalid("model", "model is required")
	}
	req.MaxTokens = maxCompletion
	if req.MaxTokens == 0 {
		req.MaxTokens = maxTokens
	}
	return req, nil
}

// jsonReason shortens encoding/json's errors, which name Go types.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "wrong type: " + te.Value
	}
	return err.Error()
}

// unmarshalNullable decodes v into p, leaving p alone for null.
func unmarshalNullable[T any](v json.RawMessage, p *T) error {
	if string(v) == "null" {
		return nil
	}
	return json.Unmarshal(v, p)
}

// optional decodes v into a new T, nil for null.
func optional[T any](v json.RawMessage) (*T, error) {
	if string(v) == "null" {
		return nil, nil
	}
	p := new(T)
	if err := json.Unmarshal(v, p); err != nil {
		return nil, err
	}
	return p, nil
}

// stringOrArray decodes a string or an array of strings.
func stringOrArray(v json.RawMessage) ([]string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var out []string
	err := json.Unmarshal(v, &out)
	return out, err
}

func decodeMessages(v json.RawMessage) ([]llm.Message, error) {
	var wms []wireMessage
	if err := json.Unmarshal(v, &wms); err != nil {
		return nil, invalid("messages", "messages: %s", jsonReason(err))
	}
	out := make([]llm.Message, 0, len(wms))
	for i := range wms {
		m, err := decodeMessage(&wms[i], "messages["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func decodeMessage(wm *wireMessage, path string) (llm.Message, error) {
	m := llm.Message{Name: wm.Name}
	switch wm.Role {
	case "system", "developer", "user", "assistant", "tool":
		m.Role = llm.Role(wm.Role)
	case "":
		return m, invalid(path+".role", "%s.role is required", path)
	default:
		return m, invalid(path+".role", "%s.role %q is not one of system, developer, user, assistant, tool", path, wm.Role)
	}
	if m.Role == llm.RoleTool {
		if wm.ToolCallID == "" {
			return m, invalid(path+".tool_call_id", "%s.tool_call_id is required", path)
		}
		parts, err := decodeContent(wm.Content, path+".content", m.Role)
		if err != nil {
			return m, err
		}
		m.Parts = []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: wm.ToolCallID, Parts: parts}}}
		return m, nil
	}
	if wm.ReasoningContent != nil && *wm.ReasoningContent != "" {
		m.Parts = append(m.Parts, llm.Part{Type: llm.PartReasoning, Text: *wm.ReasoningContent})
	}
	parts, err := decodeContent(wm.Content, path+".content", m.Role)
	if err != nil {
		return m, err
	}
	m.Parts = append(m.Parts, parts...)
	if wm.Refusal != nil && *wm.Refusal != "" {
		m.Parts = append(m.Parts, llm.Part{Type: llm.PartRefusal, Text: *wm.Refusal})
	}
	if len(wm.ToolCalls) > 0 && m.Role != llm.RoleAssistant {
		return m, invalid(path+".tool_calls", "%s.tool_calls is allowed on assistant messages only", path)
	}
	for j, tc := range wm.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			return m, invalid(fmt.Sprintf("%s.tool_calls[%d].type", path, j), "%s.tool_calls[%d].type %q is not supported (only function)", path, j, tc.Type)
		}
		m.Parts = append(m.Parts, llm.Part{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments}})
	}
	return m, nil
}

// decodeContent decodes a message's content: null, a string, or an array
// of content parts.
func decodeContent(v json.RawMessage, path string, role llm.Role) ([]llm.Part, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, invalid(path, "%s: %s", path, jsonReason(err))
		}
		return []llm.Part{{Type: llm.PartText, Text: s}}, nil
	}
	var wps []wireContentPart
	if err := json.Unmarshal(v, &wps); err != nil {
		return nil, invalid(path, "%s must be a string or an array of content parts", path)
	}
	parts := make([]llm.Part, 0, len(wps))
	for j := range wps {
		p, err := decodePart(&wps[j], fmt.Sprintf("%s[%d]", path, j))
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, nil
}

func decodePart(wp *wireContentPart, path string) (llm.Part, error) {
	switch wp.Type {
	case "text":
		if wp.Text == nil {
			return llm.Part{}, invalid(path+".text", "%s.text is required", path)
		}
		return llm.Part{Type: llm.PartText, Text: *wp.Text}, nil
	case "refusal":
		if wp.Refusal == nil {
			return llm.Part{}, invalid(path+".refusal", "%s.refusal is required", path)
		}
		return llm.Part{Type: llm.PartRefusal, Text: *wp.Refusal}, nil
	case "image_url":
		if wp.ImageURL == nil || wp.ImageURL.URL == "" {
			return llm.Part{}, invalid(path+".image_url.url", "%s.image_url.url is required", path)
		}
		media, err := decodeURL(wp.ImageURL.URL, path+".image_url.url")
		if err != nil {
			return llm.Part{}, err
		}
		media.Detail = wp.ImageURL.Detail
		return llm.Part{Type: llm.PartImage, Media: media}, nil
	case "input_audio":
		if wp.InputAudio == nil || wp.InputAudio.Data == "" {
			return llm.Part{}, invalid(path+".input_audio.data", "%s.input_audio.data is required", path)
		}
		data, err := base64.StdEncoding.DecodeString(wp.InputAudio.Data)
		if err != nil {
			return llm.Part{}, invalid(path+".input_audio.data", "%s.input_audio.data is not base64", path)
		}
		return llm.Part{Type: llm.PartFile, Media: &llm.Media{MediaType: audioMediaType(wp.InputAudio.Format), Data: data}}, nil
	case "file":
		if wp.File == nil || (wp.File.FileData == "" && wp.File.FileID == "") {
			return llm.Part{}, invalid(path+".file", "%s.file needs file_data or file_id", path)
		}
		media := &llm.Media{Name: wp.File.Filename}
		if wp.File.FileID != "" {
			media.URL = wp.File.FileID
		} else {
			m, err := decodeURL(wp.File.FileData, path+".file.file_data")
			if err != nil {
				return llm.Part{}, err
			}
			if m.Data == nil {
				return llm.Part{}, invalid(path+".file.file_data", "%s.file.file_data must be a base64 data: URL", path)
			}
			media.MediaType, media.Data = m.MediaType, m.Data
		}
		return llm.Part{Type: llm.PartFile, Media: media}, nil
	case "":
		return llm.Part{}, invalid(path+".type", "%s.type is required", path)
	}
	return llm.Part{}, invalid(path+".type", "%s.type %q is not supported", path, wp.Type)
}

// decodeURL reads a URL that may be a base64 data: URL, whose content
// goes to Media.Data.
func decodeURL(u, param string) (*llm.Media, error) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return &llm.Media{URL: u}, nil
	}
	meta, payload, ok := strings.Cut(rest, ",")
	mediaType, isBase64 := strings.CutSuffix(meta, ";base64")
	if !ok || !isBase64 {
		return &llm.Media{URL: u}, nil // kept as a URL: only base64 data URLs are unpacked
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, invalid(param, "%s: the data: URL is not valid base64", param)
	}
	return &llm.Media{MediaType: mediaType, Data: data}, nil
}

// audioMediaType maps input_audio's format to a MIME type.
func audioMediaType(format string) string {
	switch format {
	case "mp3":
		return "audio/mpeg"
	case "":
		return "audio/wav"
	}
	return "audio/" + format
}

// audioFormat maps a MIME type to input_audio's format, "" when it is
// not audio.
func audioFormat(mediaType string) string {
	switch mediaType {
	case "audio/mpeg", "audio/mp3":
		return "mp3"
	case "audio/wav", "audio/x-wav", "audio/wave":
		return "wav"
	}
	if f, ok := strings.CutPrefix(mediaType, "audio/"); ok {
		return f
	}
	return ""
}

func decodeTools(v json.RawMessage) ([]llm.Tool, error) {
	if string(v) == "null" {
		return nil, nil
	}
	var wts []wireTool
	if err := json.Unmarshal(v, &wts); err != nil {
		return nil, invalid("tools", "tools: %s", jsonReason(err))
	}
	out := make([]llm.Tool, 0, len(wts))
	for i, wt := range wts {
		if wt.Type != "function" {
			return nil, invalid(fmt.Sprintf("tools[%d].type", i), "tools[%d].type %q is not supported (only function)", i, wt.Type)
		}
		if wt.Function.Name == "" {
			return nil, invalid(fmt.Sprintf("tools[%d].function.name", i), "tools[%d].function.name is required", i)
		}
		out = append(out, llm.Tool{Name: wt.Function.Name, Description: wt.Function.Description, Parameters: wt.Function.Parameters, Strict: wt.Function.Strict})
	}
	return out, nil
}

func decodeToolChoice(v json.RawMessage) (*llm.ToolChoice, error) {
	v = bytes.TrimSpace(v)
	if string(v) == "null" {
		return nil, nil
	}
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		switch s {
		case "auto", "none", "required":
			return &llm.ToolChoice{Mode: llm.ToolChoiceMode(s)}, nil
		}
		return nil, invalid("tool_choice", "tool_choice %q is not one of auto, none, required", s)
	}
	var obj struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(v, &obj); err != nil {
		return nil, err
	}
	if obj.Type != "function" || obj.Function.Name == "" {
		return nil, invalid("tool_choice", "tool_choice must name a function: {\"type\":\"function\",\"function\":{\"name\":...}}")
	}
	return &llm.ToolChoice{Mode: llm.ToolNamed, Name: obj.Function.Name}, nil
}

func decodeResponseFormat(v json.RawMessage) (*llm.ResponseFormat, error) {
	if string(v) == "null" {
		return nil, nil
	}
	var w wireResponseFormat
	if err := json.Unmarshal(v, &w); err != nil {
		return nil, err
	}
	switch w.Type {
	case "text", "json_object":
		return &llm.ResponseFormat{Type: llm.ResponseFormatType(w.Type)}, nil
	case "json_schema":
		if w.JSONSchema == nil || w.JSONSchema.Name == "" {
			return nil, invalid("response_format.json_schema.name", "response_format.json_schema.name is required")
		}
		s := w.JSONSchema
		return &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: s.Name, Description: s.Description, Schema: s.Schema, Strict: s.Strict}, nil
	}
	return nil, invalid("response_format.type", "response_format.type %q is not one of text, json_object, json_schema", w.Type)
}
