// Package apikey authenticates requests by API key: keys issued to the
// subscriptions of tenants, each on a plan, approved, suspended, revoked
// and rotated by a [Manager], kept hashed in a [Store] and checked by an
// [Authenticator], an auth.Authenticator.
//
// A key reads "gw_<id>_<secret>": a prefix ([ManagerConfig.Prefix]), an
// id of 80 random bits and a secret of 160 random bits, both in
// lower-case base32. The store is asked for the id; the SHA-256 digest of
// the secret is compared with the stored one in constant time.
//
//	store := apikey.NewMemoryStore() // or apikey.NewRedisStore, for many replicas
//	keys, _ := apikey.NewManager(store, apikey.ManagerConfig{})
//	authn, _ := apikey.New(apikey.Config{Store: store})
//
//	key, rec, _ := keys.Issue(ctx, apikey.Spec{Tenant: "acme", Plan: "gold"})
//	// Show key to its owner now: it is stored nowhere.
//
//	p, err := authn.Authenticate(r) // p.Subject is rec.Subscription, p.Plan "gold"
//
// The Principal's Subject is the subscription (the id of its first key),
// kept by rotations, so that rate limits keyed by subject or plan follow a
// subscription across its keys; Claims["key_id"] names the key itself.
//
// A key is [Pending] when issued with [Spec.NeedsApproval], until
// [Manager.Approve]; [Approved] keys work; [Manager.Suspend] refuses one
// until it is approved again; [Manager.Revoke] refuses it for ever.
// [Manager.Rotate] issues a new key for the same subscription and lets
// the old one work for an overlap, as long as the new one is approved:
// suspending or revoking the subscription's current key refuses its older
// keys too, while revoking an old key leaves the current one working.
// Each change is a compare-and-set on the
// record's version, retried on conflict, so that replicas changing the
// same key lose no change.
//
// # Security
//
// The stores keep only the digest of a secret; the key is returned once,
// by Issue or Rotate. SHA-256 suffices, with no salt and no slow hash such
// as bcrypt: a slow hash protects secrets that people choose, which an
// attacker holding the digests could guess; a secret of 160 random bits
// cannot be guessed whatever the hash costs, and a fast hash keeps the
// check cheap enough that it is no lever for denial of service.
//
// The secret's digest is compared with crypto/subtle, so the time taken
// does not tell how much of a guess matched. A key whose id is unknown is
// compared, all the same, with a dummy digest. The time of the store's
// lookup may differ between known and unknown ids; ids are not secret.
//
// A malformed key, an unknown id and a wrong secret are all refused as
// "invalid api key". Only when the secret has matched, so that the owner
// is the one asking, does the refusal say "pending approval",
// "suspended", "revoked" or "expired". The errors wrap [ErrInvalidKey],
// [ErrPending], [ErrSuspended], [ErrRevoked] and [ErrExpired] for logs;
// they never hold the key.
//
// A key in the query string ([Query]) lands in the access logs of every
// proxy and server on its way, and in browser histories; prefer a header,
// and read the query only for clients that cannot set one. A bearer
// token without the key prefix is left to the next Authenticator (a JWT
// one, say), by [auth.ErrNoCredentials].
//
// With [RedisConfig.CacheTTL], each replica keeps the records it read for
// that long: a key revoked or suspended through another replica is still
// accepted here until its cached record expires. Choose the TTL as the
// longest revocation delay you accept; changes through the same store are
// seen at once.
//
// # Performance
//
// Authenticate of a valid key allocates nothing with [MemoryStore], or
// with a [RedisStore] whose cache holds the key (TestAuthenticateAllocs,
// TestRedisCachedAllocs), and neither does a refusal. On a virtual
// machine of 2 cores (Turin-like), with a local redis-server
// (GATEWAY_REQUIRE_REDIS=1 go test -run X -bench Authenticate):
//
//	memory store              235-270 ns/op   0 allocs
//	memory store, parallel    150-220 ns/op   0 allocs
//	Redis store, cached       220-230 ns/op   0 allocs
//	Redis store, uncached      52-57 µs/op   32 allocs (one HMGET)
//	refused, wrong secret     225-300 ns/op   0 allocs
//	refused, unknown id       150-265 ns/op   0 allocs
//
// Three runs each, on a noisy machine. Most of the cost is the SHA-256
// of the secret.
package apikey
