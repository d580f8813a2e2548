package redislimit_test

import (
	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/ratelimit"
	"github.com/vivremotion/gateway/ratelimit/redislimit"
)

// A Limiter plugs into a Proxy and into the ratelimit middleware.
var (
	_ gateway.Limiter   = (*redislimit.Limiter)(nil)
	_ ratelimit.Limiter = (*redislimit.Limiter)(nil)
)
