// Command proxy puts a plain gateway.Proxy in front of one or more
// upstreams, for load tests and outside conformance suites:
//
//	go run ./examples/proxy -listen 127.0.0.1:8080 -upstream http://127.0.0.1:9000
//
// Several upstreams, separated by commas, are balanced round robin.
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
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	upstream := flag.String("upstream", "", "upstream URL; several may be given, separated by commas (required)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, *listen, *upstream, func(addr string) {
		fmt.Printf("proxying http://%s to %s\n", addr, *upstream)
	})
	if err != nil {
		log.Fatal(err)
	}
}

// run serves a Proxy to upstreams on listen until ctx is done. ready is
// called with the address once the listener is open.
func run(ctx context.Context, listen, upstreams string, ready func(addr string)) error {
	if upstreams == "" {
		return errors.New("-upstream is required")
	}
	pool, err := balancer.NewPool(strings.Split(upstreams, ",")...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	ready(ln.Addr().String())
	srv := &gateway.Server{Handler: http.Handler(&gateway.Proxy{Upstreams: pool})}
	return srv.Serve(ctx, ln)
}
