package cache

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Lookupable reports whether a stored response may answer r: r is a GET
// without credentials, and does not ask to bypass caches (Cache-Control
// no-cache or no-store, or Pragma: no-cache).
func Lookupable(r *http.Request) bool {
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" {
		return false
	}
	cc := r.Header.Values("Cache-Control")
	if hasDirective(cc, "no-store") || hasDirective(cc, "no-cache") {
		return false
	}
	if len(cc) == 0 && strings.EqualFold(strings.TrimSpace(r.Header.Get("Pragma")), "no-cache") {
		return false
	}
	return true
}

// cacheableStatus lists the statuses that RFC 9110 section 15.1 calls
// heuristically cacheable, less 206, which needs range handling.
var cacheableStatus = map[int]bool{
	200: true, 203: true, 204: true, 300: true, 301: true, 308: true,
	404: true, 405: true, 410: true, 414: true, 501: true,
}

// Lifetime returns how long a shared cache may serve res, the response to
// r, as fresh, received at now; ok is false when res must not be stored. A
// response is stored only when r is [Lookupable], its status is cacheable,
// it has an explicit lifetime (s-maxage, max-age or Expires) longer than the
// Age it arrived with, it carries none of no-store, no-cache, private, it
// sets no cookie, and it has no Vary header (responses that vary are not
// stored). The returned ttl is what is left of the lifetime after that Age.
func Lifetime(r *http.Request, res *http.Response, now time.Time) (ttl time.Duration, ok bool) {
	if !Lookupable(r) || !cacheableStatus[res.StatusCode] {
		return 0, false
	}
	h := res.Header
	cc := h.Values("Cache-Control")
	if hasDirective(cc, "no-store") || hasDirective(cc, "no-cache") || hasDirective(cc, "private") {
		return 0, false
	}
	if len(h.Values("Set-Cookie")) > 0 || len(h.Values("Vary")) > 0 {
		return 0, false
	}
	var life time.Duration
	if s, found := directiveSeconds(cc, "s-maxage"); found {
		life = s
	} else if s, found := directiveSeconds(cc, "max-age"); found {
		life = s
	} else if exp := h.Get("Expires"); exp != "" {
		t, err := http.ParseTime(exp)
		if err != nil {
			return 0, false // an invalid Expires means already expired (RFC 9111 5.3)
		}
		base := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			base = d
		}
		life = t.Sub(base)
	} else {
		return 0, false
	}
	// Time spent in caches upstream counts against the lifetime (RFC 9111
	// 4.2.3); without this, a response that arrives nearly stale would be
	// served for its whole lifetime again.
	ttl = life - age(h)
	return ttl, ttl > 0
}

// maxDelta caps delta-seconds values (RFC 9111 1.2.2).
const maxDelta = 1<<31 - 1

// age returns the Age field of h (RFC 9111 5.1): the first member when it
// is a list, zero when it is invalid, and at most maxDelta seconds.
func age(h http.Header) time.Duration {
	v, _, _ := strings.Cut(h.Get("Age"), ",")
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) || err == nil && n > maxDelta:
		n = maxDelta
	case err != nil:
		return 0
	}
	return time.Duration(n) * time.Second
}

// hasDirective reports whether the Cache-Control field lines carry name.
func hasDirective(lines []string, name string) bool {
	_, found := directive(lines, name)
	return found
}

// directiveSeconds returns the delta-seconds argument of the named
// directive. A malformed argument counts as zero, so nothing is stored on it.
func directiveSeconds(lines []string, name string) (time.Duration, bool) {
	arg, found := directive(lines, name)
	if !found {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.Trim(arg, `"`), 10, 64)
	if err != nil || n < 0 {
		return 0, true
	}
	if n > maxDelta {
		n = maxDelta
	}
	return time.Duration(n) * time.Second, true
}

// directive finds name (case-insensitive) among the comma-separated
// directives of lines and returns its argument.
func directive(lines []string, name string) (arg string, found bool) {
	for _, line := range lines {
		for line != "" {
			var d string
			d, line, _ = strings.Cut(line, ",")
			d = strings.TrimSpace(d)
			k, v, _ := strings.Cut(d, "=")
			if strings.EqualFold(strings.TrimSpace(k), name) {
				return strings.TrimSpace(v), true
			}
		}
	}
	return "", false
}
