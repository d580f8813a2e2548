// Package introspect authenticates requests that carry opaque bearer
// tokens by asking an OAuth2 token introspection endpoint (RFC 7662) about
// each token, and caches the answers.
//
// An [Introspector] is an [auth.Authenticator] and an [auth.Challenger]:
// it reads `Authorization: Bearer <token>`, posts the token to the endpoint
// (RFC 7662 section 2.1, with token_type_hint=access_token), and turns an
// active answer (section 2.2) into an [auth.Principal] with Method
// "introspection":
//
//   - Subject from "sub", else "username", else "client_id" (a client's
//     id may equal a user's "sub": set [Config.SubjectFromSubOnly] to take
//     "sub" alone, or tell them apart by the Claims);
//   - Scopes from the space-separated "scope";
//   - Tenant, Plan and Roles from the members named by
//     [Config.TenantClaim], [Config.PlanClaim] and [Config.RolesClaim];
//   - Claims holding every member of the answer.
//
// Quickstart:
//
//	in, err := introspect.New(introspect.Config{
//		Endpoint:     "https://as.example.com/oauth2/introspect",
//		ClientID:     "gateway",
//		ClientSecret: os.Getenv("INTROSPECTION_SECRET"),
//		Audience:     "https://api.example.com",
//		TenantClaim:  "org",
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	p, err := in.Authenticate(r) // or use in with the auth middleware
//
// # Answers
//
// A token is accepted when the answer says "active": true, its
// "token_type" (if any) is not refresh_token, its "exp" (if any) has not
// passed, its "nbf" (if any) has, and it names [Config.Audience] and
// [Config.Issuer] when those are set. Otherwise it is refused with an
// [*auth.Error] of status 401 and the RFC 6750 code invalid_token, whose
// cause ([ErrInactive], [ErrTokenType], [ErrExpired], [ErrNotYetValid],
// [ErrAudience], [ErrIssuer]) is for logs only. An active refresh token
// is refused because it is not an access token: a client that holds one
// must not be able to use it as a bearer token. A
// request without a bearer token gets [auth.ErrNoCredentials], so that the
// next authenticator may be asked; a malformed Authorization header
// (two of them, an empty or over-long token, bytes that RFC 6750 does not
// allow in a token) is refused without a call ([ErrMalformed]).
//
// When the endpoint cannot say (it is down, it does not answer within
// [Config.Timeout], it answers with a status other than 200, or with a
// body that is not an introspection response: not JSON, no boolean
// "active", a non-numeric "exp", more than [Config.MaxResponseBytes]), the
// request fails closed with an [*auth.Error] of status 503 wrapping
// [ErrUnavailable], and no code: the token may be good, so the client is
// not told it is not, and may try again. Such failures are not cached.
//
// To spare an endpoint in trouble, at most [Config.MaxInflight] calls (64
// by default) are under way at once: a request that would start one more
// fails at once with 503 ([ErrTooManyCalls]). After a call that found the
// endpoint in trouble (unreachable, too slow, 5xx or 429), for
// [Config.FailureCooldown] (1s by default), requests for tokens not in
// the cache fail at once with 503 ([ErrCoolingDown]) instead of calling;
// cached tokens are still served. A 4xx or a malformed answer fails its
// own call only, so that no single token can lock the others out. Both errors wrap [ErrUnavailable] too.
//
// # Cache
//
// Answers are cached by the SHA-256 of the token, never the token itself,
// in two bounded LRU caches: active answers ([Config.CacheSize] entries)
// until the answer's "exp" or [Config.MaxTTL], whichever comes first;
// refusals ([Config.NegativeCacheSize] entries) for [Config.NegativeTTL],
// or until "nbf" when that comes sooner. Keeping refusals apart means a
// flood of bad tokens cannot push good ones out. Expired entries are
// dropped when met; there is no goroutine and nothing to close.
//
// Concurrent requests with the same token that is not cached make one
// call: the first makes it, the others wait for its answer (or for their
// own context to end, which answers 503). The call runs on the first
// request's context values but not its cancellation, bounded by
// [Config.Timeout], so one client going away does not fail the others.
//
// # Security
//
// MaxTTL is how long a revoked token may still be accepted: introspection
// is usually chosen so that revocation takes effect, so keep it short
// (default one minute). The endpoint must be https unless
// [Config.AllowHTTP] is set, since the gateway's credentials and every
// token cross that connection; the default client follows no redirects,
// so neither is resent elsewhere. The client's id and secret are
// form-urlencoded before HTTP Basic, as RFC 6749 section 2.3.1 requires.
//
// Errors sent to clients carry fixed descriptions; causes (for logs) name
// neither the token nor the body of the endpoint's answer. Tokens are
// bounded in length ([Config.MaxTokenLength]) and in alphabet before any
// call, and answers in size.
//
// Each token not in the cache costs a call to the endpoint: a client that
// sends many distinct made-up tokens makes as many calls, at most
// [Config.MaxInflight] at once; beyond that, every request with a new
// token gets 503, good ones included. Rate-limit unauthenticated clients
// (by address) in front of the authenticator.
//
// Principals and errors from the cache are shared between requests: treat
// them as read-only.
//
// # Performance
//
// A request whose token is cached allocates nothing: reading the header,
// hashing the token and one lookup in one of 16 locked shards. On a
// 2-core VM (BenchmarkAuthenticateCached) it takes about 0.4 µs, half of
// it SHA-256 of a 60-byte token, and 0.26 µs per request with both cores
// busy; a miss against an in-memory endpoint (BenchmarkAuthenticateMiss)
// about 22 µs and 74 allocations, before the network.
package introspect
