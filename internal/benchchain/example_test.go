package benchchain_test

import (
	"fmt"

	"github.com/vivremotion/gateway/internal/benchchain"
)

func ExampleBuild() {
	_, names, err := benchchain.Build("http://127.0.0.1:9000")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range names {
		fmt.Println(n)
	}
	// Output:
	// global middleware: request counter
	// rate limit: ratelimit.PerKey, GCRA per client IP, draft RateLimit headers
	// router: gateway.Gateway, 100 routes (literal, param, prefix), loaded on GET /api/{id}
	// upstreams: balancer.Pool
	// outlier ejection: balancer.Ejector, defaults
	// balancer: balancer.P2C (peak-EWMA latency)
	// circuit breakers: breaker.PerUpstream, defaults
	// retries: gateway.RetryPolicy, defaults (3 attempts, 20% budget)
	// response cache: Proxy.Cache in a store.Memory (responses without freshness are looked up, forwarded, not stored)
}
