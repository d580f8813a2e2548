package cache

import (
	"net/http"
	"time"
)

// Action is what a cache does with a request and what it has stored.
type Action uint8

const (
	// Miss: nothing stored can answer; forward the request.
	Miss Action = iota
	// Fresh: serve the stored response (RFC 9111 4.2).
	Fresh
	// StaleOK: serve the stale stored response, which the request's
	// max-stale accepts (RFC 9111 4.2.4, 5.2.1.2).
	StaleOK
	// StaleWhileRevalidate: serve the stale stored response and
	// revalidate it in the background (RFC 5861 3).
	StaleWhileRevalidate
	// MustValidate: forward a conditional request ([SetConditional]) and
	// answer with what comes back (RFC 9111 4.3).
	MustValidate
	// StaleIfError: as MustValidate, but if the origin cannot be reached or
	// answers 500, 502, 503 or 504, the stale response may be served
	// instead (RFC 5861 4).
	StaleIfError
	// GatewayTimeout: the request says only-if-cached and nothing stored
	// may answer it without the origin; answer 504 (RFC 9111 5.2.1.7).
	GatewayTimeout
)

var actionNames = [...]string{"miss", "fresh", "stale-ok", "stale-while-revalidate", "must-validate", "stale-if-error", "gateway-timeout"}

// String returns the action's name in lower case, e.g. "must-validate".
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "unknown"
}

// Serves reports whether the action answers from the cache without
// waiting for the origin.
func (a Action) Serves() bool { return a == Fresh || a == StaleOK || a == StaleWhileRevalidate }

// Decision is the outcome of [Policy.Decide]. It is returned by value: it
// is small, and a pointer would escape.
type Decision struct {
	// Action is what to do.
	Action Action
	// Fwd is why the request goes forward, for [Status]; FwdNone when the
	// action serves from the cache.
	Fwd Fwd
	// Age is the entry's current age (RFC 9111 4.2.3), for the Age field
	// of a response served from the cache; zero without an entry.
	Age time.Duration
	// TTL is the freshness lifetime less Age: how long the entry stays
	// fresh, negative when it is stale; the ttl of [Status].
	TTL time.Duration
}

// Decide says how a shared cache answers req at now with e, the stored
// response under req's [Key] (nil when there is none). In this order:
//
//   - a method other than GET or HEAD, no entry, or an entry whose Vary
//     does not match req (RFC 9111 4.1, [Entry.Matches]) is a Miss;
//   - no-cache in the response (5.2.2.4), or no-cache (5.2.1.4, or Pragma:
//     no-cache, 5.4) in the request, means MustValidate;
//   - a fresh entry (4.2) is served, unless the request's max-age (5.2.1.1)
//     is below its age or its min-fresh (5.2.1.3) is more than it has
//     left, in which case it must be validated;
//   - a stale entry (4.2.4) with must-revalidate (5.2.2.2), proxy-revalidate
//     (5.2.2.8) or s-maxage (5.2.2.10) must be validated, with no stale
//     answer in any case;
//   - else it is served if the request's max-stale accepts its staleness
//     (StaleOK), or if it is within the response's stale-while-revalidate
//     window (RFC 5861 3); else it is validated, as StaleIfError when
//     within a stale-if-error window of the response or the request (RFC
//     5861 4), as MustValidate otherwise;
//   - with only-if-cached in the request (5.2.1.7), any action that needs
//     the origin becomes GatewayTimeout.
//
// Decide does not allocate.
func (p Policy) Decide(req *http.Request, e *Entry, now time.Time) Decision {
	rq := RequestDirectives(req.Header)
	d := p.decide(req, rq, e, now)
	if rq.OnlyIfCached() && !d.Action.Serves() {
		d.Action = GatewayTimeout
	}
	return d
}

func (p Policy) decide(req *http.Request, rq Directives, e *Entry, now time.Time) Decision {
	switch {
	case req.Method != http.MethodGet && req.Method != http.MethodHead:
		return Decision{Action: Miss, Fwd: FwdMethod}
	case e == nil:
		return Decision{Action: Miss, Fwd: FwdURIMiss}
	case !e.Matches(req):
		return Decision{Action: Miss, Fwd: FwdVaryMiss}
	}
	age := e.Age(now)
	d := Decision{Age: age, TTL: e.Lifetime - age}
	if e.RequestTime.IsZero() {
		d.TTL = e.Expires.Sub(now) // an entry without the inputs of 4.2.3
	}
	cc := p.ResponseDirectives(e.Header)
	if cc.NoCache() && cc.NoCacheFields() == "" {
		d.Action, d.Fwd = MustValidate, FwdStale
		return d
	}
	if rq.NoCache() {
		d.Action, d.Fwd = MustValidate, FwdRequest
		return d
	}
	if d.TTL > 0 {
		if maxAge, ok := rq.MaxAge(); ok && age > maxAge {
			d.Action, d.Fwd = MustValidate, FwdRequest
			return d
		}
		if minFresh, ok := rq.MinFresh(); ok && d.TTL < minFresh {
			d.Action, d.Fwd = MustValidate, FwdRequest
			return d
		}
		d.Action = Fresh
		return d
	}
	d.Fwd = FwdStale
	_, sMaxAge := cc.SMaxAge()
	if cc.MustRevalidate() || cc.ProxyRevalidate() || sMaxAge {
		d.Action = MustValidate
		return d
	}
	staleness := -d.TTL
	maxAge, hasMaxAge := rq.MaxAge()
	if !hasMaxAge || age <= maxAge {
		if limit, any, ok := rq.MaxStale(); ok && (any || staleness <= limit) {
			d.Action, d.Fwd = StaleOK, FwdNone
			return d
		}
	}
	// A request max-age the age exceeds, or any min-fresh (a stale
	// response has none left), asks for something fresher than this: only
	// max-stale, above, lets such a client have it stale (5.2.1.1, 5.2.1.3).
	_, hasMinFresh := rq.MinFresh()
	if w, ok := cc.StaleWhileRevalidate(); ok && staleness <= w && (!hasMaxAge || age <= maxAge) && !hasMinFresh {
		d.Action, d.Fwd = StaleWhileRevalidate, FwdNone
		return d
	}
	if w, ok := rq.StaleIfError(); ok && staleness <= w {
		d.Action = StaleIfError
		return d
	}
	if w, ok := cc.StaleIfError(); ok && staleness <= w {
		d.Action = StaleIfError
		return d
	}
	d.Action = MustValidate
	return d
}
