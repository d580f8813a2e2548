package openai

import (
	"bytes"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// UsageScanner reads the usage of a chat completions stream passed
// through unchanged. Feed it each event with Scan; it looks for a
// "usage" object in the chunk's bytes and reads only its numbers, without
// decoding the chunk, and allocates nothing. Its zero value is ready to
// use.
type UsageScanner struct {
	usage llm.Usage
	found bool
	done  bool
}

// Scan reads ev, an event of the stream.
func (s *UsageScanner) Scan(ev sse.Event) {
	data := ev.Data
	if string(data) == "[DONE]" {
		s.done = true
		return
	}
	if u, ok := scanUsage(data); ok {
		s.usage, s.found = u, true
	}
}

// Usage returns the last usage the stream reported, and whether it
// reported any. Its Source is [llm.UsageCutShort] when no [DONE] was
// seen.
func (s *UsageScanner) Usage() (llm.Usage, bool) {
	u := s.usage
	if !s.done {
		u.Source = llm.UsageCutShort
	}
	return u, s.found
}

var usageKey = []byte(`"usage"`)

// scanUsage finds the last non-null "usage" object in data, a chunk, and
// reads its counts.
func scanUsage(data []byte) (llm.Usage, bool) {
	var out llm.Usage
	found := false
	for off := 0; ; {
		i := bytes.Index(data[off:], usageKey)
		if i < 0 {
			break
		}
		i += off
		off = i + len(usageKey)
		if i > 0 && data[i-1] == '\\' {
			continue // inside a string
		}
		j := skipSpace(data, off)
		if j >= len(data) || data[j] != ':' {
			continue
		}
		j = skipSpace(data, j+1)
		if j >= len(data) || data[j] != '{' {
			continue // null
		}
		end := objectEnd(data, j)
		if end < 0 {
			break
		}
		obj := data[j:end]
		out = llm.Usage{
			InputTokens:     intField(obj, `"prompt_tokens"`),
			OutputTokens:    intField(obj, `"completion_tokens"`),
			CacheReadTokens: intField(obj, `"cached_tokens"`),
			ReasoningTokens: intField(obj, `"reasoning_tokens"`),
		}
		if out.CacheReadTokens == 0 {
			out.CacheReadTokens = intField(obj, `"prompt_cache_hit_tokens"`)
		}
		found = true
		off = end
	}
	return out, found
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// objectEnd returns the index just past the JSON object that begins at
// b[i], -1 when it does not end.
func objectEnd(b []byte, i int) int {
	depth, inString := 0, false
	for ; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// intField returns the integer value of key in obj, 0 when it is absent.
func intField(obj []byte, key string) int64 {
	i := bytes.Index(obj, []byte(key))
	if i < 0 {
		return 0
	}
	j := skipSpace(obj, i+len(key))
	if j >= len(obj) || obj[j] != ':' {
		return 0
	}
	j = skipSpace(obj, j+1)
	var n int64
	for ; j < len(obj) && obj[j] >= '0' && obj[j] <= '9'; j++ {
		n = n*10 + int64(obj[j]-'0')
	}
	return n
}
