package anthropic

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/vivremotion/gateway/llm"
)

// DefaultMaxTokens is the max_tokens [EncodeRequest] sends when the
// request gives none (Anthropic requires one); with a thinking budget it
// sends the budget plus DefaultMaxTokens.
const DefaultMaxTokens = 4096

// EffortBudget returns the thinking budget [EncodeRequest] sends for a
// request that gives a reasoning effort and no budget: minimal 1024 (the
// smallest budget Anthropic accepts), low 2048, medium 8192, high 16384;
// ok is false for another effort.
func EffortBudget(effort string) (tokens int, ok bool) {
	tokens, ok = effortBudgets[effort]
	return tokens, ok
}

var effortBudgets = map[string]int{
	"minimal": 1024,
	"low":     2048,
	"medium":  8192,
	"high":    16384,
}

// DecodeRequest reads a messages request of an Anthropic client into the
// model. The system prompt becomes a leading RoleSystem message. Fields
// the model has no place for are kept in Extra (ExtraFormat
// [llm.FormatAnthropic]): unknown top-level fields under their name,
// server tools and tool cache_control under "tools", and block fields and
// blocks the model has no part for (citations, server tool blocks) under
// their path, such as "messages[1].content[0].citations". A malformed
// body, a missing model, messages or max_tokens, or a field of the wrong
// type is an [*llm.Error] of kind ErrInvalidRequest.
func DecodeRequest(body []byte) (*llm.Request, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, invalid("", "malformed request body: %v", err)
	}
	if top == nil {
		return nil, invalid("", "request body is not a JSON object")
	}
	req := &llm.Request{ExtraFormat: llm.FormatAnthropic}
	extra := map[string]json.RawMessage{}
	var system []llm.Part
	hasMax := false
	for k, v := range top {
		var err error
		switch k {
		case "model":
			err = field(k, v, &req.Model)
		case "max_tokens":
			hasMax = !isNull(v)
			err = field(k, v, &req.MaxTokens)
		case "messages":
			continue // after system
		case "system":
			if !isNull(v) {
				system, err = decodeContent(v, "system", extra)
			}
		case "temperature":
			err = field(k, v, &req.Temperature)
		case "top_p":
			err = field(k, v, &req.TopP)
		case "top_k":
			err = field(k, v, &req.TopK)
		case "stop_sequences":
			err = field(k, v, &req.Stop)
		case "stream":
			err = field(k, v, &req.Stream)
		case "tools":
			err = decodeTools(req, v, extra)
		case "tool_choice":
			err = decodeToolChoice(req, v)
		case "thinking":
			err = decodeThinking(req, v, extra)
		case "metadata":
			err = decodeMetadata(req, v, extra)
		default:
			extra[k] = v
		}
		if err != nil {
			return nil, err
		}
	}
	if req.Model == "" {
		return nil, invalid("model", "model: required")
	}
	if !hasMax {
		return nil, invalid("max_tokens", "max_tokens: required")
	}
	raw, ok := top["messages"]
	if !ok || isNull(raw) {
		return nil, invalid("messages", "messages: required")
	}
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, invalid("messages", "messages: %v", err)
	}
	if len(msgs) == 0 {
		return nil, invalid("messages", "messages: at least one message is required")
	}
	n := len(msgs)
	if system != nil {
		n++
	}
	req.Messages = make([]llm.Message, 0, n)
	if system != nil {
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleSystem, Parts: system})
	}
	for i, m := range msgs {
		path := "messages[" + strconv.Itoa(i) + "]"
		var role llm.Role
		switch m.Role {
		case "user":
			role = llm.RoleUser
		case "assistant":
			role = llm.RoleAssistant
		default:
			return nil, invalid(path+".role", "%s.role: want user or assistant, got %q", path, m.Role)
		}
		parts, err := decodeContent(m.Content, path+".content", extra)
		if err != nil {
			return nil, err
		}
		req.Messages = append(req.Messages, llm.Message{Role: role, Parts: parts})
	}
	if len(extra) > 0 {
		req.Extra = extra
	}
	return req, nil
}

