package gemini

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/vivremotion/gateway/llm"
)

// requestKeys are the top-level request fields read into the model; the
// others are kept in Extra as they came. Their snake_case spellings
// (system_instruction) are read too: [DecodeRequest] rewrites them first.
var requestKeys = map[string]bool{
	"contents": true, "systemInstruction": true, "tools": true, "toolConfig": true, "generationConfig": true,
}

// DecodeRequest reads a generateContent request body into the model. The
// model's name is in the URL, not the body, so Model is left "" (see
// [DecodeRequestFor]). Fields the model has no place for (safetySettings,
// cachedContent, labels, tools other than function declarations, unknown
// generationConfig fields) are kept in Extra, with ExtraFormat gemini.
// Field names may be spelled as Gemini's JSON (inlineData) or as its
// proto fields (inline_data), at every level; Extra keeps the camelCase
// spelling. Errors are [*llm.Error] of kind [llm.ErrInvalidRequest].
func DecodeRequest(body []byte) (*llm.Request, error) {
	body, err := camelRequest(body)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, invalid("", "malformed JSON: %v", err)
	}
	if top == nil {
		return nil, invalid("", "request body is not a JSON object")
	}
	req := &llm.Request{ExtraFormat: llm.FormatGemini}
	for k, v := range top {
		if !requestKeys[k] {
			setExtra(&req.Extra, k, v)
		}
	}
	d := decoder{}
	if raw, ok := top["systemInstruction"]; ok && !isNull(raw) {
		var c wireContent
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, invalid("systemInstruction", "%v", err)
		}
		m := llm.Message{Role: llm.RoleSystem}
		for j, p := range c.Parts {
			if p.Text == nil || p.Thought || p.InlineData != nil || p.FileData != nil || p.FunctionCall != nil || p.FunctionResponse != nil {
				return nil, invalid(fmt.Sprintf("systemInstruction.parts[%d]", j), "system instructions take text parts only")
			}
			m.Parts = append(m.Parts, llm.Part{Type: llm.PartText, Text: *p.Text})
		}
		req.Messages = append(req.Messages, m)
	}
	var contents []wireContent
	if raw, ok := top["contents"]; ok {
		if err := json.Unmarshal(raw, &contents); err != nil {
			return nil, invalid("contents", "%v", err)
		}
	}
	if len(contents) == 0 {
		return nil, invalid("contents", "contents is required and must not be empty")
	}
	for i := range contents {
		m, err := d.message(&contents[i], i, len(req.Messages))
		if err != nil {
			return nil, err
		}
		req.Messages = append(req.Messages, m)
	}
	if len(d.fields) > 0 {
		setExtra(&req.Extra, partFieldsKey, mustJSON(d.fields))
	}
	if raw, ok := top["tools"]; ok && !isNull(raw) {
		if err := decodeTools(req, raw); err != nil {
			return nil, err
		}
	}
	if raw, ok := top["toolConfig"]; ok && !isNull(raw) {
		if err := decodeToolConfig(req, raw); err != nil {
			return nil, err
		}
	}
	if raw, ok := top["generationConfig"]; ok && !isNull(raw) {
		if err := decodeGenConfig(req, raw); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// DecodeRequestFor is [DecodeRequest] for the model named in the URL
// (".../models/{model}:generateContent"); a "models/" prefix is removed.
func DecodeRequestFor(model string, body []byte) (*llm.Request, error) {
	req, err := DecodeRequest(body)
	if err != nil {
		return nil, err
	}
	req.Model = strings.TrimPrefix(model, "models/")
	return req, nil
}

// decoder holds what decoding a conversation needs across turns: the
// made-up ids of the calls not answered yet, by function name, and the
// part fields the model has no place for.
type decoder struct {
	calls   int                    // tool calls seen, for made-up ids
	pending map[string][]string    // name → ids of calls not yet answered, in order
	fields  map[string]*partFields // partKey → fields of that part
}

// partFieldsKey is the key of Extra under which a decoded request keeps
// the part fields the model has no place for (videoMetadata,
// mediaResolution, functionResponse parts, willContinue and scheduling),
// by the message and part they belong to: {"3.0": {"type": "file",
// "videoMetadata": {...}}}. [EncodeRequest] writes them back into those
// parts for gemini when they are still of that type; the name cannot be a
// Gemini field's, and other formats report it as a loss.
const partFieldsKey = "gemini:partFields"

// partFields are the fields of one part kept in Extra[partFieldsKey].
type partFields struct {
	Type             string          `json:"type"`
	VideoMetadata    json.RawMessage `json:"videoMetadata,omitempty"`
	MediaResolution  json.RawMessage `json:"mediaResolution,omitempty"`
	FunctionResponse *struct {
		Parts        json.RawMessage `json:"parts,omitempty"`
		WillContinue json.RawMessage `json:"willContinue,omitempty"`
		Scheduling   json.RawMessage `json:"scheduling,omitempty"`
	} `json:"functionResponse,omitempty"`
}

// partKey is the key of part j of message m in Extra[partFieldsKey].
func partKey(m, j int) string { return strconv.Itoa(m) + "." + strconv.Itoa(j) }

// keep records the fields of p, part j of message m, that the model has
// no place for.
func (d *decoder) keep(p *wirePart, out *llm.Part, m, j int) {
	fr := p.FunctionResponse
	hasFR := fr != nil && (len(fr.Parts) > 0 || len(fr.WillContinue) > 0 || len(fr.Scheduling) > 0)
	if len(p.VideoMetadata) == 0 && len(p.MediaResolution) == 0 && !hasFR {
		return
	}
	f := &partFields{Type: out.Type.String(), VideoMetadata: p.VideoMetadata, MediaResolution: p.MediaResolution}
	if hasFR {
		f.FunctionResponse = &struct {
			Parts        json.RawMessage `json:"parts,omitempty"`
			WillContinue json.RawMessage `json:"willContinue,omitempty"`
			Scheduling   json.RawMessage `json:"scheduling,omitempty"`
		}{fr.Parts, fr.WillContinue, fr.Scheduling}
	}
	if d.fields == nil {
		d.fields = make(map[string]*partFields)
	}
	d.fields[partKey(m, j)] = f
}

// message converts contents[i], which becomes message m of the request.
func (d *decoder) message(c *wireContent, i, mi int) (llm.Message, error) {
	var m llm.Message
	switch c.Role {
	case "user", "":
		m.Role = llm.RoleUser
	case "model":
		m.Role = llm.RoleAssistant
	default:
		return m, invalid(fmt.Sprintf("contents[%d].role", i), "unknown role %q (want user or model)", c.Role)
	}
	m.Parts = make([]llm.Part, 0, len(c.Parts))
	for j := range c.Parts {
		p, err := d.part(&c.Parts[j])
		if err != nil {
			err.Param = fmt.Sprintf("contents[%d].parts[%d]%s", i, j, err.Param)
			return m, err
		}
		d.keep(&c.Parts[j], &p, mi, j)
		m.Parts = append(m.Parts, p)
	}
	return m, nil
}

// part converts one part; an error's Param is the field within the part.
func (d *decoder) part(p *wirePart) (llm.Part, *llm.Error) {
	out := llm.Part{Signature: p.ThoughtSignature}
	switch {
	case p.FunctionCall != nil:
		fc := p.FunctionCall
		if fc.Name == "" {
			return out, invalid(".functionCall.name", "functionCall needs a name")
		}
		args, err := argsText(fc.Args)
		if err != nil {
			return out, invalid(".functionCall.args", "%v", err)
		}
		id := fc.ID
		if id == "" {
			id = madeUpID(d.calls, "")
			if d.pending == nil {
				d.pending = make(map[string][]string)
			}
			d.pending[fc.Name] = append(d.pending[fc.Name], id)
		}
		d.calls++
		out.Type, out.ToolCall = llm.PartToolCall, &llm.ToolCall{ID: id, Name: fc.Name, Arguments: args}
	case p.FunctionResponse != nil:
		fr := p.FunctionResponse
		if fr.Name == "" {
			return out, invalid(".functionResponse.name", "functionResponse needs a name")
		}
		if len(fr.Response) == 0 || fr.Response[0] != '{' {
			return out, invalid(".functionResponse.response", "response must be a JSON object")
		}
		id := fr.ID
		if q := d.pending[fr.Name]; id == "" && len(q) > 0 {
			id, d.pending[fr.Name] = q[0], q[1:]
		}
		out.Type = llm.PartToolResult
		out.ToolResult = &llm.ToolResult{CallID: id, Name: fr.Name, Parts: []llm.Part{{Type: llm.PartText, Text: compact(fr.Response)}}}
	case p.InlineData != nil:
		out.Type, out.Media = mediaType(p.InlineData.MimeType), &llm.Media{MediaType: p.InlineData.MimeType, Data: p.InlineData.Data}
	case p.FileData != nil:
		if p.FileData.FileURI == "" {
			return out, invalid(".fileData.fileUri", "fileData needs a fileUri")
		}
		out.Type, out.Media = mediaType(p.FileData.MimeType), &llm.Media{MediaType: p.FileData.MimeType, URL: p.FileData.FileURI}
	case p.Text != nil:
		out.Type, out.Text = llm.PartText, *p.Text
		if p.Thought {
			out.Type = llm.PartReasoning
		}
	case p.ExecutableCode != nil:
		return out, invalid(".executableCode", "executableCode parts are not supported")
	case p.CodeExecutionResult != nil:
		return out, invalid(".codeExecutionResult", "codeExecutionResult parts are not supported")
	default:
		return out, invalid("", "part has no text, inlineData, fileData, functionCall or functionResponse")
	}
	return out, nil
}

func decodeTools(req *llm.Request, raw json.RawMessage) error {
	var tools []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tools); err != nil {
		return invalid("tools", "%v", err)
	}
	var others []map[string]json.RawMessage
	for i, t := range tools {
		fd, ok := t["functionDeclarations"]
		if !ok || len(t) != 1 {
			// googleSearch, codeExecution, urlContext...: kept for gemini.
			others = append(others, t)
			if !ok {
				continue
			}
			delete(t, "functionDeclarations")
		}
		var decls []wireFuncDecl
		if err := json.Unmarshal(fd, &decls); err != nil {
			return invalid(fmt.Sprintf("tools[%d].functionDeclarations", i), "%v", err)
		}
		for j, fn := range decls {
			if fn.Name == "" {
				return invalid(fmt.Sprintf("tools[%d].functionDeclarations[%d].name", i, j), "a function declaration needs a name")
			}
			params := fn.ParametersJSONSchema
			if len(params) == 0 {
				params = fn.Parameters
			}
			req.Tools = append(req.Tools, llm.Tool{Name: fn.Name, Description: fn.Description, Parameters: params})
		}
	}
	if len(others) > 0 {
		b, _ := json.Marshal(others) // cannot fail: maps of raw JSON
		setExtra(&req.Extra, "tools", b)
	}
	return nil
}

