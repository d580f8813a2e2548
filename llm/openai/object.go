package openai

import (
	"bytes"
	"encoding/json"
	"iter"
)

// isObject reports whether b is valid JSON whose value is an object.
func isObject(b []byte) bool {
	i := skipSpace(b, 0)
	return i < len(b) && b[i] == '{' && json.Valid(b)
}

// objectFields yields the name and the raw value of each top-level field
// of b, a JSON object already known to be valid (see isObject). A name
// with escapes is yielded unescaped; both slices alias b, or a buffer of
// the iteration, and are valid until the next step.
func objectFields(b []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		i := skipSpace(b, 0) + 1 // past '{'
		for {
			i = skipSpace(b, i)
			if i >= len(b) || b[i] == '}' {
				return
			}
			if b[i] == ',' {
				i = skipSpace(b, i+1)
			}
			end := valueEnd(b, i)
			key := b[i+1 : end-1]
			if bytes.IndexByte(key, '\\') >= 0 {
				var s string
				json.Unmarshal(b[i:end], &s)
				key = []byte(s)
			}
			i = skipSpace(b, end) + 1 // past ':'
			i = skipSpace(b, i)
			end = valueEnd(b, i)
			if !yield(key, b[i:end]) {
				return
			}
			i = end
		}
	}
}

// valueEnd returns the index just past the JSON value that begins at
// b[i], in valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(b)
	case '{', '[':
		if end := objectEnd(b, i); end >= 0 {
			return end
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}
