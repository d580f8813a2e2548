package anthropic

import (
	"bytes"
	"encoding/json"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// UsageScanner reads the usage of a streamed messages response passed
// through unchanged, from its message_start and message_delta events; it
// skips the others without decoding them. Its zero value is ready to use.
type UsageScanner struct {
	usage llm.Usage
	raw   [3]int64
	seen  bool
	ev    struct {
		Message *struct {
			Usage *wireUsage `json:"usage"`
		} `json:"message"`
		Usage *wireUsage `json:"usage"`
	}
}

var (
	typeMessageStart = []byte(`"message_start"`)
	typeMessageDelta = []byte(`"message_delta"`)
)

// Scan takes the next event of the stream.
func (s *UsageScanner) Scan(ev sse.Event) {
	switch ev.Type {
	case "message_start", "message_delta":
	case "":
		// No event name: look for the type in the data.
		if !bytes.Contains(ev.Data, typeMessageStart) && !bytes.Contains(ev.Data, typeMessageDelta) {
			return
		}
	default:
		return
	}
	s.ev.Message, s.ev.Usage = nil, nil
	if json.Unmarshal(ev.Data, &s.ev) != nil {
		return
	}
	u := s.ev.Usage
	if s.ev.Message != nil && s.ev.Message.Usage != nil {
		u = s.ev.Message.Usage
	}
	if u == nil {
		return
	}
	u.merge(&s.usage, &s.raw)
	s.seen = true
}

// Usage returns the figures read so far; ok is false when no event
// carried any.
func (s *UsageScanner) Usage() (llm.Usage, bool) { return s.usage, s.seen }