// decodeToolConfig reads functionCallingConfig into ToolChoice. A
// toolConfig the model cannot say exactly (VALIDATED, several allowed
// names, retrievalConfig) is also kept whole in Extra["toolConfig"], which
// an encoder for gemini sends instead.
func decodeToolConfig(req *llm.Request, raw json.RawMessage) error {
	var tc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tc); err != nil {
		return invalid("toolConfig", "%v", err)
	}
	exact := len(tc) <= 1
	if fr, ok := tc["functionCallingConfig"]; ok {
		var fc wireFuncCallingConfig
		if err := json.Unmarshal(fr, &fc); err != nil {
			return invalid("toolConfig.functionCallingConfig", "%v", err)
		}
		switch fc.Mode {
		case "AUTO", "", "MODE_UNSPECIFIED":
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolAuto}
			exact = exact && fc.Mode == "AUTO" && len(fc.AllowedFunctionNames) == 0
		case "NONE":
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolNone}
			exact = exact && len(fc.AllowedFunctionNames) == 0
		case "ANY":
			if len(fc.AllowedFunctionNames) == 1 {
				req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolNamed, Name: fc.AllowedFunctionNames[0]}
			} else {
				req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolRequired}
				exact = exact && len(fc.AllowedFunctionNames) == 0
			}
		case "VALIDATED":
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolAuto}
			exact = false
		default:
			return invalid("toolConfig.functionCallingConfig.mode", "unknown mode %q", fc.Mode)
		}
	}
	if !exact {
		setExtra(&req.Extra, "toolConfig", raw)
	}
	return nil
}

