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
// and in the mode it was routed by.
func readHead(body []byte) (head, error) {
	h := head{opts: [2]int{-1, -1}}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return h, invalid("", "the request body is not a JSON object")
	}
	seen := [len(routed)]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return h, invalid("", "the request body is not valid JSON")
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return h, invalid("", "the request body is not valid JSON")
		}
		i := -1
		for j, name := range routed {
			if strings.EqualFold(key, name) {
				i = j
			}
		}
		if i < 0 {
			continue
		}
		name := routed[i]
		switch {
		case key != name:
			return h, invalid(name, "the field "+name+" is written "+key)
		case seen[i]:
			return h, invalid(name, "the request names "+name+" twice")
		}
		seen[i] = true
		switch name {
		case "model":
			if json.Unmarshal(raw, &h.model) != nil {
				return h, invalid("model", "model must be a string")
			}
		case "stream":
			if string(raw) != "null" && json.Unmarshal(raw, &h.stream) != nil {
				return h, invalid("stream", "stream must be a boolean")
			}
		case "stream_options":
			end := int(dec.InputOffset())
			h.opts = [2]int{end - len(raw), end}
		}
	}
	if _, err := dec.Token(); err != nil {
		return h, invalid("", "the request body is not valid JSON")
	}
	return h, nil
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
