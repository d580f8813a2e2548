package balancer_test

import (
	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
)

// Every policy is a gateway.Balancer.
var (
	_ gateway.Balancer = (*balancer.RoundRobin)(nil)
	_ gateway.Balancer = (*balancer.SmoothWeighted)(nil)
	_ gateway.Balancer = (*balancer.Random)(nil)
	_ gateway.Balancer = (*balancer.LeastRequests)(nil)
	_ gateway.Balancer = (*balancer.P2C)(nil)
	_ gateway.Balancer = (*balancer.ConsistentHash)(nil)
	_ gateway.Balancer = (*balancer.Sticky)(nil)
	_ balancer.Picker  = (gateway.Balancer)(nil)
)