func decodeGenConfig(req *llm.Request, raw json.RawMessage) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return invalid("generationConfig", "%v", err)
	}
	var gc wireGenConfig
	if err := json.Unmarshal(raw, &gc); err != nil {
		return invalid("generationConfig", "%v", err)
	}
	req.Stop = gc.StopSequences
	req.MaxTokens = gc.MaxOutputTokens
	req.Temperature, req.TopP, req.TopK = gc.Temperature, gc.TopP, gc.TopK
	req.Seed = gc.Seed
	req.PresencePenalty, req.FrequencyPenalty = gc.PresencePenalty, gc.FrequencyPenalty
	req.N = gc.CandidateCount
	keepSchema := false
	schema := gc.ResponseJSONSchema
	if len(schema) == 0 {
		schema = gc.ResponseSchema
	}
	switch gc.ResponseMimeType {
	case "":
		if len(schema) != 0 {
			return invalid("generationConfig.responseMimeType", "a response schema needs responseMimeType application/json")
		}
	case "application/json":
		req.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONObject}
		if len(schema) != 0 {
			req.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: schema}
		}
	case "text/plain":
		req.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatText}
		if len(schema) != 0 {
			return invalid("generationConfig.responseSchema", "a response schema needs responseMimeType application/json")
		}
	default: // text/x.enum and the like: kept for gemini only
		keepSchema = true
	}
	if tc := gc.ThinkingConfig; tc != nil {
		r := &llm.Reasoning{IncludeThoughts: tc.IncludeThoughts, Effort: strings.ToLower(tc.ThinkingLevel)}
		if b := tc.ThinkingBudget; b != nil {
			switch {
			case *b == 0:
				r.Disabled = true
			case *b > 0:
				r.BudgetTokens = *b
			} // -1, dynamic thinking, is the default: no budget
		}
		req.Reasoning = r
	}
	rest := make(map[string]json.RawMessage)
	for k, v := range all {
		if !known(genConfigKeys, k) || keepSchema && isSchemaKey(k) {
			rest[k] = v
		}
	}
	if len(rest) > 0 {
		b, _ := json.Marshal(rest) // cannot fail: raw JSON values
		setExtra(&req.Extra, "generationConfig", b)
	}
	return nil
}

