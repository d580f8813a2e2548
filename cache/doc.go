// Package cache is the engine of an RFC 9111 shared HTTP cache: a set of
// pure decisions, with no I/O, no clock and no goroutines of its own, that a
// Proxy or a middleware calls with the request, the stored [Entry] and the
// time. The stores (package cache/store) keep entries; this package says
// what to keep and what to do with it.
//
// What the engine decides:
//
//   - [ParseCacheControl] reads Cache-Control (and CDN-Cache-Control, RFC
//     9213) into [Directives], tolerating malformed input as RFC 9111 asks.
//   - [Policy.Storable] says whether a response may be stored (RFC 9111 3,
//     3.5); [Policy.NewEntry] makes the [Entry], leaving out the fields a
//     cache must not store (3.1) and recording what the age calculation of
//     4.2.3 needs: request time, response time, Date and Age.
//   - [Policy.FreshnessLifetime] is the lifetime of 4.2.1 and 4.2.2;
//     [Entry.Age] the current_age of 4.2.3.
//   - [Policy.Decide] says how to answer a request (4, 4.2.4, 5.2.1, RFC
//     5861): serve fresh, serve stale (max-stale, stale-while-revalidate),
//     validate (with or without a stale-if-error fallback), forward, or
//     answer 504 to only-if-cached.
//   - [Entry.Matches] and [SecondaryKey] select among the variants of a
//     response that has Vary (4.1).
//   - [SetConditional], [SelectForUpdate] and [Policy.Freshen] validate
//     stored responses and update them from a 304 (4.3, 3.2); [NotModified]
//     answers a client's own conditional request from an entry (4.3.2).
//   - [Invalidates] lists the keys an unsafe method's response invalidates
//     (4.4).
//   - [Status] writes a Cache-Status member (RFC 9211).
//
// The older [Lookupable] and [Lifetime] are the conservative rules of a
// cache that neither validates nor keeps variants, kept for the Proxy until
// it calls the engine.
//
// What is not stored passes through: responses to methods other than GET,
// partial content (206; ranges are not combined), statuses whose caching
// rules the engine does not implement, and responses that would give a
// client's Set-Cookie to another. A rule that is too strict costs a round
// trip, never a wrong answer.
//
// # Quickstart
//
//	var p cache.Policy // the zero value: a shared cache
//	if e, ok := store.Get(ctx, cache.Key(r)); ok && e.Matches(r) {
//		switch d := p.Decide(r, e, time.Now()); d.Action {
//		case cache.Fresh, cache.StaleOK:
//			// serve e, with Age: d.Age
//		case cache.StaleWhileRevalidate:
//			// serve e, and revalidate it once in the background
//		case cache.MustValidate, cache.StaleIfError:
//			// cache.SetConditional(out.Header, e), forward, then
//			// n, keep := p.Freshen(e, res304, sent, received) on a 304:
//			// store n if keep, else delete e and pass the 304 on
//		case cache.GatewayTimeout:
//			// answer 504
//		}
//	}
//	// after a response: if p.Storable(r, res) { store.Set(ctx, key, p.NewEntry(r, res, body, sent, received)) }
//	// after an unsafe method: delete each of cache.Invalidates(r, res)
//
// # Performance
//
// Parsing a Cache-Control, deciding on a fresh entry (both Cache-Control
// fields parsed, Vary matched, age computed), Vary matching and writing a
// Cache-Status into a reused buffer allocate nothing; TestHotPathAllocs
// keeps them so. On a 2-core machine (go test -bench . ./cache): a typical
// Cache-Control parses in about 190 ns, Decide on a fresh entry takes about
// 270 ns, matching two Vary fields about 60 ns. Making an entry, freshening
// it and listing invalidations allocate, as they copy headers once per
// response from the origin.
//
// # Security
//
// A shared cache must not give one user's response to another. The engine
// does not store responses marked private or no-store, responses to
// requests with Authorization unless the origin allows it (3.5), or
// responses that set a cookie the origin did not exclude with a qualified
// no-cache or private; it never stores the proxy's own authentication
// fields (3.1). Invalidation follows only same-origin Location and
// Content-Location (4.4), so that one origin cannot evict another's
// entries. Vary values are compared exactly after whitespace
// normalisation, and a Vary: * response never answers a request.
package cache
