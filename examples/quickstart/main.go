// Command quickstart runs a small gateway in front of demo backends that it
// starts in the same process, so it works on a fresh machine:
//
//	go run ./examples/quickstart
//
// It prints the gateway's address and a few requests to try.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/apikey"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/ratelimit"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address the gateway serves on")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen, printUsage); err != nil {
		log.Fatal(err)
	}
}

// run starts the demo backends and the gateway, calls ready with the
// gateway's address and a demo API key, and serves until ctx is done.
func run(ctx context.Context, listen string, ready func(addr, key string)) error {
	b, err := startBackends(ctx)
	if err != nil {
		return err
	}
	gw, key, err := newGateway(b, slog.Default())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	ready(ln.Addr().String(), key)
	return (&gateway.Server{Handler: gw}).Serve(ctx, ln)
}

// backends holds the base URLs of the demo services.
type backends struct {
	users  []string // two instances of one service
	orders string
	stable string // greeting service, current version
	canary string // greeting service, next version
}

// newGateway assembles the gateway: global middleware, then routes. It
// returns the API key it issued for the demo account.
func newGateway(b backends, logger *slog.Logger) (*gateway.Gateway, string, error) {
	gw := gateway.New(gateway.Config{Logger: logger})
	gw.Use(accessLog(logger))

	users, err := balancer.NewPool(b.users...)
	if err != nil {
		return nil, "", err
	}
	orders, err := balancer.NewPool(b.orders)
	if err != nil {
		return nil, "", err
	}
	stable, err := balancer.NewPool(b.stable)
	if err != nil {
		return nil, "", err
	}
	canary, err := balancer.NewPool(b.canary)
	if err != nil {
		return nil, "", err
	}

	// One path parameter, round robin over two instances.
	gw.Handle("GET /v1/users/{id}", &gateway.Proxy{Upstreams: users, Timeout: 5 * time.Second})
	// A prefix: everything under /v1/orders/.
	gw.Handle("/v1/orders/", &gateway.Proxy{Upstreams: orders, Timeout: 5 * time.Second})
	// A canary split: 90% stable, 10% canary; "X-Variant: canary" chooses.
	err = gw.Route(gateway.Route{
		Pattern: "GET /v1/greeting",
		Variants: []gateway.Variant{
			{Name: "stable", Weight: 90, Handler: &gateway.Proxy{Upstreams: stable}},
			{Name: "canary", Weight: 10, Handler: &gateway.Proxy{Upstreams: canary}},
		},
		Sticky: gateway.Sticky{Header: "X-Variant"},
	})
	if err != nil {
		return nil, "", err
	}
	// A handler of the gateway's own.
	gw.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	// An API behind API keys, limited per subscription by its plan.
	key, account, err := accountAPI()
	if err != nil {
		return nil, "", err
	}
	gw.Handle("GET /v1/account", account)
	return gw, key, nil
}

// accountAPI returns a handler that tells the caller who it is, behind
// API keys and a rate limit chosen by plan (free: 5 requests a minute),
// and the key it issued for a demo subscription on the free plan.
func accountAPI() (string, http.Handler, error) {
	store := apikey.NewMemoryStore()
	keys, err := apikey.NewManager(store, apikey.ManagerConfig{})
	if err != nil {
		return "", nil, err
	}
	key, _, err := keys.Issue(context.Background(), apikey.Spec{Tenant: "demo", Plan: "free", Name: "quickstart"})
	if err != nil {
		return "", nil, err
	}
	authn, err := apikey.New(apikey.Config{Store: store})
	if err != nil {
		return "", nil, err
	}
	free, err := ratelimit.NewGCRA(ratelimit.PerMinute(5), ratelimit.Options{})
	if err != nil {
		return "", nil, err
	}
	other, err := ratelimit.NewGCRA(ratelimit.PerMinute(1), ratelimit.Options{})
	if err != nil {
		return "", nil, err
	}
	limit, err := ratelimit.NewMiddleware(ratelimit.Middleware{
		Tiers:        &ratelimit.Tiers{Of: auth.PlanOf, Limits: map[string]ratelimit.Limiter{"free": free}, Default: other},
		Key:          auth.KeySubject,
		ErrorHandler: gateway.WriteError,
	})
	if err != nil {
		return "", nil, err
	}
	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.PrincipalFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"tenant": p.Tenant, "plan": p.Plan, "subscription": p.Subject})
	})
	return key, gateway.Chain(auth.Require(authn), limit)(me), nil
}

// accessLog logs one line per request, 404s and 405s included.
func accessLog(logger *slog.Logger) gateway.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r)
			logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
		})
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer (to flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// startBackends starts the demo services on loopback ports; they stop when
// ctx is done.
func startBackends(ctx context.Context) (backends, error) {
	var b backends
	for _, name := range []string{"users-1", "users-2"} {
		u, err := serveDemo(ctx, name)
		if err != nil {
			return b, err
		}
		b.users = append(b.users, u)
	}
	var err error
	if b.orders, err = serveDemo(ctx, "orders"); err != nil {
		return b, err
	}
	if b.stable, err = serveDemo(ctx, "greeting-stable"); err != nil {
		return b, err
	}
	if b.canary, err = serveDemo(ctx, "greeting-canary"); err != nil {
		return b, err
	}
	return b, nil
}

// serveDemo serves a backend that answers every request with its name and
// what it received, and returns its base URL.
func serveDemo(ctx context.Context, name string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"backend":         name,
			"method":          r.Method,
			"path":            r.URL.Path,
			"x_forwarded_for": r.Header.Get("X-Forwarded-For"),
		})
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}

func printUsage(addr, key string) {
	fmt.Printf(`gateway listening on http://%[1]s
try:
  curl http://%[1]s/v1/users/42                          # round robin over users-1 and users-2
  curl http://%[1]s/v1/orders/7                          # prefix route to orders
  curl http://%[1]s/v1/greeting                          # 90%% stable, 10%% canary
  curl -H 'X-Variant: canary' http://%[1]s/v1/greeting   # choose the canary
  curl http://%[1]s/healthz                              # the gateway's own handler
  curl -i http://%[1]s/nope                              # 404 as JSON
  curl -i http://%[1]s/v1/account                        # 401: an API key is needed
  curl -i -H 'Authorization: Bearer %[2]s' http://%[1]s/v1/account
                                                         # the demo key: 5 a minute, then 429
press Ctrl-C to stop
`, addr, key)
}