// EncodeRequest writes req as a generateContent request body (the model
// goes in the URL). What Gemini has no place for is reported as losses;
// see the package documentation for the table. A tool call whose
// Arguments is not a JSON object, a tool result whose call is unknown,
// and a request with no conversation are [*llm.Error]s of kind
// [llm.ErrInvalidRequest].
func EncodeRequest(req *llm.Request) ([]byte, []llm.Loss, error) {
	e := encoder{
		native:     req.ExtraFormat == llm.FormatGemini || req.ExtraFormat == "",
		fromGemini: req.ExtraFormat == llm.FormatGemini,
		names:      map[string]string{},
	}
	var losses []llm.Loss
	loss := func(field, reason string) { losses = append(losses, llm.Loss{Field: field, Reason: reason}) }
	e.loss = loss
	if raw, ok := req.Extra[partFieldsKey]; ok && e.native {
		if err := json.Unmarshal(raw, &e.fields); err != nil {
			return nil, nil, invalid(partFieldsKey, "%v", err)
		}
	}

	var out struct {
		Contents          []wireContent   `json:"contents"`
		SystemInstruction *wireContent    `json:"systemInstruction,omitempty"`
		Tools             []any           `json:"tools,omitempty"`
		ToolConfig        any             `json:"toolConfig,omitempty"`
		GenerationConfig  json.RawMessage `json:"generationConfig,omitempty"`
	}
	for i := range req.Messages {
		m := &req.Messages[i]
		field := "messages[" + strconv.Itoa(i) + "]"
		if m.Name != "" {
			loss(field+".name", "no participant names in gemini")
		}
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			if len(out.Contents) > 0 {
				loss(field, "system message after the conversation began moved to systemInstruction")
			}
			if out.SystemInstruction == nil {
				out.SystemInstruction = &wireContent{}
			}
			for j := range m.Parts {
				p := &m.Parts[j]
				if p.Type != llm.PartText {
					loss(field+".parts["+strconv.Itoa(j)+"]", p.Type.String()+" part in system instructions not sent")
					continue
				}
				e.cache(p, field, j)
				out.SystemInstruction.Parts = append(out.SystemInstruction.Parts, wirePart{Text: &p.Text})
			}
			continue
		}
		role := "user"
		if m.Role == llm.RoleAssistant {
			role = "model"
		} else if m.Role != llm.RoleUser && m.Role != llm.RoleTool {
			return nil, nil, invalid(field+".role", "unknown role %q", m.Role)
		}
		parts, err := e.parts(m.Parts, i, field)
		if err != nil {
			return nil, nil, err
		}
		if role == "model" && !e.fromGemini {
			e.placeholder(parts, field)
		}
		// Results of parallel calls go back in one user turn.
		if n := len(out.Contents); m.Role == llm.RoleTool && n > 0 && i > 0 && req.Messages[i-1].Role == llm.RoleTool {
			out.Contents[n-1].Parts = append(out.Contents[n-1].Parts, parts...)
			continue
		}
		out.Contents = append(out.Contents, wireContent{Role: role, Parts: parts})
	}
	if len(out.Contents) == 0 {
		return nil, nil, invalid("messages", "no user or assistant messages")
	}

	// Tools.
	if len(req.Tools) > 0 {
		decls := make([]wireFuncDecl, len(req.Tools))
		for i, t := range req.Tools {
			if t.Name == "" {
				return nil, nil, invalid("tools["+strconv.Itoa(i)+"].name", "a tool needs a name")
			}
			decls[i] = wireFuncDecl{Name: t.Name, Description: t.Description, ParametersJSONSchema: t.Parameters}
			if t.Strict != nil {
				loss("tools["+strconv.Itoa(i)+"].strict", "no strict mode in gemini")
			}
		}
		out.Tools = append(out.Tools, map[string]any{"functionDeclarations": decls})
	}
	extra := req.Extra
	if !e.native {
		for _, k := range sortedKeys(extra) {
			loss(k, "no equivalent in gemini")
		}
		extra = nil
	}
	if raw, ok := extra["tools"]; ok {
		var others []json.RawMessage
		if err := json.Unmarshal(raw, &others); err != nil {
			return nil, nil, invalid("tools", "extra tools: %v", err)
		}
		for _, t := range others {
			out.Tools = append(out.Tools, t)
		}
	}
	if raw, ok := extra["toolConfig"]; ok {
		out.ToolConfig = raw
	} else if tc := req.ToolChoice; tc != nil {
		fc := wireFuncCallingConfig{}
		switch tc.Mode {
		case llm.ToolAuto:
			fc.Mode = "AUTO"
		case llm.ToolNone:
			fc.Mode = "NONE"
		case llm.ToolRequired:
			fc.Mode = "ANY"
		case llm.ToolNamed:
			fc.Mode, fc.AllowedFunctionNames = "ANY", []string{tc.Name}
		default:
			return nil, nil, invalid("tool_choice", "unknown tool choice mode %q", tc.Mode)
		}
		out.ToolConfig = map[string]any{"functionCallingConfig": fc}
	}
	if req.ParallelToolCalls != nil {
		loss("parallel_tool_calls", "no equivalent in gemini")
	}
	if req.User != "" {
		loss("user", "no equivalent in gemini")
	}

	gc, err := e.genConfig(req, extra["generationConfig"])
	if err != nil {
		return nil, nil, err
	}
	out.GenerationConfig = gc

	body, err := json.Marshal(&out)
	if err != nil {
		return nil, nil, invalid("", "%v", err)
	}
	for _, k := range sortedKeys(extra) {
		switch k {
		case "tools", "toolConfig", "generationConfig", partFieldsKey:
			continue
		case "contents", "systemInstruction":
			loss(k, "extra field would overwrite the conversation; not sent")
			continue
		}
		body = appendField(body, k, extra[k])
	}
	return body, losses, nil
}

