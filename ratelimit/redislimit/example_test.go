package redislimit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/ratelimit"
	"github.com/vivremotion/gateway/ratelimit/redislimit"
)

// A Limiter is built once, when the gateway is, and shared by every
// request; a bad Rate fails then, never per request. The safe choice keeps
// the defaults: fail closed, and 100 ms at most per call to Redis.
func ExampleNew() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "localhost:6379",
		ContextTimeoutEnabled: true, // so that the limiter's Timeout bounds each call
	})
	defer client.Close()

	lim, err := redislimit.New(redislimit.Config{
		Client: client,
		Rate:   ratelimit.PerMinute(600), // the same on every replica
		Prefix: "api:",                   // one prefix per Rate
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = &gateway.Proxy{Upstreams: balancer.MustPool("http://10.0.0.1:8080"), Limiter: lim}

	_, err = redislimit.New(redislimit.Config{Client: client, Rate: ratelimit.Rate{Limit: 600}})
	fmt.Println(err)
	// Output:
	// ratelimit: invalid rate: period 0s is not positive
}

// When Redis cannot be reached, a fail-closed limiter makes the Proxy
// answer 503, and a fail-open one lets requests through. Here Redis is at
// an address where nothing listens.
func ExampleConfig_failOpen() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer upstream.Close()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1})
	defer client.Close()

	for _, failOpen := range []bool{false, true} {
		lim, err := redislimit.New(redislimit.Config{
			Client:   client,
			Rate:     ratelimit.PerSecond(100),
			FailOpen: failOpen,
			OnError:  func(err error) { fmt.Println("  OnError:", err != nil) },
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		p := &gateway.Proxy{Upstreams: balancer.MustPool(upstream.URL), Limiter: lim}
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		fmt.Println("FailOpen", failOpen, "->", w.Code)
	}
	// Output:
	//   OnError: true
	// FailOpen false -> 503
	//   OnError: true
	// FailOpen true -> 200
}

// Allow answers with a Decision: whether the request may go, and the
// figures for the client's rate limit headers. This example needs a Redis
// server on localhost:6379, so it is compiled but not run by go test.
func ExampleLimiter_Allow() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	lim, err := redislimit.New(redislimit.Config{
		Client: client,
		Rate:   ratelimit.Rate{Limit: 1000, Period: time.Hour, Burst: 100},
		Prefix: "example:tokens:",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// An LLM route spends the request's tokens, not 1.
	d, err := lim.Allow(context.Background(), "tenant-7", 40)
	if err != nil {
		fmt.Println("no decision:", err) // fail-closed: answer 503
		return
	}
	fmt.Println(d.Allowed, d.Limit, d.Remaining, d.RetryAfter, d.Reset)
}

// In local-first mode each replica takes up to Batch units of a key more
// than it needs from Redis at once, and spends them without a round trip:
// here a busy key costs a round trip every 21 decisions, and the replicas
// together may exceed the limit, over any stretch of time, by at most
// replicas × 20.
// This example needs a Redis server on localhost:6379, so it is compiled
// but not run by go test.
func ExampleConfig_batch() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	lim, err := redislimit.New(redislimit.Config{
		Client: client,
		Rate:   ratelimit.PerSecond(5000),
		Prefix: "example:busy:",
		Batch:  20,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		d, err := lim.Allow(context.Background(), "client-1", 1)
		fmt.Println(d.Allowed, err)
	}
}
