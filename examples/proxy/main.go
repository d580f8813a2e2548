// Command proxy puts a gateway.Proxy in front of one or more upstreams,
// for load tests and outside conformance suites:
//
//	go run ./examples/proxy -listen 127.0.0.1:8080 -upstream http://127.0.0.1:9000
//
// Several upstreams, separated by commas, are balanced round robin.
//
// With -policies it serves the full policy chain instead of a plain Proxy:
// a gateway.Gateway with a hundred routes and global middleware in front of
// a Proxy with every policy the SDK implements, the chain that the load
// benchmark (go run ./internal/cmd/loadbench) calls "policies". It prints
// the policies in the chain. Every path is forwarded, "/api/{id}" through a
// parameterized route and the rest through a catch-all.
//
// With -rate N each client address may send N requests a second (in
// bursts of up to N); the rest get 429 with Retry-After, and every answer
// carries the RateLimit headers. With -breaker each upstream gets its own
// circuit breaker, so that a failing one is left alone for a while.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
	"github.com/vivremotion/gateway/internal/benchchain"
	"github.com/vivremotion/gateway/ratelimit"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `usage: proxy -upstream URL[,URL...] [-listen ADDR] [-policies] [-rate N] [-breaker]

Forwards every request to the upstreams, balanced round robin: through a
plain gateway.Proxy, or with -policies through the full policy chain that
the load benchmark measures.

`)
		flag.PrintDefaults()
	}
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	upstream := flag.String("upstream", "", "upstream URL; several may be given, separated by commas (required)")
	policies := flag.Bool("policies", false, "serve the full policy chain (router, middleware, balancer) instead of a plain Proxy")
	rate := flag.Int64("rate", 0, "requests per second allowed to each client address, in bursts of as many; 0: no limit")
	breakers := flag.Bool("breaker", false, "give each upstream a circuit breaker (breaker.PerUpstream, defaults)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config{listen: *listen, upstreams: *upstream, policies: *policies, rate: *rate, breaker: *breakers}
	err := run(ctx, cfg, func(addr string, chain []string) {
		fmt.Printf("proxying http://%s to %s\n", addr, *upstream)
		for _, name := range chain {
			fmt.Printf("  policy: %s\n", name)
		}
	})
	if err != nil {
		log.Fatal(err)
	}
}

// config holds the command's flags.
type config struct {
	listen    string
	upstreams string // comma-separated URLs
	policies  bool   // serve benchchain's full chain instead of a plain Proxy
	rate      int64  // requests per second per client address; 0: no limit
	breaker   bool   // a circuit breaker per upstream, for a plain Proxy
}

// run serves a Proxy, or the full chain, to the upstreams until ctx is
// done. ready is called with the address once the listener is open, and
// with the names of the chain's policies (none for a plain Proxy).
func run(ctx context.Context, cfg config, ready func(addr string, policies []string)) error {
	if cfg.upstreams == "" {
		return errors.New("-upstream is required")
	}
	urls := strings.Split(cfg.upstreams, ",")
	var (
		h     http.Handler
		names []string
	)
	if cfg.policies {
		var err error
		if h, names, err = benchchain.Build(urls...); err != nil {
			return err
		}
	} else {
		pool, err := balancer.NewPool(urls...)
		if err != nil {
			return err
		}
		p := &gateway.Proxy{Upstreams: pool}
		if cfg.breaker {
			p.UpstreamBreaker = breaker.NewPerUpstream(breaker.Settings{})
		}
		h = p
	}
	switch {
	case cfg.rate < 0:
		return fmt.Errorf("-rate %d is negative", cfg.rate)
	case cfg.rate > 0:
		lim, err := ratelimit.NewGCRA(ratelimit.PerSecond(cfg.rate), ratelimit.Options{})
		if err != nil {
			return err
		}
		h = ratelimit.PerKey(lim, ratelimit.ByIP)(h)
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	ready(ln.Addr().String(), names)
	srv := &gateway.Server{Handler: h}
	return srv.Serve(ctx, ln)
}
