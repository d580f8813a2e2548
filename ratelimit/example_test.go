package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/vivremotion/gateway/ratelimit"
)

func ExamplePerKey() {
	// 10 requests per second per client address, bursts of 20.
	lim, err := ratelimit.NewGCRA(ratelimit.Rate{Limit: 10, Period: time.Second, Burst: 20}, ratelimit.Options{})
	if err != nil {
		panic(err)
	}
	h := ratelimit.PerKey(lim, ratelimit.ByIP)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	}))

	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("RateLimit-Limit"), w.Header().Get("RateLimit-Remaining"))
	// Output: 200 20 19
}

func ExampleNewMiddleware() {
	// Throttle rather than refuse: a client over its rate waits up to 2s
	// for its turn. Behind a load balancer at 10.0.0.0/8, the client is
	// found in X-Forwarded-For; elsewhere the header is ignored.
	lim, err := ratelimit.NewTokenBucket(ratelimit.PerSecond(1), ratelimit.Options{})
	if err != nil {
		panic(err)
	}
	key, err := ratelimit.ByClientIP(ratelimit.ClientIP{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		panic(err)
	}
	mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
		Limiter: lim,
		Key:     ratelimit.Compose(ratelimit.ByRoute, key),
		MaxWait: 2 * time.Second,
		Headers: ratelimit.HeadersDraft | ratelimit.HeadersStructured,
	})
	if err != nil {
		panic(err)
	}
	h := mw(http.NotFoundHandler())
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:5555"
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Header().Get("RateLimit-Policy"))
	// Output: "default";q=1;w=1
}

func ExampleNewMiddleware_tiers() {
	// Plans chosen by a header that an authenticating middleware in front
	// set; an unknown plan gets the free limit.
	free, _ := ratelimit.NewGCRA(ratelimit.PerMinute(60), ratelimit.Options{})
	pro, _ := ratelimit.NewGCRA(ratelimit.PerMinute(6000), ratelimit.Options{})
	mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
		Tiers: &ratelimit.Tiers{
			Of:      func(r *http.Request) string { return r.Header.Get("X-Plan") },
			Limits:  map[string]ratelimit.Limiter{"pro": pro},
			Default: free,
		},
		Key: ratelimit.ByHeader("X-Tenant"),
	})
	if err != nil {
		panic(err)
	}
	h := mw(http.NotFoundHandler())
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Plan", "pro")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Header().Get("RateLimit-Limit"))
	// Output: 6000
}

func ExampleNewTokenBucket() {
	tb, err := ratelimit.NewTokenBucket(ratelimit.Rate{Limit: 5, Period: time.Second, Burst: 10}, ratelimit.Options{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	d, _ := tb.Allow(ctx, "client-1", 10) // the whole burst at once
	fmt.Println(d.Allowed, d.Remaining)
	d, _ = tb.Allow(ctx, "client-1", 1)
	fmt.Println(d.Allowed, d.RetryAfter.Round(10*time.Millisecond)) // one unit every 200ms
	d, _ = tb.Allow(ctx, "client-1", 11)                            // more than the burst: never
	fmt.Println(d.Allowed, d.CostTooHigh)
	// Output:
	// true 0
	// false 200ms
	// false true
}

func ExampleNewGCRA() {
	g, err := ratelimit.NewGCRA(ratelimit.PerSecond(3), ratelimit.Options{MaxKeys: 100_000})
	if err != nil {
		panic(err)
	}
	d, _ := g.Allow(context.Background(), "client-1", 3)
	fmt.Println(d.Allowed, d.Limit, d.Remaining, d.Reset)
	_, err = ratelimit.NewGCRA(ratelimit.Rate{Limit: 0, Period: time.Second}, ratelimit.Options{})
	fmt.Println(err)
	// Output:
	// true 3 0 1s
	// ratelimit: invalid rate: limit 0 is not positive
}

func ExampleNewSlidingWindow() {
	w, err := ratelimit.NewSlidingWindow(ratelimit.PerMinute(100), ratelimit.Options{})
	if err != nil {
		panic(err)
	}
	d, _ := w.Allow(context.Background(), "client-1", 1)
	fmt.Println(d.Allowed, d.Limit, d.Remaining)
	// Output: true 100 99
}

func ExampleNewConcurrency() {
	// At most 2 requests per client in flight; a third waits up to 1s.
	c, err := ratelimit.NewConcurrency(2, ratelimit.Options{})
	if err != nil {
		panic(err)
	}
	h := c.Middleware(ratelimit.ByIP, time.Second)(http.NotFoundHandler())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Println(w.Code, c.InFlight("192.0.2.1"))
	// Output: 404 0
}

func ExampleNewAdaptive() {
	// Shed load in front of an upstream before its latency runs away.
	a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{})
	if err != nil {
		panic(err)
	}
	h := a.Middleware()(http.NotFoundHandler())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Println(w.Code, a.Limit())
	// Output: 404 20
}

func ExampleByClientIP() {
	key, err := ratelimit.ByClientIP(ratelimit.ClientIP{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.5:4000"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7, 10.0.0.4")
	fmt.Println(string(key(nil, r)))
	// Output: 198.51.100.7
}

func ExampleCompose() {
	key := ratelimit.Compose(ratelimit.ByRoute, ratelimit.ByHeader("X-Api-Key"), ratelimit.ByQuery("model"))
	r := httptest.NewRequest("POST", "/v1/chat?model=small", nil)
	r.Pattern = "POST /v1/chat"
	r.Header.Set("X-Api-Key", "k-1")
	fmt.Printf("%q\n", key(nil, r))
	// Output: "POST /v1/chat\x00k-1\x00small"
}

type principalKey struct{}

func ExampleByContext() {
	// An authenticating middleware stores the caller's id in the context;
	// the limiter keys by it.
	key := ratelimit.ByContext(principalKey{})
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), principalKey{}, "tenant-42"))
	fmt.Println(string(key(nil, r)))
	// Output: tenant-42
}

func ExampleByFunc() {
	key := ratelimit.ByFunc(func(r *http.Request) string { return r.Host })
	fmt.Println(string(key(nil, httptest.NewRequest("GET", "http://api.example.com/", nil))))
	// Output: api.example.com
}

func ExampleByHeader() {
	key := ratelimit.ByHeader("X-Api-Key")
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Api-Key", "k-1")
	fmt.Println(string(key(nil, r)))
	// Output: k-1
}

func ExampleByQuery() {
	key := ratelimit.ByQuery("tenant")
	fmt.Println(string(key(nil, httptest.NewRequest("GET", "/?tenant=acme", nil))))
	// Output: acme
}
