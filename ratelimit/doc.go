// Package ratelimit limits and throttles requests per key: per client,
// per API key or tenant, per route, or any key a func builds.
//
// A [Limiter] answers with a [Decision] for one key and a cost. The gateway's
// Proxy consumes the same interface, so a Limiter from this package, or a
// Redis-backed one from package ratelimit/redislimit, plugs into a Proxy or
// into the middleware here unchanged.
package ratelimit
