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
// no-cache or no-store, or Pragma: no-cache, RFC 9111 5.4).
//
// It is the conservative rule of a cache that does not revalidate; a cache
// that does calls [Policy.Decide] instead.
func Lookupable(r *http.Request) bool {
	if r.Method != http.MethodGet || len(r.Header["Authorization"]) > 0 {
		return false
	}
	d := RequestDirectives(r.Header)
	return !d.NoStore() && !d.NoCache()
}

// LookupKey returns the key under which a stored response that may answer
// r is found, and whether r may be answered from a cache at all: a GET by
// its own [Key], and a HEAD by the key of the GET of the same resource,
// since a stored GET answers it without its body (RFC 9110 section 9.3.2,
// RFC 9111 section 4). Requests with Authorization or a request no-store
// or no-cache are not looked up.
func LookupKey(r *http.Request) (string, bool) {
	switch r.Method {
	case http.MethodGet:
		if Lookupable(r) {
			return Key(r), true
		}
	case http.MethodHead:
		if len(r.Header["Authorization"]) > 0 {
			return "", false
		}
		if d := RequestDirectives(r.Header); d.NoStore() || d.NoCache() {
			return "", false
		}
		return key(http.MethodGet, schemeOf(r), r.Host, r.URL.RequestURI()), true
	}
	return "", false
}

// Lifetime returns how long a shared cache may serve res, the response to
// r, as fresh, received at now; ok is false when res must not be stored. A
// response is stored only when r is [Lookupable], its status is cacheable,
// it has an explicit lifetime (s-maxage, max-age or Expires) longer than the
// Age it arrived with, it carries none of no-store, no-cache, private, it
// sets no cookie, and it has no Vary header (responses that vary are not
// stored). The returned ttl is what is left of the lifetime after that Age.
//
// It is the conservative rule of a cache that neither revalidates nor keeps
// variants; a cache that does calls [Policy.Storable] and
// [Policy.NewEntry] instead.
func Lifetime(r *http.Request, res *http.Response, now time.Time) (ttl time.Duration, ok bool) {
	if !Lookupable(r) || !statusIn(&heuristicStatus, res.StatusCode) {
		return 0, false
	}
	h := res.Header
	cc := ParseCacheControl(h["Cache-Control"])
	if cc.NoStore() || cc.NoCache() || cc.Private() {
		return 0, false
	}
	if len(h["Set-Cookie"]) > 0 || len(h["Vary"]) > 0 {
		return 0, false
	}
	_, maxAge := cc.MaxAge()
	_, sMaxAge := cc.SMaxAge()
	if !maxAge && !sMaxAge && len(h["Expires"]) == 0 {
		return 0, false
	}
	life, _ := Policy{HeuristicMax: -1}.FreshnessLifetime(h, res.StatusCode, cc, dateOf(h, now))
	// Time spent in caches upstream counts against the lifetime (RFC 9111
	// 4.2.3); without this, a response that arrives nearly stale would be
	// served for its whole lifetime again.
	ttl = life - age(h)
	return ttl, ttl > 0
}

// age returns the Age field of h (RFC 9111 5.1): the first member when it
// is a list, zero when it is invalid, and at most 2^31 seconds (1.2.2).
func age(h http.Header) time.Duration {
	lines := h["Age"]
	if len(lines) == 0 {
		return 0
	}
	v, _, _ := strings.Cut(lines[0], ",")
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) || err == nil && n > maxDelta:
		n = maxDelta
	case err != nil:
		return 0
	}
	return time.Duration(n) * time.Second
}
