package breaker_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
)

// statusHandler answers with the status in the request's "status" query
// parameter, or panics when it is "panic".
var statusHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch s := r.URL.Query().Get("status"); s {
	case "panic":
		panic("handler failed")
	case "":
		io.WriteString(w, "hello")
	default:
		code := 0
		for _, c := range s {
			code = code*10 + int(c-'0')
		}
		w.WriteHeader(code)
	}
})

// serve sends one request through h and returns the recorder; a panic in
// h is recovered, as net/http's server does.
func serve(h http.Handler, r *http.Request) (rec *httptest.ResponseRecorder, panicked bool) {
	rec = httptest.NewRecorder()
	func() {
		defer func() { panicked = recover() != nil }()
		h.ServeHTTP(rec, r)
	}()
	return rec, panicked
}

func TestMiddleware(t *testing.T) {
	tests := []struct {
		name     string
		requests []string // the status query of each request before the last
		ctx      func() (context.Context, context.CancelFunc)
		want     breaker.State
	}{
		{"5xx responses trip", []string{"500", "503", "502"}, nil, breaker.Open},
		{"4xx and 2xx do not", []string{"404", "400", "429", "", "200", "302", "404"}, nil, breaker.Closed},
		{"a success ends the run", []string{"500", "500", "", "500", "500"}, nil, breaker.Closed},
		{"panics trip", []string{"panic", "panic", "panic"}, nil, breaker.Open},
		{"a client gone is not counted", []string{"500", "500", "500", "500"}, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, breaker.Closed},
		{"a passed deadline is a failure", []string{"", "", ""}, func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Unix(1, 0))
		}, breaker.Open},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := breaker.New(breaker.Settings{ConsecutiveFailures: 3})
			h := breaker.Middleware(b)(statusHandler)
			for _, status := range tt.requests {
				r := httptest.NewRequest("GET", "/?status="+status, nil)
				if tt.ctx != nil {
					ctx, cancel := tt.ctx()
					defer cancel()
					r = r.WithContext(ctx)
				}
				if _, panicked := serve(h, r); panicked != (status == "panic") {
					t.Fatalf("GET ?status=%s: panicked %v; want the handler's panic to go on up", status, panicked)
				}
			}
			if got := b.State(); got != tt.want {
				t.Errorf("State() = %v; want %v", got, tt.want)
			}
		})
	}
}

// TestMiddlewareRefuses shows the answer to a request while the circuit
// is open: 503 with a JSON body and Retry-After, without calling the
// handler; and that the handler is called again once a probe may go.
func TestMiddlewareRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Second})
		called := 0
		h := breaker.Middleware(b)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called++
			if r.URL.Path == "/fail" {
				w.WriteHeader(500)
			}
		}))
		serve(h, httptest.NewRequest("GET", "/fail", nil))
		time.Sleep(1500 * time.Millisecond)

		rec, _ := serve(h, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 503 {
			t.Fatalf("GET / while open = %d; want 503", rec.Code)
		}
		if called != 1 {
			t.Errorf("handler called %d times; want once: a refused request must not reach it", called)
		}
		for k, want := range map[string]string{
			"Content-Type":           "application/json",
			"X-Content-Type-Options": "nosniff",
			"Retry-After":            "9", // 8.5 s, rounded up
			"Content-Length":         "59",
		} {
			if got := rec.Header().Get(k); got != want {
				t.Errorf("%s = %q; want %q", k, got, want)
			}
		}
		if got, want := rec.Body.String(), `{"error":{"type":"circuit_open","message":"circuit open"}}`+"\n"; got != want {
			t.Errorf("body = %q; want %q", got, want)
		}

		rec, _ = serve(h, httptest.NewRequest("HEAD", "/", nil))
		if rec.Code != 503 || rec.Body.Len() != 0 {
			t.Errorf("HEAD / while open = %d with %d bytes; want 503 with no body", rec.Code, rec.Body.Len())
		}

		time.Sleep(9 * time.Second)
		rec, _ = serve(h, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 200 || called != 2 || b.State() != breaker.Closed {
			t.Errorf("GET / after the open time = %d, handler called %d times, %v; want 200, twice, closed", rec.Code, called, b.State())
		}
	})
}

// TestMiddlewareHalfOpenNoRetryAfter shows that a request refused while
// the probe is out gets no Retry-After: when the circuit closes is not
// known.
func TestMiddlewareHalfOpenNoRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Settings{ConsecutiveFailures: 1})
		callOnce(b, fail)
		time.Sleep(5 * time.Second)
		ticket, _ := b.Allow() // the probe
		defer b.Done(ticket, ok)
		rec, _ := serve(breaker.Middleware(b)(statusHandler), httptest.NewRequest("GET", "/", nil))
		if rec.Code != 503 || rec.Header().Get("Retry-After") != "" {
			t.Errorf("GET / in half-open = %d, Retry-After %q; want 503 and none", rec.Code, rec.Header().Get("Retry-After"))
		}
	})
}

