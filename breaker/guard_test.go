package breaker_test

import (
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
)

var (
	_ gateway.Breaker         = (*breaker.Breaker)(nil)
	_ gateway.UpstreamBreaker = (*breaker.PerUpstream)(nil)

	// The Proxy finds DoneAt by a type assertion: a change of signature
	// would not fail to compile there, only fall back to Done.
	_ interface {
		DoneAt(ticket uint64, o gateway.Outcome, now time.Time)
	} = (*breaker.Breaker)(nil)
	_ interface {
		DoneAt(u *balancer.Upstream, ticket uint64, o gateway.Outcome, now time.Time)
	} = (*breaker.PerUpstream)(nil)
)
