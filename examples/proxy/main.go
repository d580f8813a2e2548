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
	"github.com/vivremotion/gateway/internal/benchchain"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `usage: proxy -upstream URL[,URL...] [-listen ADDR] [-policies]

Forwards every request to the upstreams, balanced round robin: through a
plain gateway.Proxy, or with -policies through the full policy chain that
the load benchmark measures.

`)
		flag.PrintDefaults()
	}
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	upstream := flag.String("upstream", "", "upstream URL; several may be given, separated by commas (required)")
	policies := flag.Bool("policies", false, "serve the full policy chain (router, middleware, balancer) instead of a plain Proxy")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := config{listen: *listen, upstreams: *upstream, policies: *policies}
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
		h = &gateway.Proxy{Upstreams: pool}
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	ready(ln.Addr().String(), names)
	srv := &gateway.Server{Handler: h}
	return srv.Serve(ctx, ln)
}
