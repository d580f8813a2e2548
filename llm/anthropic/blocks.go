package anthropic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/vivremotion/gateway/llm"
)

// wireBlock is a content block of any type, as it is read.
type wireBlock struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	Source       *wireSource     `json:"source"`
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Input        json.RawMessage `json:"input"`
	ToolUseID    string          `json:"tool_use_id"`
	Content      json.RawMessage `json:"content"`
	IsError      bool            `json:"is_error"`
	Thinking     string          `json:"thinking"`
	Signature    string          `json:"signature"`
	Data         string          `json:"data"`
	Title        string          `json:"title"`
	Context      json.RawMessage `json:"context"`
	Citations    json.RawMessage `json:"citations"`
	CacheControl *wireCache      `json:"cache_control"`
}

// wireSource is the source of an image or a document.
type wireSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
	URL       string `json:"url"`
}

// wireCache is a cache_control marker.
type wireCache struct {
	Type string `json:"type"`
	TTL  string `json:"ttl"`
}

func (c *wireCache) hint() *llm.CacheHint {
	if c == nil {
		return nil
	}
	return &llm.CacheHint{TTL: c.TTL}
}

// blockFields are the block fields the model has no place for; they are
// kept in Extra under the block's path and written back by this package's
// encoders.
var blockFields = [...]string{"citations", "context"}