// encoder holds what encoding a conversation needs across messages.
type encoder struct {
	native     bool                   // req.ExtraFormat is gemini or "": signatures and Extra are sent
	fromGemini bool                   // req.ExtraFormat is gemini: its effort is a thinkingLevel
	names      map[string]string      // call id → function name, for results without a name
	fields     map[string]*partFields // Extra[partFieldsKey], when native
	loss       func(field, reason string)
}

// skipSignature is the thoughtSignature Google documents for function
// calls that did not come from Gemini (history from another model, or
// written by hand): Gemini 3 answers 400 to a model turn whose first
// functionCall has no signature, and skips its check for this value.
const skipSignature = "skip_thought_signature_validator"

// placeholder gives the first functionCall of a model turn that did not
// come from Gemini the placeholder signature, when it has none, and
// reports it.
func (e *encoder) placeholder(parts []wirePart, field string) {
	for j := range parts {
		if parts[j].FunctionCall == nil {
			continue
		}
		if parts[j].ThoughtSignature == "" {
			parts[j].ThoughtSignature = skipSignature
			e.loss(field+".parts["+strconv.Itoa(j)+"].signature",
				"no gemini signature: placeholder "+skipSignature+" sent (Gemini 3 requires one on a turn's first function call)")
		}
		return
	}
}

