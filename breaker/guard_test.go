package breaker_test

import (
	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
)

// upstreamBreaker is the interface the gateway's Proxy is to declare for
// breakers kept per upstream; it is spelled here until the root package
// has it.
type upstreamBreaker interface {
	Allow(u *balancer.Upstream) (ticket uint64, err error)
	Done(u *balancer.Upstream, ticket uint64, o gateway.Outcome)
}

var (
	_ gateway.Breaker = (*breaker.Breaker)(nil)
	_ upstreamBreaker = (*breaker.PerUpstream)(nil)
)
