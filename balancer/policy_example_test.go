package balancer_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

func ExampleNewSmoothWeighted() {
	a, _ := balancer.NewUpstream("http://a:8080")
	b, _ := balancer.NewUpstream("http://b:8080")
	c, _ := balancer.NewUpstream("http://c:8080")
	a.Weight = 5
	pool, _ := balancer.PoolOf(a, b, c)
	sw := balancer.NewSmoothWeighted()
	var order []string
	for range 7 {
		order = append(order, sw.Pick(nil, pool.Healthy()).URL.Hostname())
	}
	fmt.Println(strings.Join(order, " "))
	// Output:
	// a a b a c a a
}

func ExampleNewRandom() {
	a, _ := balancer.NewUpstream("http://a:8080")
	b, _ := balancer.NewUpstream("http://b:8080")
	b.Weight = 3
	pool, _ := balancer.PoolOf(a, b)
	rnd := balancer.NewRandom()
	picks := map[string]int{}
	for range 10000 {
		picks[rnd.Pick(nil, pool.Healthy()).URL.Hostname()]++
	}
	share := float64(picks["b"]) / 10000
	fmt.Println("b has about three quarters:", share > 0.72 && share < 0.78)
	// Output:
	// b has about three quarters: true
}

func ExampleNewLeastRequests() {
	pool := balancer.MustPool("http://a:8080", "http://b:8080")
	a := pool.All()[0]
	a.Begin() // an attempt in flight on a
	fmt.Println(balancer.NewLeastRequests().Pick(nil, pool.Healthy()))
	// Output:
	// http://b:8080
}

func ExampleNewP2C() {
	pool := balancer.MustPool("http://a:8080", "http://b:8080")
	a, b := pool.All()[0], pool.All()[1]
	// What the proxy does around each attempt.
	a.Begin()
	a.Done(balancer.Outcome{Status: 200, Duration: 900 * time.Millisecond})
	b.Begin()
	b.Done(balancer.Outcome{Status: 200, Duration: 20 * time.Millisecond})

	p2c := balancer.NewP2C()
	fmt.Println(p2c.Pick(nil, pool.Healthy()))
	// Output:
	// http://b:8080
}

func ExampleNewConsistentHash() {
	pool := balancer.MustPool("http://a:8080", "http://b:8080", "http://c:8080")
	// The default bound on load, 1.25, keeps a hot key from overloading
	// its owner; keep it unless every request of a key must go to one
	// upstream.
	ch := balancer.NewConsistentHash(balancer.KeyHeader("X-User"))

	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("X-User", "alice")
	owner := ch.Pick(r, pool.Healthy())
	fmt.Println("alice stays:", ch.Pick(r, pool.Healthy()) == owner)

	pool.SetHealthy(owner, false)
	moved := ch.Pick(r, pool.Healthy())
	fmt.Println("alice moves when her upstream is down:", moved != owner && moved != nil)
	// Output:
	// alice stays: true
	// alice moves when her upstream is down: true
}

func ExampleNewSticky() {
	pool := balancer.MustPool("http://a:8080", "http://b:8080")
	sticky := balancer.NewSticky("", balancer.NewP2C())
	// With a gateway.Proxy: Balancer: sticky, ModifyResponse:
	// sticky.ModifyResponse(pool). Here the response is made by hand.
	first := sticky.Pick(httptest.NewRequest("GET", "/", nil), pool.Healthy())
	res := &http.Response{Header: http.Header{}}
	sticky.SetCookie(res.Header, first)

	// The client sends the cookie back and stays where it was.
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		r.AddCookie(c)
	}
	for range 3 {
		fmt.Println(sticky.Pick(r, pool.Healthy()) == first)
	}
	// Output:
	// true
	// true
	// true
}

func ExamplePool_Drain() {
	pool := balancer.MustPool("http://a:8080", "http://b:8080")
	a := pool.All()[0]
	// Drain returns once a's attempts in flight have ended, or with the
	// context's error; a deadline keeps a stuck request from holding it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pool.Drain(ctx, a); err != nil {
		fmt.Println(err)
	}
	fmt.Println(pool.All())
	// Output:
	// [http://b:8080]
}

func ExamplePool_Add() {
	pool := balancer.MustPool("http://10.0.0.1:8080")
	backup, _ := balancer.NewUpstream("http://10.9.0.1:8080")
	backup.Priority = 1 // used only when no upstream of group 0 is healthy
	if err := pool.Add(backup); err != nil {
		fmt.Println(err)
	}
	fmt.Println(pool.Healthy())
	pool.SetHealthy(pool.All()[0], false)
	fmt.Println(pool.Healthy())
	// Output:
	// [http://10.0.0.1:8080]
	// [http://10.9.0.1:8080]
}

func ExamplePool_EjectOutliers() {
	pool := balancer.MustPool("http://a:8080", "http://b:8080", "http://c:8080")
	// The zero Ejector: out after 5 failures in a row, for 30s at first,
	// never more than 10% of the pool but always allowed one.
	if err := pool.EjectOutliers(balancer.Ejector{}); err != nil {
		fmt.Println(err)
		return
	}
	a := pool.All()[0]
	for range 5 { // what the proxy records for five 503s from a
		a.Begin()
		a.Done(balancer.Outcome{Status: 503, Class: balancer.ServerError})
	}
	fmt.Println(a.Ejected(), pool.Healthy())
	// Output:
	// true [http://b:8080 http://c:8080]
}

func ExamplePool_CheckHealth() {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer healthy.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()

	pool := balancer.MustPool(healthy.URL, failing.URL)
	// Fall: 1 takes an upstream down at its first failed check; the
	// default, 3, rides out a passing hiccup.
	if err := pool.CheckHealth(balancer.HealthCheck{Path: "/healthz", Interval: time.Second, Fall: 1}); err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close() // stops the checks' goroutine
	deadline := time.Now().Add(5 * time.Second)
	for len(pool.Healthy()) != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the first round runs at once
	}
	fmt.Println(pool.Healthy()[0] == pool.All()[0])
	// Output:
	// true
}
