package gemini

import (
	"encoding/json"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// ResponseUsage reads the normalized usage of a GenerateContentResponse
// passed through unchanged, without decoding its content. Only the
// top-level usageMetadata counts (one inside a function call's args is the
// model's output). It reports false when the body has none.
func ResponseUsage(body []byte) (llm.Usage, bool) {
	u, ok, _ := scanChunk(body)
	return u, ok
}

// UsageScanner reads the usage of a streamGenerateContent stream passed
// through unchanged. Each chunk may carry usageMetadata; the last one
// counts. Its zero value is ready to use.
type UsageScanner struct {
	u        llm.Usage
	seen     bool
	finished bool
}

// Scan reads the usage of one SSE event: the counts of its top-level
// usageMetadata, and whether a candidate has a finishReason. It walks the
// chunk's structure without decoding its content (text and args are
// skipped over), and does not allocate.
func (s *UsageScanner) Scan(ev sse.Event) {
	u, ok, finished := scanChunk(ev.Data)
	if ok {
		s.u, s.seen = u, true
	}
	if finished {
		s.finished = true
	}
}

// Usage returns the figures of the last usageMetadata seen, with Source
// [llm.UsageCutShort] when no chunk carried a finishReason; false when
// none was seen.
func (s *UsageScanner) Usage() (llm.Usage, bool) {
	u := s.u
	if !s.finished {
		u.Source = llm.UsageCutShort
	}
	return u, s.seen
}

// scanChunk reads a GenerateContentResponse's top-level keys: the counts
// of usageMetadata, and whether an object of candidates has a
// finishReason. Anything else is skipped over unread.
func scanChunk(data []byte) (u llm.Usage, ok, finished bool) {
	s := scanner{b: data}
	s.space()
	if !s.eat('{') {
		return u, false, false
	}
	for {
		s.space()
		if s.eat('}') || s.i >= len(s.b) {
			return u, ok, finished
		}
		if s.eat(',') {
			continue
		}
		key, good := s.str()
		if !good {
			return u, ok, finished
		}
		s.space()
		if !s.eat(':') {
			return u, ok, finished
		}
		s.space()
		switch string(key) { // no allocation: the conversion is only compared
		case "usageMetadata":
			u, ok = s.usage()
			if !ok {
				return u, false, finished
			}
			continue
		case "candidates":
			if s.candidatesFinished() {
				finished = true
			}
			continue
		}
		if !s.skip() {
			return u, ok, finished
		}
	}
}

// candidatesFinished reads an array of candidates and reports whether one
// has a finishReason key of its own; s is left after the array.
func (s *scanner) candidatesFinished() bool {
	if !s.eat('[') {
		s.skip()
		return false
	}
	found := false
	for {
		s.space()
		if s.i >= len(s.b) || s.eat(']') {
			return found
		}
		if s.eat(',') {
			continue
		}
		if !s.eat('{') {
			if !s.skip() {
				return found
			}
			continue
		}
		for {
			s.space()
			if s.i >= len(s.b) {
				return found
			}
			if s.eat('}') {
				break
			}
			if s.eat(',') {
				continue
			}
			key, ok := s.str()
			if !ok {
				return found
			}
			s.space()
			if !s.eat(':') {
				return found
			}
			s.space()
			if string(key) == "finishReason" {
				found = true
			}
			if !s.skip() {
				return found
			}
		}
	}
}

// usage reads a usageMetadata object and its counts.
func (s *scanner) usage() (llm.Usage, bool) {
	if !s.eat('{') {
		return llm.Usage{}, false
	}
	var w wireUsage
	for {
		s.space()
		if s.eat('}') {
			return usage(&w), true
		}
		if s.eat(',') {
			continue
		}
		key, ok := s.str()
		if !ok {
			return llm.Usage{}, false
		}
		s.space()
		if !s.eat(':') {
			return llm.Usage{}, false
		}
		s.space()
		var dst *int64
		switch string(key) { // no allocation: the conversion is only compared
		case "promptTokenCount":
			dst = &w.PromptTokenCount
		case "candidatesTokenCount":
			dst = &w.CandidatesTokenCount
		case "cachedContentTokenCount":
			dst = &w.CachedContentTokenCount
		case "thoughtsTokenCount":
			dst = &w.ThoughtsTokenCount
		case "toolUsePromptTokenCount":
			dst = &w.ToolUsePromptTokenCount
		}
		if dst != nil {
			n, ok := s.int()
			if !ok {
				return llm.Usage{}, false
			}
			*dst = n
		} else if !s.skip() {
			return llm.Usage{}, false
		}
	}
}

// scanner walks JSON just enough to read a flat object of numbers.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\r' || s.b[s.i] == '\t') {
		s.i++
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string and returns its raw bytes (escapes left as they are).
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
			continue
		case '"':
			s.i++
			return s.b[start : s.i-1], true
		}
		s.i++
	}
	return nil, false
}

func (s *scanner) int() (int64, bool) {
	start := s.i
	var n int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		n = n*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	return n, s.i > start
}

// skip passes over one value of any kind.
func (s *scanner) skip() bool {
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			if _, ok := s.str(); !ok {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true // the end of the enclosing object
			}
			depth--
			if depth == 0 {
				s.i++
				return true
			}
		case ',':
			if depth == 0 {
				return true
			}
		}
		s.i++
	}
	return false
}

// SetModel returns body unchanged: Gemini keeps the model in the URL
// (see [Provider.Forward]). It fails only when body is not JSON.
func SetModel(body []byte, model string) ([]byte, error) {
	_ = model
	if !json.Valid(body) {
		return nil, invalid("", "malformed JSON")
	}
	return body, nil
}