// restore writes back the fields Extra[partFieldsKey] keeps for part j
// of message i, when that part is still of the type they came with.
func (e *encoder) restore(w *wirePart, p *llm.Part, i, j int) {
	f := e.fields[partKey(i, j)]
	if f == nil || f.Type != p.Type.String() {
		return
	}
	w.VideoMetadata, w.MediaResolution = f.VideoMetadata, f.MediaResolution
	if fr := f.FunctionResponse; fr != nil && w.FunctionResponse != nil {
		w.FunctionResponse.Parts, w.FunctionResponse.WillContinue, w.FunctionResponse.Scheduling = fr.Parts, fr.WillContinue, fr.Scheduling
	}
}

func (e *encoder) cache(p *llm.Part, field string, j int) {
	if p.Cache != nil {
		e.loss(field+".parts["+strconv.Itoa(j)+"].cache", "no cache breakpoints in gemini (caching is implicit, or by cachedContent)")
	}
}

func (e *encoder) parts(in []llm.Part, i int, field string) ([]wirePart, error) {
	out := make([]wirePart, 0, len(in))
	for j := range in {
		p := &in[j]
		pf := field + ".parts[" + strconv.Itoa(j) + "]"
		e.cache(p, field, j)
		var w wirePart
		if p.Signature != "" {
			if e.native {
				w.ThoughtSignature = p.Signature
			} else {
				e.loss(pf+".signature", "signature not from gemini not sent")
			}
		}
		switch p.Type {
		case llm.PartText:
			w.Text = &p.Text
		case llm.PartReasoning:
			w.Text, w.Thought = &p.Text, true
		case llm.PartRedactedReasoning:
			e.loss(pf, "redacted reasoning has no equivalent in gemini")
			continue
		case llm.PartRefusal:
			w.Text = &p.Text
			e.loss(pf, "refusal sent as text")
		case llm.PartImage, llm.PartFile:
			if err := e.media(&w, p.Media, pf); err != nil {
				return nil, err
			}
		case llm.PartToolCall:
			tc := p.ToolCall
			if tc == nil || tc.Name == "" {
				return nil, invalid(pf+".tool_call", "a tool call needs a name")
			}
			args, err := argsObject(tc.Arguments)
			if err != nil {
				return nil, invalid(pf+".tool_call.arguments", "%v", err)
			}
			w.FunctionCall = &wireCall{Name: tc.Name, Args: args}
			if !isMadeUp(tc.ID) {
				w.FunctionCall.ID = tc.ID
			}
			if tc.ID != "" {
				e.names[tc.ID] = tc.Name
			}
		case llm.PartToolResult:
			tr := p.ToolResult
			if tr == nil {
				return nil, invalid(pf+".tool_result", "a tool result part needs its result")
			}
			name := tr.Name
			if name == "" {
				name = e.names[tr.CallID]
			}
			if name == "" {
				return nil, invalid(pf+".tool_result", "tool result for call %q: no earlier call of that id to name the function (gemini needs it)", tr.CallID)
			}
			w.FunctionResponse = &wireFuncResponse{Name: name, Response: e.resultObject(tr, pf)}
			if !isMadeUp(tr.CallID) {
				w.FunctionResponse.ID = tr.CallID
			}
		default:
			return nil, invalid(pf+".type", "unknown part type %d", p.Type)
		}
		if e.fields != nil {
			e.restore(&w, p, i, j)
		}
		out = append(out, w)
	}
	return out, nil
}

// resultObject is the functionResponse.response of a tool result: its
// text when that is a JSON object, else {"result": text}; {"error": ...}
// when the tool failed.
func (e *encoder) resultObject(tr *llm.ToolResult, field string) json.RawMessage {
	var text string
	var b strings.Builder
	n := 0
	for k := range tr.Parts {
		if tr.Parts[k].Type == llm.PartText {
			b.WriteString(tr.Parts[k].Text)
			n++
			continue
		}
		e.loss(field+".tool_result.parts["+strconv.Itoa(k)+"]", tr.Parts[k].Type.String()+" in a tool result not sent to gemini")
	}
	text = b.String()
	var obj json.RawMessage
	t := bytes.TrimSpace([]byte(text))
	if len(t) > 0 && t[0] == '{' && json.Valid(t) {
		obj = compactBytes(t)
	} else {
		obj = mustJSON(map[string]string{"result": text})
	}
	if tr.IsError {
		obj = appendField([]byte(`{}`), "error", obj)
	}
	return obj
}

