package gemini

import (
	"bytes"
	"encoding/json"
	"strings"
)

// The Gemini API reads a request's field names in either spelling: the
// lowerCamelCase of its JSON mapping (systemInstruction, inlineData) or
// the proto field name (system_instruction, inline_data), which Google's
// own curl examples use. The codec reads camelCase only, so a request is
// first rewritten to it, at the levels that are API messages: the keys of
// user data (function args and responses, schemas, other tools' settings)
// are left as they came.

// shape lists the fields of an API message whose values are messages too;
// a field not listed keeps its value as it came (its key is still
// rewritten).
type shape map[string]shape

var (
	blobShape = shape{}
	partShape = shape{"inlineData": blobShape, "fileData": blobShape, "functionCall": shape{}, "videoMetadata": shape{},
		"functionResponse": shape{"parts": shape{"inlineData": blobShape, "fileData": blobShape}}}
	contentShape = shape{"parts": partShape}
	requestShape = shape{
		"contents":          contentShape,
		"systemInstruction": contentShape,
		"tools":             shape{"functionDeclarations": shape{}},
		"toolConfig":        shape{"functionCallingConfig": shape{}, "retrievalConfig": shape{}},
		"generationConfig":  shape{"thinkingConfig": shape{}},
	}
)

// camelRequest rewrites the snake_case field names of a request body to
// camelCase, returning body itself when it has none. Both spellings of
// one field in one object are an error.
func camelRequest(body []byte) ([]byte, error) {
	out, _, err := requestShape.apply(body)
	return out, err
}

// apply rewrites raw, an object of shape sh or an array of them, and
// reports whether anything changed.
func (sh shape) apply(raw json.RawMessage) (json.RawMessage, bool, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || !hasSnakeKey(t) {
		return raw, false, nil
	}
	switch t[0] {
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(t, &items) != nil {
			return raw, false, nil // the decoder reports it
		}
		changed := false
		for i := range items {
			v, c, err := sh.apply(items[i])
			if err != nil {
				return nil, false, err
			}
			items[i], changed = v, changed || c
		}
		if !changed {
			return raw, false, nil
		}
		b, err := json.Marshal(items)
		return b, true, err
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(t, &m) != nil {
			return raw, false, nil
		}
		changed := false
		for k, v := range m {
			c := camel(k)
			if c == k {
				continue
			}
			if _, dup := m[c]; dup {
				return nil, false, invalid(c, "both %s and %s are set", c, k)
			}
			delete(m, k)
			m[c], changed = v, true
		}
		for k, sub := range sh {
			v, ok := m[k]
			if !ok || sub == nil {
				continue
			}
			nv, c, err := sub.apply(v)
			if err != nil {
				return nil, false, err
			}
			if c {
				m[k], changed = nv, true
			}
		}
		if !changed {
			return raw, false, nil
		}
		b, err := json.Marshal(m)
		return b, true, err
	}
	return raw, false, nil
}

// camel is k in lowerCamelCase: "mime_type" is "mimeType".
func camel(k string) string {
	if strings.IndexByte(k, '_') < 0 {
		return k
	}
	var b strings.Builder
	up := false
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_' && b.Len() > 0:
			up = true
		case up && 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
			up = false
		default:
			b.WriteByte(c)
			up = false
		}
	}
	return b.String()
}

// hasSnakeKey reports whether body may hold a snake_case key: a string of
// lower-case letters, digits and underscores, with an underscore, that is
// followed by a colon. Values such as "get_weather" do not count, so most
// requests skip the rewrite.
func hasSnakeKey(body []byte) bool {
	word := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' }
	for i := 0; i < len(body); {
		j := bytes.IndexByte(body[i:], '_')
		if j < 0 {
			return false
		}
		j += i
		a := j
		for a > 0 && word(body[a-1]) {
			a--
		}
		b := j
		for b < len(body) && word(body[b]) {
			b++
		}
		i = b
		if a == 0 || body[a-1] != '"' || b >= len(body) || body[b] != '"' {
			continue
		}
		k := b + 1
		for k < len(body) && (body[k] == ' ' || body[k] == '\t' || body[k] == '\n' || body[k] == '\r') {
			k++
		}
		if k < len(body) && body[k] == ':' {
			return true
		}
	}
	return false
}
