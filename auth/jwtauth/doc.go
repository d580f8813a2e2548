// Package jwtauth authenticates requests by a JWT bearer token (RFC 7519,
// RFC 6750), as an [auth.Authenticator] built on github.com/golang-jwt/jwt/v5.
//
// Quickstart, with keys from the identity provider's JWKS endpoint:
//
//	jwks, err := jwtauth.NewJWKS(ctx, jwtauth.JWKSConfig{
//		URL: "https://login.example.com/.well-known/jwks.json",
//	})
//	if err != nil {
//		return err // the first fetch failed: nothing could be verified
//	}
//	defer jwks.Close()
//	authn, err := jwtauth.New(jwtauth.Config{
//		JWKS:        jwks,
//		Issuer:      "https://login.example.com",
//		Audience:    []string{"orders-api"},
//		Leeway:      30 * time.Second,
//		TenantClaim: "org_id",
//		RolesClaim:  "realm_access.roles",
//	})
//	if err != nil {
//		return err
//	}
//	p, err := authn.Authenticate(r) // *auth.Principal, or an error
//
// Fixed keys come from [ParsePEM] (PKIX public keys of RSA, ECDSA and
// Ed25519, PKCS #1 RSA public keys, certificates), from [ParseJWK] and
// [ParseJWKSet] (RFC 7517: kty RSA, EC, OKP and oct), or are written out
// as [Key] values; [Config.Keys] takes them.
//
// # Keys and algorithms
//
// Every [Key] is pinned to one algorithm. A token is verified by the key
// its "kid" names, and only when the token's "alg" equals that key's
// algorithm; the token never chooses how it is checked. A token without a
// "kid" is verified by the key of a set that holds exactly one key, and
// refused by a set of several; the only key of a set, when it has no id
// itself, verifies tokens whatever their "kid". A JWK without "alg" takes the first of the
// configured default algorithms that fits it, or is left out.
//
// A [JWKS] fetches its set once at construction (failing then if it
// cannot), then again in the background, from one goroutine that
// [JWKS.Close] stops: after the answer's Cache-Control max-age, bounded
// by MinRefreshInterval and MaxRefreshInterval, or every RefreshInterval;
// and when a token names a kid the set does not hold, at most once per
// UnknownKIDInterval, every request that meets an unknown kid meanwhile
// waiting for that one fetch. A failed fetch keeps the keys known. A key
// that leaves the set, or whose material changes, stops verifying at once,
// the tokens it verified and that are cached included.
//
// The JWKS URL must be https (AllowHTTP permits http, for a trusted
// network only: anyone on the path could replace the keys) and may not
// hold credentials; the default client follows no redirects. A fetched
// set is read leniently (RFC 7517 section 5): a key that cannot be used
// (malformed, too small, an "alg" that does not fit its "kty", a kid
// already in the set) is skipped and logged, and the other keys are kept.
// Symmetric ("oct") keys of a fetched set are always skipped: a JWKS URL
// is public, so such a secret is anyone's. [ParseJWK] and [ParseJWKSet],
// for keys written into the configuration, stay strict.
//
// # Validation
//
// Besides the signature: "exp" (required unless AllowNoExpiry), "nbf" and
// optionally "iat", each with Leeway; "iss" against Issuer; "aud" against
// any of Audience; the RequiredClaims; the "typ" header against Type.
//
// Claims map to the [auth.Principal]: Subject from "sub"; Scopes from
// "scope" (a space-separated string) or "scp" (an array or a string);
// Roles, Tenant and Plan from the claims [Config] names, which may be
// dotted paths into nested objects ("realm_access.roles"); every claim in
// Claims; Method "jwt". Principals are shared by the requests that carry
// the same token: treat them as read-only.
//
// Failures are [*auth.Error] values with Code invalid_token
// (invalid_request for a malformed Authorization header) and a short
// description that names no key, claim or library message; the cause is
// in Err, for logs and errors.Is ([ErrUnknownKey], [ErrCritical], ...).
// A request without "Authorization: Bearer" gets [auth.ErrNoCredentials],
// so that another Authenticator may be asked. [Authenticator.Challenge]
// gives `Bearer realm="api"` for WWW-Authenticate.
//
// # Security
//
// The attacks tested, and what stops each:
//
//   - "alg": "none" (any case) or no "alg": refused before a key is
//     looked up, and no key may be pinned to none.
//   - HMAC/RSA confusion (an HS256 token whose secret is the RSA public
//     key's bytes): the key's pinned algorithm must equal the token's, and
//     the library is told to accept that one algorithm only.
//   - A "kid" not in the set: refused, after one rate-limited refresh for
//     a JWKS; an attacker sending random kids causes at most one fetch per
//     UnknownKIDInterval.
//   - A "crit" header (RFC 7515 section 4.1.11): this package understands
//     no extension, so any "crit" is refused (jwt/v5 does not look at it).
//   - Expired, not yet valid, issued in the future, wrong issuer, wrong
//     audience, missing claims: refused, with the configured leeway
//     (at most [MaxLeeway], 5 minutes). An empty Audience entry is refused
//     by [New]: it would match a token whose "aud" holds "".
//   - "exp", "nbf" or "iat" above 2^40 seconds (which would overflow into
//     the past), and a "sub" that is not a string: refused as malformed.
//   - A JWKS over http without AllowHTTP, with credentials in its URL, or
//     redirected by the server: refused; HMAC keys in a fetched set: not
//     used; [JWKS.Keys] returns copies, so no caller can change the keys.
//   - Oversize tokens: the length is bounded (MaxTokenBytes, 8 KiB)
//     before anything is decoded; JWK Sets are bounded in bytes (1 MiB)
//     and keys (100), fetches in time.
//   - Tampered header, payload or signature, a token of another key, weak
//     keys (RSA under 2048 bits, HMAC secrets shorter than the hash),
//     EC points off the curve: refused.
//   - Header members matched by exact name: "ALG" is not "alg".
//
// The cache of verified tokens is keyed by a randomly seeded hash of the
// token and holds the token itself; a hit compares it in full, in
// constant time, so that a collision is a miss and never another token's
// identity.
//
// # Performance
//
// A token seen before is answered from a sharded, bounded cache
// (CacheSize, 10000 tokens, shared out exactly among the shards, so that
// it never holds more; a full shard drops an expired entry or a random
// one) until its "exp" plus Leeway, without allocating. Measured
// on 2 cores of a shared VM (figures vary by a third between runs), with
// go test -run XXX -bench . -benchtime 2s ./auth/jwtauth:
//
//	cached, 1024 tokens, 2 goroutines    ~290 ns/op     0 allocs
//	cached, one token, one goroutine     ~210 ns/op     0 allocs
//	cold RS256 (2048-bit)                ~36-45 µs/op  92 allocs
//	cold ES256                           ~72 µs/op    104 allocs
//	cold EdDSA                           ~50-60 µs/op  81 allocs
//	cold HS256                           ~11-12 µs/op  87 allocs
//
// A hit is a seeded hash of the token, a read lock on one of 16 shards, a
// full comparison of the token and a clock read; each is about a quarter
// of the time here. The cold path is the library's parsing and the
// signature. A lookup in github.com/hashicorp/golang-lru/v2 measured 72
// ns against the shards' 80 ns on these 2 cores (the token's hash
// included), but takes one exclusive lock per hit, which would serialise
// hits on more cores (not measured here); the shards take a shared lock
// on one of 16.
package jwtauth