// media writes an image or file: inline data as inlineData, a data: URL
// decoded to inlineData, any other URL (a Gemini file URI, gs://, or
// http(s)) as fileData.
func (e *encoder) media(w *wirePart, m *llm.Media, field string) error {
	if m == nil {
		return invalid(field+".media", "a media part needs its media")
	}
	if m.Detail != "" {
		e.loss(field+".detail", "no per-image detail in gemini")
	}
	if m.Name != "" {
		e.loss(field+".name", "no file names in gemini parts")
	}
	switch {
	case m.Data != nil:
		mt := m.MediaType
		if mt == "" {
			mt = sniff(m.Data)
		}
		w.InlineData = &wireBlob{MimeType: mt, Data: m.Data}
	case strings.HasPrefix(m.URL, "data:"):
		mt, data, err := parseDataURL(m.URL)
		if err != nil {
			return invalid(field+".url", "%v", err)
		}
		if m.MediaType != "" {
			mt = m.MediaType
		}
		w.InlineData = &wireBlob{MimeType: mt, Data: data}
	case m.URL != "":
		mt := m.MediaType
		if mt == "" {
			mt = mime.TypeByExtension(path.Ext(urlPath(m.URL)))
			if i := strings.IndexByte(mt, ';'); i >= 0 {
				mt = mt[:i]
			}
		}
		w.FileData = &wireFile{MimeType: mt, FileURI: m.URL}
	default:
		return invalid(field+".media", "media needs data or a URL")
	}
	return nil
}

// effortBudget is the thinkingBudget sent for a reasoning effort when the
// request did not come from gemini (whose thinkingLevel is sent as it
// came).
var effortBudget = map[string]int{"minimal": 512, "low": 1024, "medium": 8192, "high": 24576}

func (e *encoder) genConfig(req *llm.Request, extra json.RawMessage) (json.RawMessage, error) {
	gc := wireGenConfig{
		StopSequences: req.Stop, MaxOutputTokens: req.MaxTokens,
		Temperature: req.Temperature, TopP: req.TopP, TopK: req.TopK, Seed: req.Seed,
		PresencePenalty: req.PresencePenalty, FrequencyPenalty: req.FrequencyPenalty,
	}
	if req.N > 1 {
		gc.CandidateCount = req.N
	} else if req.N == 1 && e.fromGemini {
		gc.CandidateCount = 1
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case llm.FormatText:
			gc.ResponseMimeType = "text/plain"
		case llm.FormatJSONObject:
			gc.ResponseMimeType = "application/json"
		case llm.FormatJSONSchema:
			gc.ResponseMimeType, gc.ResponseJSONSchema = "application/json", rf.Schema
			if rf.Name != "" || rf.Description != "" {
				e.loss("response_format.json_schema.name", "no schema name or description in gemini")
			}
			if rf.Strict != nil {
				e.loss("response_format.json_schema.strict", "no strict mode in gemini")
			}
		default:
			return nil, invalid("response_format.type", "unknown response format %q", rf.Type)
		}
	}
	if r := req.Reasoning; r != nil {
		tc := &wireThinkingConfig{IncludeThoughts: r.IncludeThoughts}
		switch {
		case r.Disabled:
			tc.ThinkingBudget = new(int)
		case r.BudgetTokens > 0:
			b := r.BudgetTokens
			tc.ThinkingBudget = &b
			if r.Effort != "" {
				e.loss("reasoning_effort", "effort "+r.Effort+" not sent: the budget of "+strconv.Itoa(b)+" tokens is")
			}
		case r.Effort != "" && e.fromGemini:
			tc.ThinkingLevel = r.Effort
		case r.Effort != "":
			b, ok := effortBudget[r.Effort]
			if !ok {
				return nil, invalid("reasoning_effort", "unknown reasoning effort %q", r.Effort)
			}
			tc.ThinkingBudget = &b
			e.loss("reasoning_effort", "effort "+r.Effort+" sent as thinkingBudget "+strconv.Itoa(b))
		}
		gc.ThinkingConfig = tc
	}
	b, err := json.Marshal(&gc)
	if err != nil {
		return nil, invalid("", "%v", err)
	}
	if len(extra) > 0 {
		var rest map[string]json.RawMessage
		if err := json.Unmarshal(extra, &rest); err != nil {
			return nil, invalid("generationConfig", "extra generationConfig: %v", err)
		}
		for _, k := range sortedKeys(rest) {
			if genConfigKeys[k] && !isSchemaKey(k) {
				continue // the model's value wins
			}
			b = appendField(b, k, rest[k])
		}
	}
	if string(b) == "{}" {
		return nil, nil
	}
	return b, nil
}