// TestMiddlewareOutcome shows the Outcome the middleware records: the
// status the handler wrote first, 200 when it wrote none, and the time
// it took.
func TestMiddlewareOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []balancer.Outcome
		b := breaker.New(breaker.Settings{IsFailure: func(o balancer.Outcome) bool {
			got = append(got, o)
			return false
		}})
		h := breaker.Middleware(b)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(250 * time.Millisecond)
			switch r.URL.Path {
			case "/early-hints":
				w.WriteHeader(103)
				w.WriteHeader(502)
				w.WriteHeader(200) // superfluous: ignored
			case "/write":
				w.Write([]byte("x"))
			case "/flush":
				w.(http.Flusher).Flush()
			case "/copy":
				io.Copy(w, strings.NewReader("copied"))
			case "/controller":
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("ResponseController.Flush() = %v; want nil", err)
				}
			}
		}))
		for _, tt := range []struct {
			path   string
			status int
		}{
			{"/", 200},
			{"/early-hints", 502},
			{"/write", 200},
			{"/flush", 200},
			{"/copy", 200},
			{"/controller", 200},
		} {
			got = got[:0]
			rec, _ := serve(h, httptest.NewRequest("GET", tt.path, nil))
			if len(got) != 1 {
				t.Fatalf("GET %s: %d outcomes recorded; want 1", tt.path, len(got))
			}
			if got[0].Status != tt.status || got[0].Duration != 250*time.Millisecond {
				t.Errorf("GET %s: Outcome = %+v; want Status %d, Duration 250ms", tt.path, got[0], tt.status)
			}
			if tt.path == "/copy" && rec.Body.String() != "copied" {
				t.Errorf("GET /copy: body %q; want %q", rec.Body.String(), "copied")
			}
		}
	})
}

func TestMiddlewareNil(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Middleware(nil) did not panic")
		}
	}()
	breaker.Middleware(nil)
}

// nopWriter is a response writer that allocates nothing, for counting the
// middleware's own allocations.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// TestMiddlewareAllocs holds the claim that an admitted request costs the
// middleware no allocation.
func TestMiddlewareAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates, and sync.Pool drops items")
	}
	b := breaker.New(breaker.Settings{})
	h := breaker.Middleware(b)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	}))
	w := &nopWriter{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	if got := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }); got != 0 {
		t.Errorf("an admitted request allocates %v times in the middleware; want 0", got)
	}
}

// BenchmarkMiddleware measures one request through the middleware to a
// handler that writes 204, against a writer that does nothing: what the
// middleware adds to a request.
func BenchmarkMiddleware(b *testing.B) {
	br := breaker.New(breaker.Settings{})
	h := breaker.Middleware(br)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	}))
	r := httptest.NewRequest("GET", "/", nil)
	b.Run("serial", func(b *testing.B) {
		w := &nopWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &nopWriter{h: http.Header{}}
			for pb.Next() {
				h.ServeHTTP(w, r)
			}
		})
	})
}

// TestMiddlewareAbortHandler shows that a handler that aborts with
// http.ErrAbortHandler, as a proxy does when its client goes away in the
// middle of a response, is not counted as a failure, and that the panic
// goes on up for the server, which then closes the connection quietly.
func TestMiddlewareAbortHandler(t *testing.T) {
	b := breaker.New(breaker.Settings{ConsecutiveFailures: 1})
	h := breaker.Middleware(b)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		panic(http.ErrAbortHandler)
	}))
	for i := range 3 {
		if got := b.State(); got != breaker.Closed {
			t.Fatalf("State() after %d handlers aborted with http.ErrAbortHandler = %v; want closed", i, got)
		}
		var p any
		func() {
			defer func() { p = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}()
		if p != http.ErrAbortHandler {
			t.Fatalf("recover() = %v; want http.ErrAbortHandler to go on up", p)
		}
	}
	if got := b.State(); got != breaker.Closed {
		t.Errorf("State() after 3 handlers aborted with http.ErrAbortHandler = %v; want closed", got)
	}
}

// TestMiddlewareStream shows that with SlowCall set the middleware records
// the time to the response head as the TTFB, so that a handler that
// answers at once and streams for long is not a slow call, while one
// slow to answer is.
func TestMiddlewareStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []balancer.Outcome
		b := breaker.New(breaker.Settings{SlowCall: time.Second, MinCalls: 2, Window: time.Hour, IsFailure: func(o balancer.Outcome) bool {
			got = append(got, o)
			return false
		}})
		h := breaker.Middleware(b)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				time.Sleep(2 * time.Second)
			}
			time.Sleep(100 * time.Millisecond)
			w.(http.Flusher).Flush()
			time.Sleep(time.Minute) // the stream
		}))
		for range 2 {
			serve(h, httptest.NewRequest("GET", "/stream", nil))
		}
		if got := b.State(); got != breaker.Closed {
			t.Errorf("State() after 2 long streams with a fast head = %v; want closed", got)
		}
		if len(got) != 2 || got[0].TTFB != 100*time.Millisecond || got[0].Duration != time.Minute+100*time.Millisecond {
			t.Errorf("Outcomes = %+v; want TTFB 100ms, Duration 1m0.1s", got)
		}
		for range 2 {
			serve(h, httptest.NewRequest("GET", "/slow", nil))
		}
		if got := b.State(); got != breaker.Open {
			t.Errorf("State() after 2 more streams with a head after 2.1s = %v; want open", got)
		}
	})
}
