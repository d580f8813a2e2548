package cache

import (
	"strings"
	"time"
)

// Directives is a parsed Cache-Control field (RFC 9111 section 5.2), of a
// request or of a response. The zero value is a field with no directives.
// It is a small value that refers into the parsed lines and holds no
// pointers of its own but the field-name lists, so parsing allocates
// nothing.
//
// Malformed input is tolerated as RFC 9111 asks: names are matched without
// regard to case (5.2); arguments may be tokens or quoted strings (5.2); a
// delta-seconds argument that is not 1*DIGIT counts as 0, which makes a
// response stale (4.2.1, "invalid freshness information"); a value too large
// is capped at 2^31 seconds (1.2.2); when a directive appears twice, the
// first occurrence is used (4.2.1); unknown directives are ignored (5.2.3).
type Directives struct {
	flags                          uint32
	maxAge, sMaxAge                uint32 // seconds
	maxStale, minFresh             uint32
	staleWhileRevalidate, staleErr uint32
	noCacheFields, privateFields   string // raw field-name lists, without quotes
}

const (
	fMaxAge uint32 = 1 << iota
	fSMaxAge
	fNoCache
	fNoCacheAll // unqualified, or qualified more than once
	fNoStore
	fPrivate
	fPrivateAll
	fPublic
	fMustRevalidate
	fProxyRevalidate
	fMustUnderstand
	fNoTransform
	fImmutable
	fStaleWhileRevalidate
	fStaleIfError
	fMaxStale
	fMaxStaleAny
	fMinFresh
	fOnlyIfCached
)

// maxDelta is the cap on delta-seconds: "2147483648 (2^31)" (RFC 9111
// 1.2.2).
const maxDelta = 1 << 31

// ParseCacheControl parses the field lines of a Cache-Control header (or of
// a CDN-Cache-Control header, RFC 9213 section 2.1, which shares its
// directives) into [Directives]. It never fails: what cannot be understood
// is ignored or read conservatively, as [Directives] describes. A
// semicolon outside a quoted string separates directives like a comma.
func ParseCacheControl(lines []string) Directives {
	var d Directives
	for _, line := range lines {
		d.parseLine(line)
	}
	return d
}

func (d *Directives) parseLine(s string) {
	i := 0
	for i < len(s) {
		// Skip separators and whitespace before a directive.
		for i < len(s) && (isSep(s[i]) || s[i] == ' ' || s[i] == '\t') {
			i++
		}
		start := i
		for i < len(s) && s[i] != '=' && !isSep(s[i]) && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		name := s[start:i]
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var arg string
		hasArg := false
		if i < len(s) && s[i] == '=' {
			hasArg = true
			i++
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			if i < len(s) && s[i] == '"' {
				i++
				vs := i
				for i < len(s) && s[i] != '"' {
					if s[i] == '\\' && i+1 < len(s) {
						i++ // quoted-pair: the next octet is literal
					}
					i++
				}
				arg = s[vs:min(i, len(s))]
				if i < len(s) {
					i++ // closing quote
				}
			} else {
				vs := i
				for i < len(s) && !isSep(s[i]) && s[i] != ' ' && s[i] != '\t' {
					i++
				}
				arg = s[vs:i]
			}
		}
		// Anything else up to the next separator is garbage and is
		// skipped.
		for i < len(s) && !isSep(s[i]) {
			i++
		}
		if name != "" {
			d.set(name, arg, hasArg)
		}
	}
}

// isSep reports whether c separates directives: a comma, or a semicolon,
// which the grammar does not allow but which is a common mistake
// ("private; must-revalidate"); reading it as a comma is the conservative
// choice, since it keeps every restriction the sender wrote.
func isSep(c byte) bool { return c == ',' || c == ';' }

// set records one directive; the first occurrence of a valued directive
// wins (RFC 9111 4.2.1).
func (d *Directives) set(name, arg string, hasArg bool) {
	eq := strings.EqualFold
	switch {
	case eq(name, "max-age"):
		d.delta(fMaxAge, &d.maxAge, arg)
	case eq(name, "s-maxage"):
		d.delta(fSMaxAge, &d.sMaxAge, arg)
	case eq(name, "no-cache"):
		d.fieldList(fNoCache, fNoCacheAll, &d.noCacheFields, arg, hasArg)
	case eq(name, "no-store"):
		d.flags |= fNoStore
	case eq(name, "private"):
		d.fieldList(fPrivate, fPrivateAll, &d.privateFields, arg, hasArg)
	case eq(name, "public"):
		d.flags |= fPublic
	case eq(name, "must-revalidate"):
		d.flags |= fMustRevalidate
	case eq(name, "proxy-revalidate"):
		d.flags |= fProxyRevalidate
	case eq(name, "must-understand"):
		d.flags |= fMustUnderstand
	case eq(name, "no-transform"):
		d.flags |= fNoTransform
	case eq(name, "immutable"):
		d.flags |= fImmutable
	case eq(name, "stale-while-revalidate"):
		d.delta(fStaleWhileRevalidate, &d.staleWhileRevalidate, arg)
	case eq(name, "stale-if-error"):
		d.delta(fStaleIfError, &d.staleErr, arg)
	case eq(name, "max-stale"):
		if d.flags&fMaxStale != 0 {
			return
		}
		if !hasArg {
			d.flags |= fMaxStale | fMaxStaleAny // any staleness (5.2.1.2)
			return
		}
		d.delta(fMaxStale, &d.maxStale, arg)
	case eq(name, "min-fresh"):
		d.delta(fMinFresh, &d.minFresh, arg)
	case eq(name, "only-if-cached"):
		d.flags |= fOnlyIfCached
	}
}

