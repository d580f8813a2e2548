// Package redisclient holds the checks that the Redis-backed parts of the
// gateway (ratelimit/redislimit, cache/store) make of the go-redis client a
// user hands them.
package redisclient

import "github.com/redis/go-redis/v9"

// HonoursDeadlines reports whether client applies context deadlines to
// its connections (ContextTimeoutEnabled), so that a per-call timeout
// bounds each call. Clients of unknown types are trusted to.
func HonoursDeadlines(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// IsNil reports whether client is nil, or a nil pointer of a client type.
func IsNil(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case nil:
		return true
	case *redis.Client:
		return c == nil
	case *redis.ClusterClient:
		return c == nil
	case *redis.Ring:
		return c == nil
	}
	return false
}