// field unmarshals the value of a top-level field, and names it on error.
func field(name string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return invalid(name, "%s: %v", name, err)
	}
	return nil
}

type wireTool struct {
	Type         string          `json:"type"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	Strict       *bool           `json:"strict"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// decodeTools reads the tools: custom tools into Tools, server tools (a
// type other than "custom") and cache_control markers into extra["tools"].
func decodeTools(req *llm.Request, raw json.RawMessage, extra map[string]json.RawMessage) error {
	var tools []json.RawMessage
	if err := json.Unmarshal(raw, &tools); err != nil {
		return invalid("tools", "tools: %v", err)
	}
	var kept []byte
	for i, rt := range tools {
		var t wireTool
		if err := json.Unmarshal(rt, &t); err != nil {
			return invalid("tools["+strconv.Itoa(i)+"]", "tools[%d]: %v", i, err)
		}
		if t.Type != "" && t.Type != "custom" {
			kept = appendRaw(comma(kept), rt)
			continue
		}
		if t.Name == "" {
			return invalid("tools["+strconv.Itoa(i)+"].name", "tools[%d].name: required", i)
		}
		req.Tools = append(req.Tools, llm.Tool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema, Strict: t.Strict})
		if !isNull(t.CacheControl) {
			stub := appendStringField([]byte{'{'}, "name", t.Name)
			stub = append(appendRawField(stub, "cache_control", t.CacheControl), '}')
			kept = appendRaw(comma(kept), stub)
		}
	}
	if kept != nil {
		extra["tools"] = append(append([]byte{'['}, kept...), ']')
	}
	return nil
}

