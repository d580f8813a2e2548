// Package auth authenticates requests and authorizes them: who is calling
// (a [Principal]) and whether they may.
//
// An [Authenticator] reads one kind of credential from a request. The
// middleware in this package asks its authenticators in turn, puts the
// Principal in the request's context ([PrincipalFrom]) and answers 401,
// with a WWW-Authenticate challenge, or 403 when the caller is known but
// not allowed. The kinds of credential live in their own packages, each an
// Authenticator: auth/jwtauth (JWT, with keys from PEM, JWK or a JWKS URL),
// auth/apikey (API keys of tenants and plans), auth/introspect (OAuth2
// token introspection), and in this package HTTP Basic ([Basic]), client
// certificates ([ClientCert]) and forward auth ([ForwardAuth]).
//
// # Quickstart
//
//	basic, err := auth.NewBasic(auth.BasicConfig{
//		Realm: "api",
//		Users: map[string]auth.BasicUser{"alice": {Hash: aliceBcryptHash, Tenant: "acme", Plan: "pro"}},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	authn, err := auth.NewMiddleware(auth.Middleware{
//		Authenticators: []auth.Authenticator{jwt, basic}, // asked in order
//		Forward:        auth.ForwardHeaders{"X-User-Id": "sub", "X-Tenant": "tenant"},
//		ErrorHandler:   gateway.WriteError,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	gw.Use(authn)
//	gw.Handle("GET /v1/users/{id}", users, auth.Scopes("read:users"))
//	gw.Handle("DELETE /v1/users/{id}", users, auth.Roles("admin"))
//	gw.Handle("GET /v1/usage", usage, ratelimit.PerKey(lim, auth.KeyTenant))
//
// [Require] is the short form of [NewMiddleware]. The first Authenticator
// that finds a credential of its kind decides; one that finds none
// ([ErrNoCredentials]) passes the request to the next. With Optional, a
// request with no credential at all goes through anonymous.
//
// # Answers
//
// A request with no credential gets 401 and one challenge per
// Authenticator that is a [Challenger], with no error code (RFC 6750
// section 3.1), such as
//
//	WWW-Authenticate: Bearer realm="example"
//	WWW-Authenticate: Basic realm="api", charset="UTF-8"
//
// A credential that is not valid gets 401, the deciding Authenticator's
// challenge carrying the code and description of its [*Error]:
//
//	WWW-Authenticate: Bearer realm="example", error="invalid_token", error_description="The access token expired"
//
// [Scopes], [Roles], [Policy] and [Authorize] check the Principal after
// authentication: 401 when there is none, 403 when it may not pass, with
// error="insufficient_scope" and the scope the route needs when a scope is
// missing. The body is JSON, {"error":{"type":"unauthorized","message":...}},
// unless an [ErrorHandler] writes it; every error handed to one wraps the
// gateway's ErrUnauthorized or ErrForbidden (an [*Error]), so that the
// gateway's WriteError maps it, the challenges already set. An
// Authenticator that cannot decide (a forward-auth service down) fails
// closed with the gateway's ErrUpstreamConnection (502) or
// ErrUpstreamTimeout (504).
//
// [KeySubject], [KeyTenant] and [PlanOf] key package ratelimit's limits
// and tiers by the Principal.
//
// # Security
//
//   - Forwarded headers ([ForwardHeaders]) are removed from every request
//     before anything else, whether it ends anonymous, refused, or
//     missing the claim, and under every spelling an upstream could read
//     as the same name (case, '_' for '-'); a value with a control byte
//     is not sent. They are removed from the request's trailers too, up
//     front and when the body ends (the server adds every trailer it
//     receives, declared or not, and a proxy sends them on), and from the
//     Connection header's list, which would make a proxy drop the headers
//     set from the Principal. A list element (a scope, a role) holding the
//     list's separator, white space, '"' or '\' is left out, so that no
//     element reaches the upstream as two.
//   - [ForwardAuth] never follows a redirect, with the caller's Client
//     too: a redirect to a login page fails closed.
//   - [ClientCert] URI prefixes match no URI with a dot segment or a
//     percent-encoded '.', '/' or '\'.
//   - [Basic] compares an unknown user's password against a dummy bcrypt
//     hash of the users' cost (all users need one cost, so that none
//     answers faster than an unknown user), answers every failure alike,
//     bounds the header before decoding it, refuses a password longer
//     than the 72 bytes bcrypt reads (it would match whatever follows
//     them), and refuses hashes cheaper than MinCost at construction. Its
//     cache of successful logins is keyed by a SHA-256 under a per-process secret, never the password, and
//     [Basic.SetUsers] revokes cached logins at once. bcrypt is slow by
//     design: a client that guesses passwords costs the gateway one
//     comparison per guess, so put a rate limit in front of the route.
//   - [ClientCert] trusts only verified chains: the TLS server's, or its
//     own against Roots (for client authentication, whatever the server
//     accepted). An unverified certificate is refused.
//   - [ForwardAuth] fails closed: only a 2xx lets a request through, and a
//     redirect is not followed.
//   - Error descriptions sent to clients are fixed texts or an [*Error]'s
//     Description, with every byte that could break out of the quoted
//     string replaced; causes (Err) stay in logs.
//
// # Performance
//
// Measured on a shared 2-core VM, whose figures vary twofold from run to
// run (the range of two runs is given), with
//
//	go test -run '^$' -bench . -benchtime 1s ./auth
//
//	Middleware, allowed                  300-1000 ns, 2 allocs (the context and the request's copy)
//	Middleware, allowed, 2 forwarded     430-1180 ns, 4 allocs (the header values)
//	Middleware, refused with challenge   2.7-2.9 µs, 9 allocs
//	Authorize (2 scopes, role, policy)   35-49 ns, 0 allocs
//	KeySubject, PlanOf                   6-14 ns, 0 allocs
//	Basic, cached login (2 CPUs)         200-460 ns, 0 allocs
//	Basic, bcrypt at cost 10             60-94 ms, 11 allocs
//
// The allowed paths of the middleware (its two allocations being those
// of http.Request.WithContext), of authorization, of the keys and of a
// cached Basic login are held by tests (TestMiddlewareAllocs,
// TestAuthorizeAllocs, TestKeysAllocs, TestBasicCachedAllocs).
package auth
