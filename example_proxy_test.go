package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
)

// A Proxy forwards to a pool of upstreams. The safe choice is to bound each
// attempt with Timeout; the zero value already bounds dialing and the wait
// for the response head.
func ExampleProxy() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream got %s %s, forwarded for %s", r.Method, r.URL.Path, r.Header.Get("X-Forwarded-For"))
	}))
	defer upstream.Close()

	p := &gateway.Proxy{
		Upstreams: balancer.MustPool(upstream.URL + "/api"),
		Timeout:   5 * time.Second,
	}

	r := httptest.NewRequest(http.MethodGet, "http://gateway.example/users/42", nil)
	r.RemoteAddr = "192.0.2.7:40000"
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)

	body, _ := io.ReadAll(w.Result().Body)
	fmt.Println(w.Code)
	fmt.Println(string(body))
	// Output:
	// 200
	// upstream got GET /api/users/42, forwarded for 192.0.2.7
}

// With no healthy upstream the Proxy answers 503 with a JSON error body.
func ExampleProxy_noUpstream() {
	p := &gateway.Proxy{}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body.String())
	// Output:
	// 503 application/json
	// {"error":{"type":"unavailable","message":"service unavailable"}}
}

// With a RetryPolicy, a request that is safe to repeat is sent again after
// a 502, 503 or 504, a failure to connect or a timeout before the answer,
// and the client sees only the last attempt. The safe choice keeps the
// defaults: three attempts at most, waits with jitter, and a budget that
// stops retries from multiplying the load on a failing upstream.
func ExampleRetryPolicy() {
	var calls atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n == 1 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "attempt %d", n)
	}))
	defer upstream.Close()

	p := &gateway.Proxy{
		Upstreams: balancer.MustPool(upstream.URL),
		Timeout:   5 * time.Second,
		Retry:     &gateway.RetryPolicy{},
	}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 attempt 2
}