// decodeContent reads a message's content, a string or an array of
// blocks, at path (e.g. "messages[2].content"). Blocks the model has no
// part for are kept whole in extra under their path.
func decodeContent(raw json.RawMessage, path string, extra map[string]json.RawMessage) ([]llm.Part, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == 'n' {
		return nil, invalid(path, "%s: required", path)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid(path, "%s: %v", path, err)
		}
		return []llm.Part{{Type: llm.PartText, Text: s}}, nil
	}
	if raw[0] != '[' {
		return nil, invalid(path, "%s: want a string or an array of content blocks", path)
	}
	var blocks []json.RawMessage
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, invalid(path, "%s: %v", path, err)
	}
	parts := make([]llm.Part, 0, len(blocks))
	for j, rb := range blocks {
		bp := path + "[" + strconv.Itoa(j) + "]"
		var b wireBlock
		if err := json.Unmarshal(rb, &b); err != nil {
			return nil, invalid(bp, "%s: %v", bp, err)
		}
		p, ok, err := decodeBlock(&b, bp, extra)
		if err != nil {
			return nil, err
		}
		if !ok {
			extra[bp] = rb
			continue
		}
		if !isNull(b.Citations) {
			extra[bp+".citations"] = b.Citations
		}
		if !isNull(b.Context) {
			extra[bp+".context"] = b.Context
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// decodeBlock converts one block into a part; ok is false for a block the
// model has no part for.
func decodeBlock(b *wireBlock, path string, extra map[string]json.RawMessage) (p llm.Part, ok bool, err error) {
	p.Cache = b.CacheControl.hint()
	switch b.Type {
	case "text":
		p.Type, p.Text = llm.PartText, b.Text
	case "image", "document":
		p.Type = llm.PartImage
		if b.Type == "document" {
			p.Type = llm.PartFile
		}
		if b.Source == nil {
			return p, false, invalid(path+".source", "%s.source: required", path)
		}
		m := &llm.Media{MediaType: b.Source.MediaType, Name: b.Title}
		switch b.Source.Type {
		case "base64":
			if m.Data, err = base64.StdEncoding.DecodeString(b.Source.Data); err != nil {
				return p, false, invalid(path+".source.data", "%s.source.data: %v", path, err)
			}
		case "url":
			m.URL = b.Source.URL
		case "text":
			if m.MediaType == "" {
				m.MediaType = "text/plain"
			}
			m.Data = []byte(b.Source.Data)
		default:
			return p, false, nil // file and content sources: kept whole
		}
		p.Media = m
	case "tool_use", "server_tool_use":
		if b.Type != "tool_use" {
			return p, false, nil
		}
		args := "{}"
		if !isNull(b.Input) {
			args = compact(b.Input)
		}
		p.Type, p.ToolCall = llm.PartToolCall, &llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: args}
	case "tool_result":
		r := &llm.ToolResult{CallID: b.ToolUseID, IsError: b.IsError}
		if !isNull(b.Content) {
			if r.Parts, err = decodeContent(b.Content, path+".content", extra); err != nil {
				return p, false, err
			}
		}
		p.Type, p.ToolResult = llm.PartToolResult, r
	case "thinking":
		p.Type, p.Text, p.Signature = llm.PartReasoning, b.Thinking, b.Signature
	case "redacted_thinking":
		p.Type, p.Signature = llm.PartRedactedReasoning, b.Data
	case "":
		return p, false, invalid(path+".type", "%s.type: required", path)
	default:
		return p, false, nil
	}
	return p, true, nil
}

// compact returns raw without insignificant space, as a string.
func compact(raw json.RawMessage) string {
	var c bytes.Buffer
	if json.Compact(&c, raw) == nil {
		return c.String()
	}
	return string(raw)
}

// blockWriter writes content blocks, collecting losses. When extra holds
// block paths (the request or response came from this format), it writes
// back what was kept there.
type blockWriter struct {
	b      []byte
	losses []llm.Loss
	extra  map[string]json.RawMessage // nil unless paths were kept
	native bool                       // signatures are this format's
}

func (w *blockWriter) lose(field, reason string) {
	w.losses = append(w.losses, llm.Loss{Field: field, Reason: reason})
}

// kept writes the whole blocks kept at path, path+1... while there are
// any, and returns the next free position.
func (w *blockWriter) kept(prefix string, j int) int {
	if w.extra == nil {
		return j
	}
	for {
		raw, ok := w.extra[prefix+"["+strconv.Itoa(j)+"]"]
		if !ok {
			return j
		}
		w.b = appendRaw(comma(w.b), raw)
		j++
	}
}

// keptFields writes the fields kept for the block at path.
func (w *blockWriter) keptFields(path string) {
	if w.extra == nil {
		return
	}
	for _, f := range blockFields {
		if raw, ok := w.extra[path+"."+f]; ok {
			w.b = appendRawField(w.b, f, raw)
		}
	}
}

func (w *blockWriter) cache(c *llm.CacheHint) {
	if c == nil {
		return
	}
	w.b = append(appendKey(w.b, "cache_control"), `{"type":"ephemeral"`...)
	if c.TTL != "" {
		w.b = appendStringField(w.b, "ttl", c.TTL)
	}
	w.b = append(w.b, '}')
}

// part writes p as a block at output path (for kept fields; "" when none
// are kept) and reports it as source (for losses). It returns false when
// nothing was written.
func (w *blockWriter) part(p *llm.Part, path, source string, assistant bool) (bool, error) {
	start := len(w.b)
	w.b = append(comma(w.b), '{')
	switch p.Type {
	case llm.PartText, llm.PartRefusal:
		if p.Type == llm.PartRefusal {
			w.lose(source, "refusal sent as text: anthropic has no refusal block")
		}
		if p.Text == "" && p.Cache == nil {
			w.b = w.b[:start] // anthropic rejects empty text blocks
			return false, nil
		}
		w.b = appendStringField(w.b, "type", "text")
		w.b = appendStringField(w.b, "text", p.Text)
	case llm.PartImage, llm.PartFile:
		if err := w.media(p, source); err != nil {
			return false, err
		}
	case llm.PartReasoning, llm.PartRedactedReasoning:
		if !assistant {
			w.b = w.b[:start]
			w.lose(source, "reasoning outside an assistant turn has no equivalent in anthropic")
			return false, nil
		}
		if p.Signature == "" || !w.native {
			w.b = w.b[:start]
			w.lose(source, "reasoning without an anthropic signature: anthropic rejects unsigned thinking")
			return false, nil
		}
		if p.Type == llm.PartReasoning {
			w.b = appendStringField(w.b, "type", "thinking")
			w.b = appendStringField(w.b, "thinking", p.Text)
			w.b = appendStringField(w.b, "signature", p.Signature)
		} else {
			w.b = appendStringField(w.b, "type", "redacted_thinking")
			w.b = appendStringField(w.b, "data", p.Signature)
		}
	case llm.PartToolCall:
		c := p.ToolCall
		if c == nil {
			w.b = w.b[:start]
			return false, nil
		}
		args := strings.TrimSpace(c.Arguments)
		if args == "" {
			args = "{}"
		}
		if args[0] != '{' || !json.Valid([]byte(args)) {
			return false, invalid(source+".arguments", "%s: tool call %q arguments are not a JSON object", source, c.Name)
		}
		w.b = appendStringField(w.b, "type", "tool_use")
		w.b = appendStringField(w.b, "id", c.ID)
		w.b = appendStringField(w.b, "name", c.Name)
		w.b = appendRaw(appendKey(w.b, "input"), []byte(args))
	case llm.PartToolResult:
		r := p.ToolResult
		if r == nil {
			w.b = w.b[:start]
			return false, nil
		}
		w.b = appendStringField(w.b, "type", "tool_result")
		w.b = appendStringField(w.b, "tool_use_id", r.CallID)
		if err := w.resultContent(r, path, source); err != nil {
			return false, err
		}
		if r.IsError {
			w.b = appendBoolField(w.b, "is_error", true)
		}
	default:
		w.b = w.b[:start]
		w.lose(source, "part of type "+p.Type.String()+" has no equivalent in anthropic")
		return false, nil
	}
	if p.Signature != "" && p.Type != llm.PartReasoning && p.Type != llm.PartRedactedReasoning {
		w.lose(source+".signature", "signature of another format dropped")
	}
	w.cache(p.Cache)
	if path != "" {
		w.keptFields(path)
	}
	w.b = append(w.b, '}')
	return true, nil
}

// resultContent writes a tool result's content: a string for one plain
// text part, blocks otherwise.
func (w *blockWriter) resultContent(r *llm.ToolResult, path, source string) error {
	if len(r.Parts) == 0 {
		return nil
	}
	if len(r.Parts) == 1 && r.Parts[0].Type == llm.PartText && r.Parts[0].Cache == nil && !w.hasKept(path+".content[0]") {
		w.b = appendStringField(w.b, "content", r.Parts[0].Text)
		return nil
	}
	w.b = append(appendKey(w.b, "content"), '[')
	for k := range r.Parts {
		q := &r.Parts[k]
		sub := ""
		if path != "" {
			sub = path + ".content[" + strconv.Itoa(k) + "]"
		}
		src := source + ".content[" + strconv.Itoa(k) + "]"
		switch q.Type {
		case llm.PartText, llm.PartImage, llm.PartFile:
			if _, err := w.part(q, sub, src, false); err != nil {
				return err
			}
		default:
			w.lose(src, "tool result part of type "+q.Type.String()+" has no equivalent in anthropic")
		}
	}
	w.b = append(w.b, ']')
	return nil
}

func (w *blockWriter) hasKept(path string) bool {
	if w.extra == nil || path == "" {
		return false
	}
	for _, f := range blockFields {
		if _, ok := w.extra[path+"."+f]; ok {
			return true
		}
	}
	return false
}

// media writes the type and source of an image or document block.
func (w *blockWriter) media(p *llm.Part, source string) error {
	m := p.Media
	if m == nil {
		return invalid(source, "%s: %s part without media", source, p.Type)
	}
	typ := "image"
	if p.Type == llm.PartFile {
		typ = "document"
	}
	w.b = appendStringField(w.b, "type", typ)
	w.b = append(appendKey(w.b, "source"), '{')
	mt, data, isData := m.MediaType, "", false
	if m.Data != nil {
		isData = true
	} else if rest, ok := strings.CutPrefix(m.URL, "data:"); ok {
		meta, payload, ok := strings.Cut(rest, ",")
		meta, b64 := strings.CutSuffix(meta, ";base64")
		if !ok || !b64 {
			return invalid(source, "%s: data URL is not base64", source)
		}
		if meta != "" {
			mt = meta
		}
		data, isData = payload, true
	}
	switch {
	case isData && typ == "document" && strings.HasPrefix(mt, "text/plain") && m.Data != nil:
		w.b = appendStringField(w.b, "type", "text")
		w.b = appendStringField(w.b, "media_type", "text/plain")
		w.b = appendStringField(w.b, "data", string(m.Data))
	case isData:
		if mt == "" && m.Data != nil {
			mt = http.DetectContentType(m.Data)
			if i := strings.IndexByte(mt, ';'); i >= 0 {
				mt = mt[:i]
			}
		}
		if mt == "" || mt == "application/octet-stream" {
			return invalid(source, "%s: inline %s without a media type", source, typ)
		}
		w.b = appendStringField(w.b, "type", "base64")
		w.b = appendStringField(w.b, "media_type", mt)
		w.b = appendKey(w.b, "data")
		if m.Data != nil {
			w.b = append(w.b, '"')
			w.b = base64.StdEncoding.AppendEncode(w.b, m.Data)
			w.b = append(w.b, '"')
		} else {
			w.b = appendString(w.b, data)
		}
	case m.URL != "":
		w.b = appendStringField(w.b, "type", "url")
		w.b = appendStringField(w.b, "url", m.URL)
	default:
		return invalid(source, "%s: %s without data or URL", source, typ)
	}
	w.b = append(w.b, '}')
	if m.Detail != "" {
		w.lose(source+".detail", "image detail has no equivalent in anthropic")
	}
	if m.Name != "" {
		if typ == "document" {
			w.b = appendStringField(w.b, "title", m.Name)
		} else {
			w.lose(source+".name", "image name has no equivalent in anthropic")
		}
	}
	return nil
}
