package cache

import (
	"net/http"
	"slices"
	"strings"
)

// varyOf returns the field names of the Vary of res (canonical, each once)
// and the normalised values req had for them (RFC 9111 4.1). A Vary with
// "*" gives ["*"] and no values.
func varyOf(res, req http.Header) (names, values []string) {
	lines := res["Vary"]
	if len(lines) == 0 {
		return nil, nil
	}
	for _, f := range canonicalList(nil, lines) {
		if f == "*" {
			return []string{"*"}, nil
		}
		if !slices.Contains(names, f) {
			names = append(names, f)
		}
	}
	if len(names) == 0 {
		return nil, nil // "Vary:" with no member varies on nothing
	}
	values = make([]string, len(names))
	for i, f := range names {
		values[i] = normalized(req[f])
	}
	return names, values
}

// normalized combines field lines into one value with the whitespace
// around commas removed and empty members dropped, or [VaryAbsent] when
// there are none. RFC 9111 4.1 allows such normalisation, as it does not
// change the meaning of a list; values are otherwise compared exactly.
func normalized(lines []string) string {
	if len(lines) == 0 {
		return VaryAbsent
	}
	return string(appendNormalized(nil, lines))
}

// appendNormalized appends the normalised value of lines (see
// [normalized]) to dst, [VaryAbsent] when there are none.
func appendNormalized(dst []byte, lines []string) []byte {
	if len(lines) == 0 {
		return append(dst, VaryAbsent...)
	}
	start := len(dst)
	for _, line := range lines {
		for line != "" {
			var m string
			m, line, _ = strings.Cut(line, ",")
			if m = strings.TrimSpace(m); m != "" {
				if len(dst) > start {
					dst = append(dst, ',')
				}
				dst = append(dst, m...)
			}
		}
	}
	return dst
}

// matchesNormalized reports whether lines normalise to want, without
// allocating.
func matchesNormalized(want string, lines []string) bool {
	if len(lines) == 0 {
		return want == VaryAbsent
	}
	if want == VaryAbsent {
		return false
	}
	first := true
	for _, line := range lines {
		for line != "" {
			var m string
			m, line, _ = strings.Cut(line, ",")
			if m = strings.TrimSpace(m); m == "" {
				continue
			}
			if !first {
				if want == "" || want[0] != ',' {
					return false
				}
				want = want[1:]
			}
			first = false
			if !strings.HasPrefix(want, m) {
				return false
			}
			want = want[len(m):]
		}
	}
	return want == ""
}

// Matches reports whether e may answer req as far as Vary goes (RFC 9111
// 4.1): every field e varies on has in req the value the request that
// brought e had (after normalisation), absent where it was absent. An
// entry with Vary: * matches no request. It does not allocate.
func (e *Entry) Matches(req *http.Request) bool {
	if len(e.Vary) == 0 {
		return true
	}
	if e.Vary[0] == "*" || len(e.VaryValues) != len(e.Vary) {
		return false
	}
	for i, f := range e.Vary {
		if !matchesNormalized(e.VaryValues[i], req.Header[f]) {
			return false
		}
	}
	return true
}

// SecondaryKey returns a string that is the same for two requests exactly
// when they match the same variant of a response that varies on vary (the
// canonical names of [Entry.Vary]): for a store that keeps the variants of
// one primary [Key] in a map. It is "" when vary is empty; with "*" it
// returns "*", which a store should never find.
func SecondaryKey(vary []string, req *http.Request) string {
	if len(vary) == 0 {
		return ""
	}
	if vary[0] == "*" {
		return "*"
	}
	return string(appendSecondaryKey(nil, vary, req))
}

// appendSecondaryKey appends [SecondaryKey] of vary and req to dst.
func appendSecondaryKey(dst []byte, vary []string, req *http.Request) []byte {
	if len(vary) == 0 {
		return dst
	}
	if vary[0] == "*" {
		return append(dst, '*')
	}
	for _, f := range vary {
		for i := range len(f) {
			dst = append(dst, lower(f[i]))
		}
		dst = append(dst, ':')
		dst = appendNormalized(dst, req.Header[f])
		dst = append(dst, '\n')
	}
	return dst
}

// lower returns the ASCII lower case of c.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
