// Package balancer holds the upstreams a proxy forwards to, the pool that
// tracks which of them are healthy, and the policies that pick one for each
// request.
//
// An [Upstream] carries typed atomic counters (requests in flight, requests,
// failures, last latency) that the proxy updates with one [Outcome] per
// attempt. A [Pool] publishes the healthy upstreams as an immutable
// snapshot, so that picking takes no lock and allocates nothing.
//
// Quickstart:
//
//	pool := balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080")
//	p := &gateway.Proxy{Upstreams: pool, Balancer: balancer.NewRoundRobin()}
//
// # Performance
//
// [RoundRobin.Pick] and [Pool.Healthy] allocate nothing (see the AllocsPerRun
// guards in the tests).
package balancer