// Helpers shared by the codec.

func invalid(param, format string, args ...any) *llm.Error {
	return &llm.Error{Kind: llm.ErrInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func setExtra(m *map[string]json.RawMessage, k string, v json.RawMessage) {
	if *m == nil {
		*m = make(map[string]json.RawMessage)
	}
	(*m)[k] = v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendField adds "k": v to the JSON object obj.
func appendField(obj []byte, k string, v json.RawMessage) []byte {
	obj = bytes.TrimRight(obj, " \n")
	obj = obj[:len(obj)-1] // '}'
	if len(obj) > 1 {
		obj = append(obj, ',')
	}
	obj = appendJSONString(obj, k)
	obj = append(obj, ':')
	obj = append(obj, v...)
	return append(obj, '}')
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func compact(raw json.RawMessage) string { return string(compactBytes(raw)) }

func compactBytes(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// argsText is a functionCall's args as the model's Arguments text.
func argsText(args json.RawMessage) (string, error) {
	if len(args) == 0 || isNull(args) {
		return "{}", nil
	}
	if args[0] != '{' {
		return "", fmt.Errorf("args must be a JSON object")
	}
	return compact(args), nil
}

// argsObject is the model's Arguments text as a functionCall's args.
func argsObject(args string) (json.RawMessage, error) {
	t := strings.TrimSpace(args)
	if t == "" {
		return json.RawMessage(`{}`), nil
	}
	if t[0] != '{' || !json.Valid([]byte(t)) {
		return nil, fmt.Errorf("arguments are not a JSON object: %.40q", args)
	}
	return json.RawMessage(t), nil
}

// madeUpID is the id given to the n-th call that came without one:
// "call_N" in a request, "call_N_" and a suffix of 8 hex digits in a
// response (one suffix per response, so that ids of calls in different
// responses differ).
func madeUpID(n int, suffix string) string {
	id := "call_" + strconv.Itoa(n)
	if suffix != "" {
		id += "_" + suffix
	}
	return id
}

// idSuffix is a random suffix for the made-up ids of one response.
func idSuffix() string {
	var b [8]byte
	v := rand.Uint32()
	for i := range b {
		b[i] = hexDigits[v>>(28-4*i)&0xf]
	}
	return string(b[:])
}

// isMadeUp reports whether id has the form of [madeUpID]: such ids are
// the codec's, never sent to Gemini.
func isMadeUp(id string) bool {
	d, ok := strings.CutPrefix(id, "call_")
	if !ok || d == "" {
		return id == ""
	}
	n, suffix, hasSuffix := strings.Cut(d, "_")
	if n == "" || hasSuffix && len(suffix) != 8 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	for i := 0; i < len(suffix); i++ {
		if c := suffix[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func mediaType(mt string) llm.PartType {
	if strings.HasPrefix(mt, "image/") {
		return llm.PartImage
	}
	return llm.PartFile
}

func sniff(data []byte) string {
	mt := http.DetectContentType(data)
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	return mt
}

func urlPath(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return u
}

func isSchemaKey(k string) bool {
	return k == "responseMimeType" || k == "responseSchema" || k == "responseJsonSchema"
}

// parseDataURL splits a "data:image/png;base64,..." URL.
func parseDataURL(u string) (mediaType string, data []byte, err error) {
	rest, _ := strings.CutPrefix(u, "data:")
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return "", nil, fmt.Errorf("malformed data URL")
	}
	mt, isB64 := strings.CutSuffix(meta, ";base64")
	if !isB64 {
		return "", nil, fmt.Errorf("data URL is not base64")
	}
	data, err = base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return "", nil, fmt.Errorf("data URL: %v", err)
	}
	return mt, data, nil
}
