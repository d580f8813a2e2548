package benchchain

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
	"github.com/vivremotion/gateway/cache/store"
	"github.com/vivremotion/gateway/ratelimit"
)

// BenchPath is a request path that the chain serves through its
// parameterized route "GET /api/{id}", the route the benchmark loads.
const BenchPath = "/api/42"

// chain is what the policies set up before it serves: the router and the
// one Proxy that every route forwards to.
type chain struct {
	gw        *gateway.Gateway
	proxy     *gateway.Proxy
	upstreams []string
	requests  atomic.Int64 // counted by the global middleware
}

// policy is one link of the chain: the name Build reports and how it is
// put in place. An error from apply fails Build.
type policy struct {
	name  string
	apply func(*chain) error
}

// policies lists the chain's policies in the order a request meets them.
// A new policy (a rate limiter, a circuit breaker, a cache) is one more
// entry here.
var policies = []policy{
	{"global middleware: request counter", func(c *chain) error {
		c.gw.Use(c.countRequests)
		return nil
	}},
	{"rate limit: ratelimit.PerKey, GCRA per client IP, draft RateLimit headers", func(c *chain) error {
		// A limit no benchmark reaches: every request pays for the
		// decision and its headers, none is refused.
		lim, err := ratelimit.NewGCRA(ratelimit.PerSecond(1e9), ratelimit.Options{})
		if err != nil {
			return err
		}
		c.gw.Use(ratelimit.PerKey(lim, ratelimit.ByIP))
		return nil
	}},
	{fmt.Sprintf("router: gateway.Gateway, %d routes (literal, param, prefix), loaded on GET /api/{id}", len(routes)), func(c *chain) error {
		for _, pattern := range routes {
			if err := c.gw.Route(gateway.Route{Pattern: pattern, Handler: c.proxy}); err != nil {
				return err
			}
		}
		return nil
	}},
	{"upstreams: balancer.Pool", func(c *chain) error {
		pool, err := balancer.NewPool(c.upstreams...)
		c.proxy.Upstreams = pool
		return err
	}},
	{"outlier ejection: balancer.Ejector, defaults", func(c *chain) error {
		return c.proxy.Upstreams.EjectOutliers(balancer.Ejector{})
	}},
	{"balancer: balancer.P2C (peak-EWMA latency)", func(c *chain) error {
		c.proxy.Balancer = balancer.NewP2C()
		return nil
	}},
	{"circuit breakers: breaker.PerUpstream, defaults", func(c *chain) error {
		c.proxy.UpstreamBreaker = breaker.NewPerUpstream(breaker.Settings{})
		return nil
	}},
	{"retries: gateway.RetryPolicy, defaults (3 attempts, 20% budget)", func(c *chain) error {
		c.proxy.Retry = &gateway.RetryPolicy{}
		return nil
	}},
	{"response cache: Proxy.Cache in a store.Memory (responses without freshness are looked up, forwarded, not stored)", func(c *chain) error {
		m, err := store.NewMemory(store.MemoryConfig{})
		c.proxy.Cache = m
		return err
	}},
}

// Build returns the full chain in front of upstreams, and the names of the
// policies it holds, outermost first. It fails when an upstream URL is
// unusable (see [balancer.NewPool]). Every route forwards to the same
// Proxy; the route "/" catches the paths that no other route matches, so
// the chain forwards every request.
func Build(upstreams ...string) (http.Handler, []string, error) {
	c, names, err := build(upstreams)
	if err != nil {
		return nil, nil, err
	}
	return c.gw, names, nil
}

// build is Build, returning the chain itself for the tests.
func build(upstreams []string) (*chain, []string, error) {
	if len(upstreams) == 0 {
		return nil, nil, errors.New("benchchain: no upstream")
	}
	c := &chain{
		gw:        gateway.New(gateway.Config{}),
		proxy:     &gateway.Proxy{},
		upstreams: upstreams,
	}
	names := make([]string, 0, len(policies))
	for _, p := range policies {
		if err := p.apply(c); err != nil {
			return nil, nil, fmt.Errorf("benchchain: %s: %w", p.name, err)
		}
		names = append(names, p.name)
	}
	return c, names, nil
}

// countRequests is the global middleware: it counts every request, as an
// access counter would, and passes it on.
func (c *chain) countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		next.ServeHTTP(w, r)
	})
}

// routes are the chain's route patterns: a hundred in all, of three kinds,
// as an API gateway in front of a few dozen services might hold.
var routes = makeRoutes()

func makeRoutes() []string {
	const services = 32
	rs := []string{
		"GET /api/{id}", // the loaded route
		"GET /healthz",
		"GET /version",
		"/", // everything else
	}
	for i := range services {
		rs = append(rs,
			fmt.Sprintf("GET /v1/svc%d/status", i),     // literal
			fmt.Sprintf("GET /v1/svc%d/items/{id}", i), // param
			fmt.Sprintf("/static%d/", i),               // prefix
		)
	}
	return rs
}
