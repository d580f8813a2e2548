package cache

import (
	"net/http"
	"time"
)

// Policy holds the choices RFC 9111 leaves to a shared cache. Its zero
// value is a shared cache that uses Cache-Control alone and heuristic
// freshness capped at a day.
type Policy struct {
	// CDNCacheControl makes a CDN-Cache-Control field (RFC 9213), when a
	// response has one with at least one directive understood, take the
	// place of Cache-Control for this cache (RFC 9213 2.1). Default false:
	// CDN-Cache-Control is ignored.
	CDNCacheControl bool
	// HeuristicMax caps heuristic freshness (RFC 9111 4.2.2), which is 10%
	// of the time between Last-Modified and Date. Default 0 means 24 hours;
	// a negative value turns heuristic freshness off.
	HeuristicMax time.Duration
}

// defaultHeuristicMax caps heuristic freshness when Policy.HeuristicMax is 0.
const defaultHeuristicMax = 24 * time.Hour

// heuristicStatus holds the status codes RFC 9110 15.1 defines as
// heuristically cacheable. 206 is among them there but is left out here:
// this cache does not combine ranges, so partial content passes through.
var heuristicStatus = [600]bool{
	200: true, 203: true, 204: true, 300: true, 301: true, 308: true,
	404: true, 405: true, 410: true, 414: true, 501: true,
}

// understoodStatus holds the final status codes whose caching requirements
// this cache meets (RFC 9111 3 and 5.2.2.3): the heuristically cacheable
// ones and the redirects it stores only with explicit freshness.
var understoodStatus = [600]bool{
	200: true, 203: true, 204: true, 300: true, 301: true, 302: true,
	303: true, 307: true, 308: true,
	404: true, 405: true, 410: true, 414: true, 501: true,
}

func statusIn(set *[600]bool, code int) bool { return code >= 0 && code < len(set) && set[code] }

// ResponseDirectives returns the directives that govern h for this cache:
// those of CDN-Cache-Control when [Policy.CDNCacheControl] is set and the
// field is present and understood (RFC 9213 2.1: an invalid targeted field
// is ignored), those of Cache-Control otherwise.
func (p Policy) ResponseDirectives(h http.Header) Directives {
	if d, ok := p.cdnDirectives(h); ok {
		return d
	}
	return ParseCacheControl(h["Cache-Control"])
}

// cdnDirectives returns the directives of h's CDN-Cache-Control and true
// when this cache uses that field for h (RFC 9213 2.1), in which case
// Cache-Control and Expires are ignored (2.2).
func (p Policy) cdnDirectives(h http.Header) (Directives, bool) {
	if p.CDNCacheControl {
		if lines := h["Cdn-Cache-Control"]; len(lines) > 0 {
			if d := ParseCacheControl(lines); !d.IsZero() {
				return d, true
			}
		}
	}
	return Directives{}, false
}

// RequestDirectives returns the directives of r's Cache-Control, with a
// Pragma: no-cache read as no-cache when there is no Cache-Control (RFC
// 9111 5.4).
func RequestDirectives(h http.Header) Directives {
	lines := h["Cache-Control"]
	d := ParseCacheControl(lines)
	if len(lines) == 0 {
		for _, v := range h["Pragma"] {
			if hasField(v, "no-cache") {
				d.flags |= fNoCache | fNoCacheAll
			}
		}
	}
	return d
}

// FreshnessLifetime returns the freshness lifetime of a response with
// header h, status code status and directives cc (RFC 9111 4.2.1), with
// date its Date (or the time it was received when it had none), in this
// order: s-maxage, max-age, Expires less Date, and else a heuristic (4.2.2)
// when the status is heuristically cacheable or the response is public: a
// tenth of Date less Last-Modified, capped by [Policy.HeuristicMax].
// heuristic reports that the last was used. An invalid Expires, or one
// listed twice with different values, counts as already expired (5.3).
// Expires is ignored when CDN-Cache-Control is in use (RFC 9213 2.2).
func (p Policy) FreshnessLifetime(h http.Header, status int, cc Directives, date time.Time) (life time.Duration, heuristic bool) {
	if d, ok := cc.SMaxAge(); ok {
		return d, false
	}
	if d, ok := cc.MaxAge(); ok {
		return d, false
	}
	// With CDN-Cache-Control in use, Expires is ignored as Cache-Control
	// is (RFC 9213 2.2); the heuristic below may still apply.
	_, cdn := p.cdnDirectives(h)
	if exp := h["Expires"]; len(exp) > 0 && !cdn {
		t, err := http.ParseTime(exp[0])
		if err != nil {
			return 0, false
		}
		for _, v := range exp[1:] {
			if v != exp[0] {
				return 0, false
			}
		}
		return nonNegative(t.Sub(date)), false
	}
	if p.HeuristicMax < 0 || !(statusIn(&heuristicStatus, status) || cc.Public()) {
		return 0, false
	}
	lm := h["Last-Modified"]
	if len(lm) == 0 {
		return 0, false
	}
	t, err := http.ParseTime(lm[0])
	if err != nil || !t.Before(date) {
		return 0, false
	}
	limit := p.HeuristicMax
	if limit == 0 {
		limit = defaultHeuristicMax
	}
	return min(date.Sub(t)/10, limit), true
}

// dateOf returns the Date of h, or received when it is missing or invalid
// (RFC 9110 6.6.1).
func dateOf(h http.Header, received time.Time) time.Time {
	if v := h["Date"]; len(v) > 0 {
		if t, err := http.ParseTime(v[0]); err == nil {
			return t
		}
	}
	return received
}
