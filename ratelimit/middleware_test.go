package ratelimit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/ratelimit"
)

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

func mustGCRA(t testing.TB, r ratelimit.Rate) *ratelimit.GCRA {
	t.Helper()
	l, err := ratelimit.NewGCRA(r, ratelimit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func request(remote string) *http.Request {
	r := httptest.NewRequest("GET", "/v1/things", nil)
	r.RemoteAddr = remote
	return r
}

// TestPerKey refuses the third request of a client with 429, the JSON body,
// Retry-After and the draft headers, while another client goes through.
func TestPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := ratelimit.PerKey(mustGCRA(t, ratelimit.Rate{Limit: 1, Period: 10 * time.Second, Burst: 2}), nil)(ok)
		tests := []struct {
			remote  string
			status  int
			headers map[string]string
		}{
			{"192.0.2.1:1000", 204, map[string]string{"RateLimit-Limit": "2", "RateLimit-Remaining": "1", "RateLimit-Reset": "10"}},
			{"192.0.2.1:1001", 204, map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "20"}},
			{"192.0.2.1:1002", 429, map[string]string{"RateLimit-Remaining": "0", "Retry-After": "10", "Content-Type": "application/json"}},
			{"192.0.2.2:1000", 204, map[string]string{"RateLimit-Remaining": "1", "Retry-After": ""}},
		}
		for i, tt := range tests {
			w := serve(h, request(tt.remote))
			if w.Code != tt.status {
				t.Errorf("request %d from %s: status = %d; want %d", i, tt.remote, w.Code, tt.status)
			}
			for k, v := range tt.headers {
				if got := w.Header().Get(k); got != v {
					t.Errorf("request %d: %s = %q; want %q", i, k, got, v)
				}
			}
			if tt.status == 429 {
				if want := `{"error":{"type":"rate_limited","message":"too many requests"}}` + "\n"; w.Body.String() != want {
					t.Errorf("429 body = %q; want %q", w.Body.String(), want)
				}
			}
		}
	})
}

// TestCostTooHigh refuses a request above the burst with a message that
// says so and no Retry-After: waiting would not help.
func TestCostTooHigh(t *testing.T) {
	mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
		Limiter: mustGCRA(t, ratelimit.PerSecond(5)),
		Cost:    func(*http.Request) int64 { return 6 },
	})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(mw(ok), request("192.0.2.1:1"))
	if w.Code != 429 || w.Header().Get("Retry-After") != "" || !strings.Contains(w.Body.String(), "cost exceeds") {
		t.Errorf("cost 6 over burst 5: %d, Retry-After %q, body %q; want 429, none, cost exceeds", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
}

// TestHeaderForms sets each header form.
func TestHeaderForms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 10 per second with bursts of 25: the burst refills in 2.5s, so
		// the policy says 30 in 3s.
		mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
			Limiter: mustGCRA(t, ratelimit.Rate{Limit: 10, Period: time.Second, Burst: 25}),
			Headers: ratelimit.HeadersStructured,
		})
		if err != nil {
			t.Fatal(err)
		}
		w := serve(mw(ok), request("192.0.2.1:1"))
		if got, want := w.Header().Get("RateLimit-Policy"), `"default";q=30;w=3`; got != want {
			t.Errorf("RateLimit-Policy = %q; want %q", got, want)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
			Limiter: mustGCRA(t, ratelimit.PerMinute(60)),
			Headers: ratelimit.HeadersX | ratelimit.HeadersStructured,
			Policy:  "basic",
		})
		if err != nil {
			t.Fatal(err)
		}
		w := serve(mw(ok), request("192.0.2.1:1"))
		want := http.Header{
			"X-Ratelimit-Limit":     {"60"},
			"X-Ratelimit-Remaining": {"59"},
			"X-Ratelimit-Reset":     {"1"},
			"Ratelimit-Policy":      {`"basic";q=60;w=60`},
			"Ratelimit":             {`"basic";r=59;t=1`},
		}
		for k, v := range want {
			if got := w.Header()[k]; !slices.Equal(got, v) {
				t.Errorf("%s = %q; want %q", k, got, v)
			}
		}
		if got := w.Header().Get("RateLimit-Limit"); got != "" {
			t.Errorf("RateLimit-Limit = %q without HeadersDraft; want none", got)
		}
	})
}

