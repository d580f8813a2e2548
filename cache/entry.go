package cache

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Entry is a stored response. [Policy.NewEntry] fills every field from a
// response; stores keep it whole and treat it as read-only once stored
// ([Policy.Freshen] returns a new one rather than changing it).
type Entry struct {
	// Status is the response status.
	Status int
	// Header is the response header, without hop-by-hop fields and the
	// other fields a cache must not store (RFC 9111 3.1).
	Header http.Header
	// Body is the whole response body.
	Body []byte
	// Stored is when the response was received: response_time of RFC
	// 9111 4.2.3.
	Stored time.Time
	// Expires is when the response stops being fresh: Stored plus the
	// freshness lifetime less the age it had on arrival.
	Expires time.Time

	// RequestTime is when the request that brought the response was
	// sent: request_time of RFC 9111 4.2.3. The zero value, in entries
	// made before it existed, makes [Entry.Age] count from Stored and the
	// Age header alone.
	RequestTime time.Time
	// Date is the response's Date (date_value of RFC 9111 4.2.3), or
	// Stored when it had none (RFC 9110 6.6.1).
	Date time.Time
	// AgeValue is the Age the response arrived with (age_value of RFC 9111
	// 4.2.3), zero when absent or invalid.
	AgeValue time.Duration
	// Lifetime is the freshness lifetime (RFC 9111 4.2.1), explicit or
	// heuristic.
	Lifetime time.Duration
	// Vary lists the canonical names of the request fields the response
	// varies on (RFC 9111 4.1), nil when it has no Vary, and ["*"] when it
	// varies on something no request field shows, so it matches nothing.
	Vary []string
	// VaryValues holds, for each name in Vary, the request's value of that
	// field, normalised (lines combined, whitespace around commas removed,
	// empty members dropped), or [VaryAbsent] when the request had none.
	VaryValues []string
}

// VaryAbsent stands in [Entry.VaryValues] for a field the request did not
// carry: a field value cannot hold a NUL, so it matches no present field
// (RFC 9111 4.1: an absent field matches only an absent field).
const VaryAbsent = "\x00"

// Fresh reports whether e may be served without asking the origin at now.
func (e *Entry) Fresh(now time.Time) bool { return now.Before(e.Expires) }

// Age returns e's current_age at now (RFC 9111 4.2.3): the corrected
// initial age (the larger of the apparent age, Stored less Date, and the
// Age it arrived with plus the response delay, Stored less RequestTime)
// plus the time it has been resident, now less Stored. A clock that went
// back counts as no time passed. Each term and the result are capped at
// maxAgeCap, 2^31 seconds (RFC 9111 1.2.2), so that a Date in year 1 or a
// huge Age never wraps around to a negative age.
func (e *Entry) Age(now time.Time) time.Duration {
	if e.RequestTime.IsZero() {
		// An entry made without the inputs of 4.2.3.
		a := min(age(e.Header), maxAgeCap)
		if now.After(e.Stored) {
			a = addAge(a, now.Sub(e.Stored))
		}
		return a
	}
	return addAge(correctedInitialAge(e.RequestTime, e.Stored, e.Date, e.AgeValue), nonNegative(now.Sub(e.Stored)))
}

// maxAgeCap is the largest age this package computes: 2^31 seconds, the
// value RFC 9111 1.2.2 has a cache use for a delta-seconds too large.
const maxAgeCap = (1 << 31) * time.Second

// addAge returns a+b, both non-negative, capped at maxAgeCap.
func addAge(a, b time.Duration) time.Duration {
	a, b = min(a, maxAgeCap), min(b, maxAgeCap)
	return min(a+b, maxAgeCap) // both at most 2^31 s: the sum cannot overflow
}

// correctedInitialAge is corrected_initial_age of RFC 9111 4.2.3, capped
// at maxAgeCap.
func correctedInitialAge(requestTime, responseTime, date time.Time, ageValue time.Duration) time.Duration {
	apparentAge := min(nonNegative(responseTime.Sub(date)), maxAgeCap)
	responseDelay := nonNegative(responseTime.Sub(requestTime))
	correctedAgeValue := addAge(nonNegative(ageValue), responseDelay)
	return max(apparentAge, correctedAgeValue)
}

func nonNegative(d time.Duration) time.Duration { return max(d, 0) }

// Key returns the cache key of r: its method, scheme, host and request
// URI, e.g. "GET https://example.com/r?q=1". The scheme is "https" when r
// arrived over TLS (r.TLS is set) and "http" otherwise, so a gateway
// behind a proxy that terminates TLS sees every request as http. Hosts
// are compared case-insensitively (ASCII letters are lowered).
func Key(r *http.Request) string {
	return string(appendKey(nil, r.Method, r))
}

// appendKey appends to dst the key of the request for method of r's
// target: [Key] when method is r.Method.
func appendKey(dst []byte, method string, r *http.Request) []byte {
	return appendKeyAt(dst, method, schemeOf(r), r.Host, r.URL)
}

// appendKeyAt appends to dst the key of the request for method of u at
// scheme and host.
func appendKeyAt(dst []byte, method, scheme, host string, u *url.URL) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	for i := range len(scheme) {
		dst = append(dst, lower(scheme[i]))
	}
	dst = append(dst, "://"...)
	for i := range len(host) {
		dst = append(dst, lower(host[i]))
	}
	return appendRequestURI(dst, u)
}

// appendRequestURI appends u.RequestURI() to dst without allocating.
func appendRequestURI(dst []byte, u *url.URL) []byte {
	switch {
	case u.Opaque == "" && u.RawPath != "" && rawPathOf(u.RawPath, u.Path):
		dst = append(dst, u.RawPath...) // what EscapedPath returns, without its allocation
	case u.Opaque == "":
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		}
		dst = append(dst, p...)
	case strings.HasPrefix(u.Opaque, "//"):
		dst = append(dst, u.Scheme...)
		dst = append(dst, ':')
		dst = append(dst, u.Opaque...)
	default:
		dst = append(dst, u.Opaque...)
	}
	if u.ForceQuery || u.RawQuery != "" {
		dst = append(dst, '?')
		dst = append(dst, u.RawQuery...)
	}
	return dst
}

// rawPathOf reports whether raw is a valid encoding of path that
// url.URL.EscapedPath keeps as it is: only bytes a path may hold, and
// decoding to path exactly. It does not allocate.
func rawPathOf(raw, path string) bool {
	j := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return false
			}
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		} else if !isPathByte(c) {
			return false
		}
		if j >= len(path) || path[j] != c {
			return false
		}
		j++
	}
	return j == len(path)
}

// isPathByte reports whether c may stand unescaped in a URL path as
// net/url leaves it (RFC 3986 pchar and '/', with '[' and ']').
func isPathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '[', ']', '/':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// schemeOf returns the scheme r arrived with.
func schemeOf(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func key(method, scheme, host, uri string) string {
	b := make([]byte, 0, len(method)+len(scheme)+len(host)+len(uri)+4)
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, scheme...)
	b = append(b, "://"...)
	for i := range len(host) {
		b = append(b, lower(host[i]))
	}
	b = append(b, uri...)
	return string(b)
}
