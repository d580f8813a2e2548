// Package cache is an RFC 9111 shared HTTP cache, in two layers:
//
//   - [Handler], the cache itself: a middleware ([Handler.Middleware])
//     before any handler, and what the gateway's Proxy runs when its Cache
//     is set. It serves, validates, coalesces, refreshes in the background
//     and invalidates, keeping entries in a [Store].
//   - The engine under it: pure decisions, with no I/O, no clock and no
//     goroutines, that take the request, the stored [Entry] and the time.
//     A cache of your own can call them directly.
//
// The stores (package cache/store) keep entries, in memory or in Redis;
// this package says what to keep and what to do with it.
//
// # Quickstart
//
//	m, err := store.NewMemory(store.MemoryConfig{MaxBytes: 256 << 20})
//	if err != nil { ... }
//	c, err := cache.New(cache.Config{Store: m})
//	if err != nil { ... }
//	defer c.Close()
//	http.ListenAndServe(":8080", c.Middleware(api))
//
// or, in front of upstreams: gateway.Proxy{Upstreams: pool, Cache: m}.
//
// A stored response is kept by the store until its Expires plus the
// store's Grace (10 minutes by default), so that it can still be
// revalidated with a conditional request, or served stale where the
// response allows it, after it stops being fresh. Each response carries a
// Cache-Status member saying what the cache did: "gateway; hit",
// "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60", "gateway;
// fwd=stale; fwd-status=304; stored; ttl=60", and so on.
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
// What is not stored passes through: responses to methods other than GET,
// partial content (206; ranges are not combined), statuses whose caching
// rules the engine does not implement, and responses that would give a
// client's Set-Cookie to another. A rule that is too strict costs a round
// trip, never a wrong answer.
//
// # The engine alone
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
// A fresh hit through [Handler], plain or one variant among others,
// allocates nothing beyond the header map net/http makes for each
// response (TestHandlerHitAllocs); its Age value comes from a table up to
// 1023 seconds. From a [store.Memory] it takes about 530 ns for a 1 KiB
// body on a 2-core machine, about 700 ns for a variant (go test -bench
// HandlerHit ./cache). A miss that is stored costs a copy of the response
// header and body, and the store's Set, after the response has gone to
// the client. A request the cache cannot serve, whose response has no
// freshness and no validator (most API calls), costs about 2 µs and 8
// allocations more than without the cache, and no copy
// (BenchmarkProxyCacheMissUncacheable, TestProxyCacheMissAllocs in the
// gateway package).
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
//
// [Handler] does not look up requests with Authorization, nor coalesce
// them with others. Its key is the method, scheme, Host and request URI:
// any other request field that changes the origin's answer (a cookie, a
// forwarded host, a language) is an unkeyed input unless the origin names
// it in Vary, and a client could have a response made for it served to
// others (cache poisoning). Keep such fields out of what the origin sees,
// or have it send Vary or Cache-Control: private. Each miss that may be
// stored holds up to MaxBody bytes of body until it completes, so the
// memory misses hold is bounded by MaxBody times the requests in flight.
package cache
