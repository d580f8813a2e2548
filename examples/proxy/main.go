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
//
// With -cache the Proxy is an RFC 9111 shared cache, kept in memory
// (-cache-mb MiB): it serves what it may store, revalidates stale
// responses, and says what it did in each response's Cache-Status, so that
// an outside HTTP caching test suite can be run against it. POST /purge on
// the -admin address removes entries: {"key": "GET http://host/path"},
// {"prefix": "GET http://host/"} or {"tag": "t"}.
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
	"github.com/vivremotion/gateway/cache/store"
	"github.com/vivremotion/gateway/internal/benchchain"
	"github.com/vivremotion/gateway/ratelimit"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `usage: proxy -upstream URL[,URL...] [-listen ADDR] [-policies] [-rate N] [-breaker] [-cache [-cache-mb N] [-admin ADDR]]

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
	cached := flag.Bool("cache", false, "make the Proxy a shared HTTP cache, in memory")
	cacheMB := flag.Int64("cache-mb", 64, "with -cache: the memory the cache may hold, in MiB")
	admin := flag.String("admin", "", "with -cache: address to serve POST /purge on; empty for none")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config{listen: *listen, upstreams: *upstream, policies: *policies, rate: *rate, breaker: *breakers, cache: *cached, cacheMB: *cacheMB, admin: *admin}
	err := run(ctx, cfg, func(addr string, chain []string) {
		fmt.Printf("proxying http://%s to %s\n", addr, *upstream)
		if cfg.cache {
			fmt.Printf("  cache: in memory, %d MiB\n", cfg.cacheMB)
		}
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
	cache     bool   // a shared cache in memory, for a plain Proxy
	cacheMB   int64  // its size in MiB
	admin     string // address of the purge endpoint; "" for none
}

// run serves a Proxy, or the full chain, to the upstreams until ctx is
// done. ready is called with the address once the listener is open, and
// with the names of the chain's policies (none for a plain Proxy).
func run(ctx context.Context, cfg config, ready func(addr string, policies []string)) error {
	if cfg.upstreams == "" {
		return errors.New("-upstream is required")
	}
	if cfg.cache && cfg.policies {
		return errors.New("-cache applies to the plain Proxy, not to -policies")
	}
	if !cfg.cache && cfg.admin != "" {
		return errors.New("-admin needs -cache")
	}
	var mem *store.Memory
	if cfg.cache {
		if cfg.cacheMB <= 0 {
			return fmt.Errorf("-cache-mb %d is not positive", cfg.cacheMB)
		}
		var err error
		if mem, err = store.NewMemory(store.MemoryConfig{MaxBytes: cfg.cacheMB << 20}); err != nil {
			return err
		}
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
		if mem != nil {
			p.Cache = mem
		}
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
	if cfg.admin != "" {
		aln, err := net.Listen("tcp", cfg.admin)
		if err != nil {
			ln.Close()
			return err
		}
		asrv := &gateway.Server{Handler: store.AdminHandler(mem, store.AdminConfig{})}
		errc := make(chan error, 1)
		go func() { errc <- asrv.Serve(ctx, aln) }()
		defer func() { <-errc }() // ctx ends both servers
	}
	ready(ln.Addr().String(), names)
	srv := &gateway.Server{Handler: h}
	return srv.Serve(ctx, ln)
}
