// Package gateway is an embeddable toolkit for API gateways and AI gateways.
//
// Everything is an [http.Handler]. A [Gateway] routes requests by method,
// host, path, header and query to handlers; a [Proxy] forwards them to a
// pool of upstreams; policies (limiters, breakers, caches, balancers,
// authentication) are small interfaces with fast defaults in the leaf
// packages, and middleware is plain func(http.Handler) http.Handler.
//
// # Quickstart
//
//	gw := gateway.New(gateway.Config{})
//	gw.Use(accessLog) // global middleware: runs for every request, 404s included
//	gw.Handle("GET /v1/users/{id}", &gateway.Proxy{
//		Upstreams: balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080"),
//	})
//	gw.Handle("/v1/orders/", &gateway.Proxy{Upstreams: balancer.MustPool("http://10.0.0.3:8080")})
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//	defer stop()
//	log.Fatal(gateway.ListenAndServe(ctx, ":8080", gw))
//
// The runnable version is examples/quickstart in the repository.
//
// # Middleware order
//
// Middleware given to [Gateway.Use] wraps the whole gateway and runs for
// every request, including those that end in 404, 405 or a redirect.
// Middleware given to [Gateway.Handle] wraps that route's handler only.
// In both places, and in [Chain], the first middleware listed runs
// outermost: Use(a, b) serves a request as a(b(router)).
//
// # The Proxy pipeline
//
// [Proxy.ServeHTTP] takes each request through these steps, in this order:
// limiter, cache lookup, balancer pick, breaker admit (one circuit for the
// Proxy, then one per upstream), upstream round trip, outcome recorded,
// cache store. One [Outcome] per attempt feeds the upstream's counters and
// the breakers, so they agree on what happened. A nil policy is skipped,
// except the balancer, which is round robin. Package ratelimit has the
// limiters and the middleware that sends RateLimit headers, tiers and
// throttles; package breaker the circuit breakers.
// With a [RetryPolicy], a failed attempt at a request that is safe to
// repeat may be followed by others, each picked, admitted and recorded on
// its own; with a [Mirror], a share of the requests is also copied to a
// shadow pool in the background.
//
// # Errors
//
// Failures are values: the sentinels ([ErrNoUpstream], [ErrRateLimited],
// [ErrUpstreamTimeout], ...) wrapped in an [*Error]. One [ErrorHandler],
// [WriteError] by default, turns them into responses with the statuses that
// [StatusOf] lists and a JSON body:
//
//	{"error":{"type":"upstream_timeout","message":"gateway timeout"}}
//
// # Performance
//
// Route matching allocates nothing, and stays fast with a thousand routes.
// The Proxy forwards HTTP/1.1 through a transport of its own in which the
// handler's goroutine does all the work (net/http's hands each request to
// two goroutines of the connection), reuses the outbound request's URL,
// header and values from one request to the next, and shares the
// response's header values instead of copying them. Over an in-memory
// transport it allocates 10 times per request to
// [net/http/httputil.ReverseProxy]'s 25, most of them the transport's own;
// on loopback it serves 1.1 to 1.4 times the requests per second of
// ReverseProxy. BENCHMARKS.md in the repository has the method, the
// figures beside nginx, and what bounds them.
//
// # Security
//
// The Proxy distrusts Forwarded and X-Forwarded-* headers from clients that
// are not in [Proxy.TrustedProxies], removes hop-by-hop headers both ways,
// and drops query parameters that Go's parser rejects, so that an upstream
// cannot read a request differently from the gateway's own policies. Error
// bodies never carry upstream addresses or internal messages; those go to
// the log. [Server] sets header and idle timeouts and a header size limit,
// and drains in-flight requests on shutdown.
package gateway
