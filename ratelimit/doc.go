// Package ratelimit limits and throttles requests per key: per client,
// per API key or tenant, per route, or any key a func builds.
//
// A [Limiter] answers with a [Decision] for one key and a cost. The gateway's
// Proxy consumes the same interface, so a Limiter from this package, or a
// Redis-backed one from package ratelimit/redislimit, plugs into a Proxy or
// into the middleware here unchanged.
//
// # Quickstart
//
//	lim, err := ratelimit.NewGCRA(ratelimit.Rate{Limit: 10, Period: time.Second, Burst: 20}, ratelimit.Options{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("GET /v1/users/{id}", ratelimit.PerKey(lim, ratelimit.ByIP)(users))
//
// A client over its rate gets 429 with Retry-After and a JSON body
// ({"error":{"type":"rate_limited","message":"too many requests"}}); every
// answer carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset.
// [NewMiddleware] takes a [Middleware] for the rest: a cost per request,
// throttling (MaxWait), other header forms, [Tiers] of limits by plan,
// fail-open, and an error writer such as the gateway's WriteError.
//
// # Algorithms
//
//   - [TokenBucket] and [GCRA] enforce the same limit (Limit per Period,
//     bursts of Burst) in two shapes of state; both can book future slots
//     ([Reserver]), which throttling needs.
//   - [SlidingWindow] counts in two fixed windows, the previous one
//     weighted by how much of it the sliding window still covers.
//   - [Concurrency] bounds the requests in flight per key.
//   - [Adaptive] learns how many requests an upstream can have in flight
//     before its latency climbs, and sheds the rest.
//
// Costs: a request spends cost units (1 by default; the tokens of an LLM
// call, say). A cost above the burst can never be allowed; such a
// [Decision] has CostTooHigh set and no RetryAfter, and the middleware
// says so in its 429 body rather than inviting a retry.
//
// # Keys
//
// A [KeyFunc] appends the key into a buffer the middleware pools and
// passes it to the Limiter without copying; a Limiter copies a key only
// when it first stores it. [ByIP], [ByClientIP], [ByHeader], [ByQuery],
// [ByRoute], [ByFunc] and [ByContext] build keys; [Compose] joins them.
// [ByContext] is the hook for authentication: the middleware that
// identifies a caller stores its id in the context, and the limiter keys
// by it.
//
// # Memory
//
// Each limiter keeps per-key state in 64 shards, each a mutex over a map
// from key to a slot. A key whose allowance is whole again is idle: each
// new key looks at the next two slots and drops idle ones, so the sweeping
// is paid on the path that adds keys and no goroutine runs. [Options]
// MaxKeys bounds the keys held; when it is reached, a new key takes the
// place of an idle key, else of the least recently seen of eight sampled,
// whose allowance starts whole again when it returns. A key longer than
// 64 bytes is stored as a 128-bit hash of it (two maphash sums under
// secret seeds, so that no client can choose colliding keys). A flood of
// distinct keys, short or as long as a header can hold, therefore never
// grows memory past the bound (about 125 bytes per key, 175 at most), at
// the price of forgetting some clients' debts while the flood lasts.
//
// # Performance
//
// Measured on a shared 2-core VM (kvm-clock, where reading the monotonic
// clock alone costs 30 ns of each Allow) with
//
//	go test -run '^$' -bench . -benchtime 1s ./ratelimit
//
//	Allow, existing key, 1 key          GCRA 91 ns, TokenBucket 91 ns, SlidingWindow 75 ns, 0 allocs
//	  the same from 2 CPUs at once      78-94 ns, 0 allocs
//	Allow, existing key, 100 000 keys   204-237 ns (cache misses), 0 allocs
//	Allow, new key, store at its bound  580-690 ns, 1 alloc (the key's copy)
//	PerKey end to end, allowed          311 ns, 2 allocs (the header values)
//	PerKey end to end, refused          350 ns, 2 allocs
//	Concurrency Acquire and Release     84 ns, 0 allocs
//	Adaptive Acquire and Done           85 ns, 0 allocs
//
// A request that waits (throttling with MaxWait, or for a [Concurrency]
// slot) holds one timer while it waits, stopped when it ends; a request
// allowed or refused at once uses none, and no goroutine runs per request.
//
// The two allocations of the middleware are the rate limit header values:
// one string holding every value and one array of slice headers shared by
// the header fields, whatever forms are enabled (Retry-After included).
// net/http's Header needs a []string per field; fewer is not possible
// without sharing values across requests. The error body and its headers
// are built once and cost nothing.
//
// The token bucket is not golang.org/x/time/rate underneath. Put behind the
// same 64 shards (the benchmarks keep it as "xrate" for comparison), a
// rate.Limiter per key costs 117 ns per Allow on one key against 91 ns
// (204 ns against 94 ns from 2 CPUs), two allocations and 131 heap bytes
// per key against one and 108, and takes a second mutex per key inside
// the shard's. Its float64 arithmetic is not the problem in practice: it
// rounds each wait to within a nanosecond and carries the difference, so
// it does not drift; this package counts in integers scaled by Limit
// anyway, so that its figures are exact (7 per second repays 7000 units
// in exactly 1000 s).
//
// # Security
//
// [ByIP], the default key, uses the connection's peer address and never a
// forwarding header: X-Forwarded-For and Forwarded are written by whoever
// sends the request, so trusting them by default would let any client pick
// a fresh key per request and escape its limit, or spend another client's
// allowance. [ByClientIP] believes the header only as far as proxies listed
// in TrustedProxies wrote it, walking from the right and stopping at the
// first address that is not a trusted proxy; it reads only the one header
// the proxies write, since the other could be forged. IPv6 clients are
// keyed by /64 by default, as one client commonly holds a whole /64.
//
// [ByHeader], [ByQuery] and other client-supplied keys are as trustworthy as
// what vouches for them; key by an API key only after it is verified.
//
// MaxKeys bounds the memory an attacker can make the limiter use, however
// long the keys it sends (see # Memory); under a flood of distinct keys
// some legitimate clients' state is evicted and starts whole, so eviction
// never enforces a limit more strictly than configured, only more loosely,
// while the flood lasts. [Concurrency] never evicts a key with requests in
// flight or waiting (it would lose their count and their line): it holds
// such keys past MaxKeys, one slot per request in progress at most.
package ratelimit
