package breaker_test

import (
	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/breaker"
)

var (
	_ gateway.Breaker         = (*breaker.Breaker)(nil)
	_ gateway.UpstreamBreaker = (*breaker.PerUpstream)(nil)
)