func decodeToolChoice(req *llm.Request, raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var c struct {
		Type                   string `json:"type"`
		Name                   string `json:"name"`
		DisableParallelToolUse *bool  `json:"disable_parallel_tool_use"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return invalid("tool_choice", "tool_choice: %v", err)
	}
	tc := &llm.ToolChoice{}
	switch c.Type {
	case "auto":
		tc.Mode = llm.ToolAuto
	case "any":
		tc.Mode = llm.ToolRequired
	case "none":
		tc.Mode = llm.ToolNone
	case "tool":
		if c.Name == "" {
			return invalid("tool_choice.name", "tool_choice.name: required with type tool")
		}
		tc.Mode, tc.Name = llm.ToolNamed, c.Name
	default:
		return invalid("tool_choice.type", "tool_choice.type: want auto, any, tool or none, got %q", c.Type)
	}
	req.ToolChoice = tc
	if c.DisableParallelToolUse != nil {
		p := !*c.DisableParallelToolUse
		req.ParallelToolCalls = &p
	}
	return nil
}

func decodeThinking(req *llm.Request, raw json.RawMessage, extra map[string]json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var t struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return invalid("thinking", "thinking: %v", err)
	}
	switch t.Type {
	case "enabled":
		if t.BudgetTokens <= 0 {
			return invalid("thinking.budget_tokens", "thinking.budget_tokens: required with type enabled")
		}
		req.Reasoning = &llm.Reasoning{BudgetTokens: t.BudgetTokens}
	case "disabled":
		req.Reasoning = &llm.Reasoning{Disabled: true}
	default:
		extra["thinking"] = raw // a type the model has no word for
	}
	return nil
}

func decodeMetadata(req *llm.Request, raw json.RawMessage, extra map[string]json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return invalid("metadata", "metadata: %v", err)
	}
	uid, ok := m["user_id"]
	if len(m) != 1 || !ok {
		extra["metadata"] = raw // fields the model has no place for
		return nil
	}
	if isNull(uid) {
		return nil
	}
	return field("metadata.user_id", uid, &req.User)
}

// EncodeRequest writes req as a messages request for the Anthropic API,
// and lists what it could not carry.
//
// Leading system and developer messages become the system prompt; later
// ones are moved there too, each reported as a loss. Tool results become
// tool_result blocks of a user turn, and consecutive messages of one role
// are merged into one turn, since Anthropic requires user and assistant
// turns to alternate. Reasoning is sent back as thinking only with a
// signature from this format (Anthropic rejects unsigned thinking). A tool
// call whose arguments are not a JSON object is an [*llm.Error] of kind
// ErrInvalidRequest. MaxTokens 0 sends [DefaultMaxTokens]; an effort
// without a budget sends the budget of [EffortBudget], reported.
func EncodeRequest(req *llm.Request) ([]byte, []llm.Loss, error) {
	native := req.ExtraFormat == llm.FormatAnthropic || req.ExtraFormat == ""
	w := &blockWriter{b: make([]byte, 0, 512), native: native}
	if req.ExtraFormat == llm.FormatAnthropic && hasPaths(req.Extra) {
		w.extra = req.Extra
	}
	w.b = append(w.b, '{')
	w.b = appendStringField(w.b, "model", req.Model)

	budget, maxTokens := 0, req.MaxTokens
	if r := req.Reasoning; r != nil && !r.Disabled {
		budget = r.BudgetTokens
		if budget == 0 && r.Effort != "" {
			b, ok := EffortBudget(r.Effort)
			if !ok {
				w.lose("reasoning_effort", "effort "+strconv.Quote(r.Effort)+" has no thinking budget; thinking not enabled")
			} else {
				if maxTokens > 0 && b >= maxTokens {
					b = max(maxTokens-1, 1024)
				}
				budget = b
				w.lose("reasoning_effort", "effort "+r.Effort+" sent as thinking.budget_tokens "+strconv.Itoa(b))
			}
		}
	}
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens + budget
	}
	w.b = appendIntField(w.b, "max_tokens", int64(maxTokens))

	if err := encodeSystem(w, req.Messages); err != nil {
		return nil, nil, err
	}
	if err := encodeMessages(w, req.Messages); err != nil {
		return nil, nil, err
	}

	if t := req.Temperature; t != nil {
		v := *t
		if v > 1 {
			w.lose("temperature", "temperature "+strconv.FormatFloat(v, 'g', -1, 64)+" above anthropic's range sent as 1")
			v = 1
		}
		w.b = appendFloatField(w.b, "temperature", v)
	}
	if req.TopP != nil {
		w.b = appendFloatField(w.b, "top_p", *req.TopP)
	}
	if req.TopK != nil {
		w.b = appendIntField(w.b, "top_k", int64(*req.TopK))
	}
	if len(req.Stop) > 0 {
		w.b = append(appendKey(w.b, "stop_sequences"), '[')
		for _, s := range req.Stop {
			w.b = appendString(comma(w.b), s)
		}
		w.b = append(w.b, ']')
	}
	if req.Stream {
		w.b = appendBoolField(w.b, "stream", true)
	}
	encodeTools(w, req)
	if r := req.Reasoning; r != nil {
		switch {
		case r.Disabled:
			w.b = append(appendKey(w.b, "thinking"), `{"type":"disabled"}`...)
		case budget > 0:
			w.b = append(appendKey(w.b, "thinking"), `{"type":"enabled","budget_tokens":`...)
			w.b = append(strconv.AppendInt(w.b, int64(budget), 10), '}')
		}
	}
	if req.User != "" {
		w.b = append(appendKey(w.b, "metadata"), '{')
		w.b = append(appendStringField(w.b, "user_id", req.User), '}')
	}

	if req.Seed != nil {
		w.lose("seed", "no equivalent in anthropic")
	}
	if req.N > 1 {
		w.lose("n", "anthropic returns one choice: n="+strconv.Itoa(req.N)+" sent as 1")
	}
	if req.PresencePenalty != nil {
		w.lose("presence_penalty", "no equivalent in anthropic")
	}
	if req.FrequencyPenalty != nil {
		w.lose("frequency_penalty", "no equivalent in anthropic")
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type != "" && rf.Type != llm.FormatText {
		w.lose("response_format", string(rf.Type)+" has no direct equivalent in anthropic")
	}
	writeExtra(w, req.Extra, req.ExtraFormat)
	w.b = append(w.b, '}')
	return w.b, w.losses, nil
}

// hasPaths reports whether extra holds block paths (keys that are not
// top-level field names).
func hasPaths(extra map[string]json.RawMessage) bool {
	for k := range extra {
		if strings.ContainsAny(k, "[.") {
			return true
		}
	}
	return false
}

// writeExtra writes the top-level fields of extra when they came from
// this format, in sorted order, and reports them as losses otherwise.
func writeExtra(w *blockWriter, extra map[string]json.RawMessage, from llm.Format) {
	if len(extra) == 0 {
		return
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if from != llm.FormatAnthropic {
			w.lose(k, "no equivalent in anthropic (from "+string(from)+")")
			continue
		}
		if k == "tools" || strings.ContainsAny(k, "[.") {
			continue // written with the tools and blocks
		}
		w.b = appendRawField(w.b, k, extra[k])
	}
}

// encodeSystem writes the system prompt from every system and developer
// message; those after the first other message are reported as moved.
func encodeSystem(w *blockWriter, msgs []llm.Message) error {
	var parts []*llm.Part
	var sources []string
	leading := true
	for i := range msgs {
		m := &msgs[i]
		if m.Role != llm.RoleSystem && m.Role != llm.RoleDeveloper {
			leading = false
			continue
		}
		if !leading {
			w.lose("messages["+strconv.Itoa(i)+"]", "system message inside the conversation moved to the system prompt")
		}
		for j := range m.Parts {
			p := &m.Parts[j]
			src := "messages[" + strconv.Itoa(i) + "].content[" + strconv.Itoa(j) + "]"
			if p.Type != llm.PartText {
				w.lose(src, "system part of type "+p.Type.String()+" has no equivalent in anthropic")
				continue
			}
			parts = append(parts, p)
			sources = append(sources, src)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	if len(parts) == 1 && parts[0].Cache == nil && !w.hasKept("system[0]") {
		w.b = appendStringField(w.b, "system", parts[0].Text)
		return nil
	}
	w.b = append(appendKey(w.b, "system"), '[')
	for j, p := range parts {
		path := ""
		if w.extra != nil {
			path = "system[" + strconv.Itoa(j) + "]"
		}
		if _, err := w.part(p, path, sources[j], false); err != nil {
			return err
		}
	}
	w.b = append(w.b, ']')
	return nil
}

// encodeMessages writes the conversation as alternating turns.
func encodeMessages(w *blockWriter, msgs []llm.Message) error {
	w.b = append(appendKey(w.b, "messages"), '[')
	role := ""      // the role of the open turn
	oi, oj := -1, 0 // the open turn's index and its next block
	prefix := ""
	contentAt, blocks := 0, 0 // where the open turn's content starts, its blocks
	var plain *llm.Part       // its first block, when plain text
	for i := range msgs {
		m := &msgs[i]
		var r string
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			continue
		case llm.RoleAssistant:
			r = "assistant"
		default: // user, tool
			r = "user"
		}
		if m.Name != "" {
			w.lose("messages["+strconv.Itoa(i)+"].name", "no equivalent in anthropic")
		}
		if r != role {
			if role != "" {
				oj = w.kept(prefix, oj)
				w.closeTurn(contentAt, blocks, plain)
			}
			role, oi, oj = r, oi+1, 0
			if w.extra != nil {
				prefix = "messages[" + strconv.Itoa(oi) + "].content"
			}
			w.b = append(comma(w.b), '{')
			w.b = appendStringField(w.b, "role", r)
			w.b = appendKey(w.b, "content")
			contentAt, blocks, plain = len(w.b), 0, nil
			w.b = append(w.b, '[')
		}
		for j := range m.Parts {
			oj = w.kept(prefix, oj)
			path := ""
			if w.extra != nil {
				path = prefix + "[" + strconv.Itoa(oj) + "]"
			}
			src := "messages[" + strconv.Itoa(i) + "].content[" + strconv.Itoa(j) + "]"
			p := &m.Parts[j]
			if p.Type == llm.PartToolCall && r != "assistant" {
				w.lose(src, "tool call outside an assistant turn has no equivalent in anthropic")
				continue
			}
			ok, err := w.part(p, path, src, r == "assistant")
			if err != nil {
				return err
			}
			if ok {
				if blocks == 0 && p.Type == llm.PartText && p.Cache == nil && !w.hasKept(path) {
					plain = p
				}
				oj++
				blocks++
			}
		}
		if blocks < oj { // kept blocks were written
			plain = nil
		}
	}
	if role != "" {
		oj = w.kept(prefix, oj)
		if blocks < oj {
			plain = nil
		}
		w.closeTurn(contentAt, blocks, plain)
	}
	w.b = append(w.b, ']')
	return nil
}

// closeTurn ends a turn whose content starts at contentAt, writing it as
// a string when it is one plain text block.
func (w *blockWriter) closeTurn(contentAt, blocks int, plain *llm.Part) {
	if blocks == 1 && plain != nil {
		w.b = appendString(w.b[:contentAt], plain.Text)
		w.b = append(w.b, '}')
		return
	}
	w.b = append(w.b, "]}"...)
}

// encodeTools writes tools and tool_choice, with the server tools and
// cache_control markers kept in Extra["tools"] by [DecodeRequest].
func encodeTools(w *blockWriter, req *llm.Request) {
	var kept []json.RawMessage
	if raw, ok := req.Extra["tools"]; ok && req.ExtraFormat == llm.FormatAnthropic {
		_ = json.Unmarshal(raw, &kept) // written by DecodeRequest
	}
	cacheOf := func(name string) json.RawMessage {
		for _, k := range kept {
			var s struct {
				Type         string          `json:"type"`
				Name         string          `json:"name"`
				CacheControl json.RawMessage `json:"cache_control"`
			}
			if json.Unmarshal(k, &s) == nil && s.Type == "" && s.Name == name {
				return s.CacheControl
			}
		}
		return nil
	}
	if len(req.Tools) > 0 || len(kept) > 0 {
		w.b = append(appendKey(w.b, "tools"), '[')
		for i := range req.Tools {
			t := &req.Tools[i]
			w.b = append(comma(w.b), '{')
			w.b = appendStringField(w.b, "name", t.Name)
			if t.Description != "" {
				w.b = appendStringField(w.b, "description", t.Description)
			}
			schema := json.RawMessage(`{"type":"object"}`)
			if !isNull(t.Parameters) {
				schema = t.Parameters
			}
			w.b = appendRawField(w.b, "input_schema", schema)
			if t.Strict != nil {
				w.b = appendBoolField(w.b, "strict", *t.Strict)
			}
			if cc := cacheOf(t.Name); cc != nil {
				w.b = appendRawField(w.b, "cache_control", cc)
			}
			w.b = append(w.b, '}')
		}
		for _, k := range kept {
			if bytes.Contains(k, []byte(`"type"`)) {
				var s struct {
					Type string `json:"type"`
				}
				if json.Unmarshal(k, &s) == nil && s.Type != "" {
					w.b = appendRaw(comma(w.b), k)
				}
			}
		}
		w.b = append(w.b, ']')
	}
	tc, par := req.ToolChoice, req.ParallelToolCalls
	if tc == nil && (par == nil || len(req.Tools) == 0) {
		return
	}
	w.b = append(appendKey(w.b, "tool_choice"), '{')
	mode := llm.ToolAuto
	if tc != nil {
		mode = tc.Mode
	}
	switch mode {
	case llm.ToolRequired:
		w.b = appendStringField(w.b, "type", "any")
	case llm.ToolNone:
		w.b = appendStringField(w.b, "type", "none")
	case llm.ToolNamed:
		w.b = appendStringField(w.b, "type", "tool")
		w.b = appendStringField(w.b, "name", tc.Name)
	default:
		w.b = appendStringField(w.b, "type", "auto")
	}
	if par != nil && mode != llm.ToolNone {
		w.b = appendBoolField(w.b, "disable_parallel_tool_use", !*par)
	}
	w.b = append(w.b, '}')
}
