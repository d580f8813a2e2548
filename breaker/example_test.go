package breaker_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
)

func ExampleNew() {
	// The zero Settings are the safe start: 50% failures over the last
	// 10 s (once 20 calls are in), or 10 failures in a row, open the
	// circuit for 5 s, then 10 s, 20 s... up to 60 s.
	b := breaker.New(breaker.Settings{
		Name:                "users",
		ConsecutiveFailures: 3, // only to keep the example short
		OnStateChange: func(name string, from, to breaker.State) {
			fmt.Printf("%s: %v → %v\n", name, from, to)
		},
	})
	for range 3 {
		ticket, err := b.Allow()
		if err != nil {
			break
		}
		// ... make the call, then report how it went.
		b.Done(ticket, balancer.Outcome{Status: 503, Class: balancer.ServerError})
	}
	_, err := b.Allow()
	fmt.Println(err, errors.Is(err, gateway.ErrCircuitOpen))
	fmt.Println(b.State(), b.RetryAfter() > 4*time.Second)
	// Output:
	// users: closed → open
	// gateway: circuit open (users) true
	// open true
}

func ExampleSettings_Check() {
	// Settings read from a configuration file: report a mistake rather
	// than let New panic.
	s := breaker.Settings{FailureRate: 50} // meant 50%
	if err := s.Check(); err != nil {
		fmt.Println(err)
		return
	}
	breaker.New(s)
	// Output:
	// breaker: invalid settings: FailureRate 50 is outside (0, 1]
}

func ExampleNewPerUpstream() {
	pool := balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080")
	breakers := breaker.NewPerUpstream(breaker.Settings{
		ConsecutiveFailures: 2,
		OnStateChange: func(name string, from, to breaker.State) {
			fmt.Printf("%s: %v → %v\n", name, from, to) // name: the upstream's URL
		},
	})
	bad := pool.All()[0]
	for range 2 {
		ticket, err := breakers.Allow(bad)
		if err == nil {
			breakers.Done(bad, ticket, balancer.Outcome{Class: balancer.ConnectionError})
		}
	}
	// The open upstream is out of its pool's rotation for the open time.
	for _, u := range pool.All() {
		fmt.Println(u, breakers.State(u), breakers.Open(u), slices.Contains(pool.Healthy(), u))
	}
	// Output:
	// http://10.0.0.1:8080: closed → open
	// http://10.0.0.1:8080 open true false
	// http://10.0.0.2:8080 closed false true
}

func ExampleMiddleware() {
	b := breaker.New(breaker.Settings{ConsecutiveFailures: 2})
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	})
	h := breaker.Middleware(b)(backend)
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/orders", nil))
		fmt.Print(rec.Code, " ", rec.Header().Get("Retry-After"), " ", rec.Body.String())
	}
	// Output:
	// 500  database down
	// 500  database down
	// 503 5 {"error":{"type":"circuit_open","message":"circuit open"}}
}