// TestHeadersAllocs counts what setting the headers costs: two allocations
// (the values' string and their slice headers), whatever the forms.
func TestHeadersAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
		Limiter: mustGCRA(t, benchRate),
		Headers: ratelimit.HeadersDraft | ratelimit.HeadersX | ratelimit.HeadersStructured,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(ok)
	r := request("192.0.2.1:1")
	w := &discard{h: http.Header{}}
	n := testing.AllocsPerRun(100, func() {
		clear(w.h)
		h.ServeHTTP(w, r)
	})
	if n > 2 {
		t.Errorf("allowed request with all header forms: %v allocs; want at most 2", n)
	}
}

// discard is a ResponseWriter that keeps only its header map.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// TestTiers gives each plan its own limit and state; an unknown plan gets
// the default.
func TestTiers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
			Tiers: &ratelimit.Tiers{
				Of:      func(r *http.Request) string { return r.Header.Get("X-Plan") },
				Limits:  map[string]ratelimit.Limiter{"pro": mustGCRA(t, ratelimit.PerMinute(100))},
				Default: mustGCRA(t, ratelimit.PerMinute(2)),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		h := mw(ok)
		for _, tt := range []struct{ plan, limit string }{{"pro", "100"}, {"free", "2"}, {"", "2"}} {
			r := request("192.0.2.1:1")
			r.Header.Set("X-Plan", tt.plan)
			if got := serve(h, r).Header().Get("RateLimit-Limit"); got != tt.limit {
				t.Errorf("plan %q: RateLimit-Limit = %q; want %q", tt.plan, got, tt.limit)
			}
		}
	})
}

type failing struct{}

func (failing) Allow(context.Context, string, int64) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("store down")
}

// TestFailOpenClosed: a Limiter error refuses with 503 unless FailOpen.
func TestFailOpenClosed(t *testing.T) {
	for _, open := range []bool{false, true} {
		mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{Limiter: failing{}, FailOpen: open})
		if err != nil {
			t.Fatal(err)
		}
		want := 503
		if open {
			want = 204
		}
		if w := serve(mw(ok), request("192.0.2.1:1")); w.Code != want {
			t.Errorf("FailOpen %v: status = %d; want %d", open, w.Code, want)
		}
	}
}

// TestNegativeCost: a Cost func that returns a negative cost is a bug,
// answered with 500 whatever FailOpen says: FailOpen is for a store that
// cannot decide, and must not let such requests skip the limit.
func TestNegativeCost(t *testing.T) {
	for _, open := range []bool{false, true} {
		var got error
		for _, eh := range []func(http.ResponseWriter, *http.Request, error){nil, func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			gateway.WriteError(w, r, err)
		}} {
			mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
				Limiter:      mustGCRA(t, ratelimit.PerMinute(1)),
				FailOpen:     open,
				Cost:         func(*http.Request) int64 { return -1 },
				ErrorHandler: eh,
			})
			if err != nil {
				t.Fatal(err)
			}
			w := serve(mw(ok), request("192.0.2.1:1"))
			if w.Code != 500 || !strings.Contains(w.Body.String(), "internal_error") {
				t.Errorf("FailOpen %v, ErrorHandler %v: cost -1 answered %d %q; want 500 internal_error", open, eh != nil, w.Code, w.Body)
			}
			if eh != nil && !errors.Is(got, ratelimit.ErrCost) {
				t.Errorf("FailOpen %v: ErrorHandler got %v; want ErrCost", open, got)
			}
		}
	}
}