func (d *Directives) delta(flag uint32, dst *uint32, arg string) {
	if d.flags&flag != 0 {
		return
	}
	d.flags |= flag
	*dst = parseDelta(arg)
}

// fieldList records no-cache or private: without an argument, or when
// given field names twice (which cannot be merged without allocating), the
// directive applies to the whole response, the most restrictive reading
// (RFC 9111 4.2.1).
func (d *Directives) fieldList(flag, all uint32, dst *string, arg string, hasArg bool) {
	if !hasArg || d.flags&flag != 0 || strings.TrimSpace(arg) == "" {
		d.flags |= flag | all
		return
	}
	d.flags |= flag
	*dst = arg
}

// parseDelta reads delta-seconds (RFC 9111 1.2.2): 1*DIGIT, capped at
// 2^31; anything else counts as 0.
func parseDelta(s string) uint32 {
	if s == "" {
		return 0
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + uint64(c-'0')
		if n >= maxDelta {
			// Keep scanning: a non-digit later still makes it invalid.
			n = maxDelta
		}
	}
	return uint32(n)
}

func secs(n uint32) time.Duration { return time.Duration(n) * time.Second }

// MaxAge returns the max-age directive (response: RFC 9111 5.2.2.1;
// request: 5.2.1.1) and whether it is present.
func (d Directives) MaxAge() (time.Duration, bool) { return secs(d.maxAge), d.flags&fMaxAge != 0 }

// SMaxAge returns the s-maxage response directive (RFC 9111 5.2.2.10) and
// whether it is present.
func (d Directives) SMaxAge() (time.Duration, bool) { return secs(d.sMaxAge), d.flags&fSMaxAge != 0 }

// MaxStale returns the max-stale request directive (RFC 9111 5.2.1.2):
// present reports it, any that it came without a value, so that a response
// stale by any amount is acceptable, and limit its value otherwise.
func (d Directives) MaxStale() (limit time.Duration, any, present bool) {
	return secs(d.maxStale), d.flags&fMaxStaleAny != 0, d.flags&fMaxStale != 0
}

// MinFresh returns the min-fresh request directive (RFC 9111 5.2.1.3) and
// whether it is present.
func (d Directives) MinFresh() (time.Duration, bool) { return secs(d.minFresh), d.flags&fMinFresh != 0 }

// StaleWhileRevalidate returns the stale-while-revalidate response
// directive (RFC 5861 section 3) and whether it is present.
func (d Directives) StaleWhileRevalidate() (time.Duration, bool) {
	return secs(d.staleWhileRevalidate), d.flags&fStaleWhileRevalidate != 0
}

// StaleIfError returns the stale-if-error directive, of a request or a
// response (RFC 5861 section 4), and whether it is present.
func (d Directives) StaleIfError() (time.Duration, bool) {
	return secs(d.staleErr), d.flags&fStaleIfError != 0
}

// NoCache reports the no-cache directive (RFC 9111 5.2.1.4, 5.2.2.4), with
// or without field names.
func (d Directives) NoCache() bool { return d.flags&fNoCache != 0 }

// NoCacheFields returns the field names of a qualified no-cache response
// directive (RFC 9111 5.2.2.4), as written between the quotes, and "" when
// no-cache is absent or applies to the whole response.
func (d Directives) NoCacheFields() string {
	if d.flags&fNoCacheAll != 0 {
		return ""
	}
	return d.noCacheFields
}

// NoStore reports the no-store directive (RFC 9111 5.2.1.5, 5.2.2.5).
func (d Directives) NoStore() bool { return d.flags&fNoStore != 0 }

// Private reports the private response directive (RFC 9111 5.2.2.7), with
// or without field names.
func (d Directives) Private() bool { return d.flags&fPrivate != 0 }

// PrivateFields returns the field names of a qualified private directive
// (RFC 9111 5.2.2.7), and "" when private is absent or unqualified.
func (d Directives) PrivateFields() string {
	if d.flags&fPrivateAll != 0 {
		return ""
	}
	return d.privateFields
}

// Public reports the public response directive (RFC 9111 5.2.2.9).
func (d Directives) Public() bool { return d.flags&fPublic != 0 }

// MustRevalidate reports the must-revalidate response directive (RFC 9111
// 5.2.2.2).
func (d Directives) MustRevalidate() bool { return d.flags&fMustRevalidate != 0 }

// ProxyRevalidate reports the proxy-revalidate response directive (RFC
// 9111 5.2.2.8).
func (d Directives) ProxyRevalidate() bool { return d.flags&fProxyRevalidate != 0 }

// MustUnderstand reports the must-understand response directive (RFC 9111
// 5.2.2.3).
func (d Directives) MustUnderstand() bool { return d.flags&fMustUnderstand != 0 }

// NoTransform reports the no-transform directive (RFC 9111 5.2.1.6,
// 5.2.2.6).
func (d Directives) NoTransform() bool { return d.flags&fNoTransform != 0 }

// Immutable reports the immutable response directive (RFC 8246).
func (d Directives) Immutable() bool { return d.flags&fImmutable != 0 }

// OnlyIfCached reports the only-if-cached request directive (RFC 9111
// 5.2.1.7).
func (d Directives) OnlyIfCached() bool { return d.flags&fOnlyIfCached != 0 }

// IsZero reports whether no directive was understood.
func (d Directives) IsZero() bool { return d.flags == 0 }

// hasField reports whether the comma-separated field-name list names name,
// case-insensitively.
func hasField(list, name string) bool {
	for list != "" {
		var f string
		f, list, _ = strings.Cut(list, ",")
		if strings.EqualFold(strings.TrimSpace(f), name) {
			return true
		}
	}
	return false
}
