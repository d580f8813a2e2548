package anthropic

import (
	"bytes"
	"encoding/json"
)

// SetModel returns body, a JSON object, with its top-level "model" set to
// model (added when missing). The rest of the body is kept byte for byte.
// A body that names "model" twice is refused: parsers differ on which one
// counts, so the one routed might not be the one served.
func SetModel(body []byte, model string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, invalid("", "request body is not a JSON object")
	}
	start, end := -1, -1
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid("", "malformed request body: %v", err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, invalid("", "malformed request body: %v", err)
		}
		if tok != "model" {
			continue
		}
		if start >= 0 {
			return nil, invalid("model", "the request names model twice")
		}
		end = int(dec.InputOffset())
		start = end - len(raw)
	}
	if _, err := dec.Token(); err != nil {
		return nil, invalid("", "malformed request body: %v", err)
	}
	if start >= 0 {
		out := make([]byte, 0, len(body)+len(model))
		out = append(out, body[:start]...)
		out = appendString(out, model)
		return append(out, body[end:]...), nil
	}
	i := bytes.IndexByte(body, '{') + 1
	out := make([]byte, 0, len(body)+len(model)+12)
	out = append(out, body[:i]...)
	out = appendStringField(out, "model", model)
	if bytes.TrimSpace(body[i:])[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[i:]...), nil
}