// TestErrorHandler hands refusals to the gateway's WriteError, which reads
// ErrRateLimited and Retry-After from the Refusal.
func TestErrorHandler(t *testing.T) {
	var got error
	mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
		Limiter: mustGCRA(t, ratelimit.Rate{Limit: 1, Period: time.Minute}),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			gateway.WriteError(w, r, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(ok)
	serve(h, request("192.0.2.1:1"))
	w := serve(h, request("192.0.2.1:1"))
	if !errors.Is(got, gateway.ErrRateLimited) || w.Code != 429 || w.Header().Get("Retry-After") != "60" {
		t.Errorf("ErrorHandler got %v, wrote %d Retry-After %q; want ErrRateLimited, 429, 60", got, w.Code, w.Header().Get("Retry-After"))
	}
}

// TestPolicyWindow: RateLimit-Policy's q/w is the long-run rate: the
// burst and the seconds it takes to refill when those are whole, else the
// window rounded up to whole seconds and what the Rate earns in it.
func TestPolicyWindow(t *testing.T) {
	for _, tt := range []struct {
		r    ratelimit.Rate
		want string
	}{
		{ratelimit.PerMinute(60), `"default";q=60;w=60`},
		{ratelimit.Rate{Limit: 10, Period: time.Second, Burst: 20}, `"default";q=20;w=2`},
		{ratelimit.Rate{Limit: 10, Period: time.Second, Burst: 25}, `"default";q=30;w=3`},
		{ratelimit.Rate{Limit: 5, Period: 100 * time.Millisecond}, `"default";q=50;w=1`},
		{ratelimit.Rate{Limit: 3, Period: time.Second, Burst: 1}, `"default";q=3;w=1`},
		{ratelimit.Rate{Limit: 7, Period: time.Hour, Burst: 1}, `"default";q=1;w=515`}, // 514.28 s: 7 an hour earn 1 in 515 s
		{ratelimit.Rate{Limit: 1 << 40, Period: time.Second, Burst: 1 << 20}, `"default";q=1099511627776;w=1`},
		{ratelimit.Rate{Limit: 1 << 40, Period: time.Nanosecond, Burst: 1}, `"default";q=9223372036854775807;w=1`},
	} {
		mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{Limiter: mustGCRA(t, tt.r), Headers: ratelimit.HeadersStructured})
		if err != nil {
			t.Fatal(err)
		}
		if got := serve(mw(ok), request("192.0.2.1:1")).Header().Get("RateLimit-Policy"); got != tt.want {
			t.Errorf("%v: RateLimit-Policy = %s; want %s", tt.r, got, tt.want)
		}
	}
}

// TestPolicyNameEscaped: a policy name goes into the structured headers
// as a valid sf-string, its quote and backslash escaped.
func TestPolicyNameEscaped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
			Limiter: mustGCRA(t, ratelimit.PerSecond(10)),
			Headers: ratelimit.HeadersStructured,
			Policy:  `a"b\c`,
		})
		if err != nil {
			t.Fatal(err)
		}
		w := serve(mw(ok), request("192.0.2.1:1"))
		for k, want := range map[string]string{"RateLimit": `"a\"b\\c";r=9;t=1`, "RateLimit-Policy": `"a\"b\\c";q=10;w=1`} {
			if got := w.Header().Get(k); got != want {
				t.Errorf("%s = %s; want %s", k, got, want)
			}
		}
	})
}

func TestNewMiddlewareErrors(t *testing.T) {
	sw, _ := ratelimit.NewSlidingWindow(ratelimit.PerSecond(1), ratelimit.Options{})
	bad := map[string]ratelimit.Middleware{
		"policy not ASCII":       {Limiter: sw, Policy: "café"},
		"policy with a newline":  {Limiter: sw, Policy: "a\nb"},
		"tier name with a tab":   {Tiers: &ratelimit.Tiers{Of: func(*http.Request) string { return "" }, Default: sw, Limits: map[string]ratelimit.Limiter{"a\tb": sw}}},
		"no limiter":             {},
		"negative wait":          {Limiter: sw, MaxWait: -1},
		"throttle, not reserver": {Limiter: sw, MaxWait: time.Second},
		"tiers without Of":       {Tiers: &ratelimit.Tiers{Default: sw}},
		"tiers without Default":  {Tiers: &ratelimit.Tiers{Of: func(*http.Request) string { return "" }}},
	}
	for name, m := range bad {
		if _, err := ratelimit.NewMiddleware(m); err == nil {
			t.Errorf("NewMiddleware(%s) = nil error; want one", name)
		}
	}
}

