package ratelimit_test

import (
	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/ratelimit"
)

// Every limiter plugs into a gateway Proxy, and the bucket limiters can
// throttle.
var (
	_ gateway.Limiter    = (*ratelimit.TokenBucket)(nil)
	_ gateway.Limiter    = (*ratelimit.GCRA)(nil)
	_ gateway.Limiter    = (*ratelimit.SlidingWindow)(nil)
	_ ratelimit.Reserver = (*ratelimit.TokenBucket)(nil)
	_ ratelimit.Reserver = (*ratelimit.GCRA)(nil)
)
