package ingress

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/vivremotion/gateway/llm"
)

// head is what a request's route is chosen by: its top-level model and
// stream fields, read as a provider reads them, and where its
// stream_options are.
type head struct {
	model  string
	stream bool
	// opts is the span of the top-level stream_options value in the
	// body, {-1, -1} when there is none.
	opts [2]int
}

// routed lists the top-level fields the route depends on.
var routed = [...]string{"model", "stream", "stream_options"}

// readHead reads the top-level model, stream and stream_options of body.
// Keys are compared exactly, after unescaping. A body that names one of
// them twice, or in another case ("MODEL"), is refused: JSON parsers
// differ on which one counts, and the request must be served by the model
// and in the mode it was routed by. The body is checked to be valid JSON
// and walked once; only the values read are decoded.
func readHead(body []byte) (head, error) {
	h := head{opts: [2]int{-1, -1}}
	if !json.Valid(body) {
		return h, invalid("", "the request body is not valid JSON")
	}
	seen := [len(routed)]bool{}
	err := members(body, func(key []byte, start, end int) error {
		i := -1
		for j, name := range routed {
			if len(key) == len(name) && bytes.EqualFold(key, []byte(name)) {
				i = j
			}
		}
		if i < 0 {
			return nil
		}
		name := routed[i]
		switch {
		case string(key) != name:
			return invalid(name, "the field "+name+" is written "+string(key))
		case seen[i]:
			return invalid(name, "the request names "+name+" twice")
		}
		seen[i] = true
		v := body[start:end]
		switch name {
		case "model":
			if len(v) < 2 || v[0] != '"' {
				return invalid("model", "model must be a string")
			}
			if bytes.IndexByte(v, '\\') < 0 {
				h.model = string(v[1 : len(v)-1])
			} else if json.Unmarshal(v, &h.model) != nil {
				return invalid("model", "model must be a string")
			}
		case "stream":
			switch string(v) {
			case "true":
				h.stream = true
			case "false", "null":
			default:
				return invalid("stream", "stream must be a boolean")
			}
		case "stream_options":
			h.opts = [2]int{start, end}
		}
		return nil
	})
	return h, err
}

// members calls fn with the key (unescaped) and the value's span of each
// member of the JSON object body, which must be valid JSON. Keys are
// unescaped only when they hold an escape.
func members(body []byte, fn func(key []byte, start, end int) error) error {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return invalid("", "the request body is not a JSON object")
	}
	i = skipSpace(body, i+1)
	for i < len(body) && body[i] != '}' {
		kend := skipValue(body, i) // a string
		key := body[i+1 : kend-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if json.Unmarshal(body[i:kend], &k) != nil {
				return invalid("", "the request body is not valid JSON")
			}
			key = []byte(k)
		}
		i = skipSpace(body, kend) // at ':'
		start := skipSpace(body, i+1)
		end := skipValue(body, start)
		if err := fn(key, start, end); err != nil {
			return err
		}
		i = skipSpace(body, end)
		if i < len(body) && body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return i
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

func invalid(param, msg string) *llm.Error {
	return &llm.Error{Kind: llm.ErrInvalidRequest, Param: param, Message: msg}
}

// askUsage returns the body of an OpenAI stream request made to ask for
// usage (stream_options.include_usage true, the client's other options
// kept), and whether the client had not asked for it itself.
func askUsage(body []byte, h head) ([]byte, bool) {
	opts := map[string]json.RawMessage{}
	asked := false
	if h.opts[0] >= 0 {
		var client map[string]json.RawMessage
		if json.Unmarshal(body[h.opts[0]:h.opts[1]], &client) == nil {
			for k, v := range client {
				if strings.EqualFold(k, "include_usage") {
					if k == "include_usage" && string(v) == "true" {
						asked = true
					}
					continue // the gateway's own below
				}
				opts[k] = v
			}
		}
	}
	opts["include_usage"] = json.RawMessage("true")
	value, _ := json.Marshal(opts) // cannot fail: raw values that parsed
	if h.opts[0] >= 0 {
		if asked && len(opts) == 1 && bytes.Equal(bytes.TrimSpace(body[h.opts[0]:h.opts[1]]), []byte(`{"include_usage":true}`)) {
			return body, false // as the gateway would write it
		}
		out := make([]byte, 0, len(body)+len(value))
		out = append(out, body[:h.opts[0]]...)
		out = append(out, value...)
		return append(out, body[h.opts[1]:]...), !asked
	}
	i := bytes.IndexByte(body, '{')
	out := make([]byte, 0, len(body)+len(value)+20)
	out = append(out, body[:i+1]...)
	out = append(out, `"stream_options":`...)
	out = append(out, value...)
	if rest := bytes.TrimSpace(body[i+1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[i+1:]...), true
}