// TestThrottleFIFO queues five requests of one client at 1 per second: each
// goes ahead at its slot, in the order they arrived; the sixth would wait
// past MaxWait and is refused at once.
func TestThrottleFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var order []int
		var at []time.Duration
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			order = append(order, len(r.Header.Get("X-N")))
			at = append(at, time.Since(start))
			mu.Unlock()
		})
		mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{
			Limiter: mustGCRA(t, ratelimit.Rate{Limit: 1, Period: time.Second, Burst: 1}),
			MaxWait: 4 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		th := mw(h)
		codes := make([]int, 6)
		var wg sync.WaitGroup
		for i := range 6 {
			r := request("192.0.2.1:1")
			r.Header.Set("X-N", strings.Repeat("x", i))
			wg.Go(func() { codes[i] = serve(th, r).Code })
			synctest.Wait() // request i has booked its slot before i+1 arrives
		}
		wg.Wait()
		if want := []int{0, 1, 2, 3, 4}; !slices.Equal(order, want) {
			t.Errorf("handled in order %v; want %v", order, want)
		}
		if want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}; !slices.Equal(at, want) {
			t.Errorf("handled at %v; want %v", at, want)
		}
		if want := []int{200, 200, 200, 200, 200, 429}; !slices.Equal(codes, want) {
			t.Errorf("statuses %v; want %v", codes, want)
		}
	})
}

// TestThrottleLeave: a client that leaves while queued gives back only
// what no later booking needs. Leaving before someone still waiting gives
// nothing back (the one behind keeps its slot, the next arrival comes
// after it); leaving last in line gives the slot to the next arrival.
func TestThrottleLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		served := map[string]time.Duration{}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			served[r.Header.Get("X-Name")] = time.Since(start)
			mu.Unlock()
		})
		mw, _ := ratelimit.NewMiddleware(ratelimit.Middleware{
			Limiter: mustGCRA(t, ratelimit.Rate{Limit: 1, Period: time.Second, Burst: 1}),
			MaxWait: 5 * time.Second,
		})
		th := mw(h)
		var wg sync.WaitGroup
		send := func(name string, ctx context.Context) {
			r := request("192.0.2.1:1").WithContext(ctx)
			r.Header.Set("X-Name", name)
			wg.Go(func() { serve(th, r) })
			synctest.Wait()
		}
		bg := context.Background()
		leavingB, leaveB := context.WithCancel(bg)
		leavingE, leaveE := context.WithCancel(bg)
		send("a", bg)       // at 0
		send("b", leavingB) // booked for 1s
		send("c", bg)       // booked for 2s
		time.Sleep(500 * time.Millisecond)
		leaveB() // c still needs the time b booked before it
		synctest.Wait()
		send("d", bg)       // after c: 3s
		send("e", leavingE) // booked for 4s
		leaveE()            // last in line: its slot is free again
		synctest.Wait()
		send("f", bg) // takes e's slot: 4s
		wg.Wait()
		want := map[string]time.Duration{"a": 0, "c": 2 * time.Second, "d": 3 * time.Second, "f": 4 * time.Second}
		if len(served) != len(want) {
			t.Errorf("served %v; want %v", served, want)
		}
		for k, v := range want {
			if served[k] != v {
				t.Errorf("%s served at %v; want %v", k, served[k], v)
			}
		}
	})
}

// TestThrottleLeaveKeepsRate: a client that books ahead on many
// connections and closes all but the last, again and again, still gets
// its requests through no faster than the rate: with Burst 1 at 1 per
// second, never two within a second.
func TestThrottleLeaveKeepsRate(t *testing.T) {
	for name, mk := range bucketLimiters() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := mk(ratelimit.Rate{Limit: 1, Period: time.Second, Burst: 1}, ratelimit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				var mu sync.Mutex
				var at []time.Duration
				mw, err := ratelimit.NewMiddleware(ratelimit.Middleware{Limiter: l, MaxWait: 10 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				th := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					at = append(at, time.Since(start))
					mu.Unlock()
				}))
				var wg sync.WaitGroup
				for range 4 {
					var waiting []context.CancelFunc
					for range 11 {
						ctx, cancel := context.WithCancel(context.Background())
						done := make(chan struct{})
						wg.Go(func() {
							defer close(done)
							serve(th, request("192.0.2.1:1").WithContext(ctx))
						})
						synctest.Wait()
						select {
						case <-done: // served or refused at once
							cancel()
						default:
							waiting = append(waiting, cancel)
						}
					}
					if len(waiting) == 0 {
						continue
					}
					for _, cancel := range waiting[:len(waiting)-1] {
						cancel() // the last one waiting stays
					}
					synctest.Wait()
				}
				wg.Wait()
				slices.Sort(at)
				for i := 1; i < len(at); i++ {
					if at[i]-at[i-1] < time.Second {
						t.Errorf("requests served at %v and %v with Burst 1 at 1/s; want a second apart", at[i-1], at[i])
					}
				}
			})
		})
	}
}
