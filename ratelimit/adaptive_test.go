package ratelimit_test

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/ratelimit"
)

// upstream is a simulated server of fixed capacity: a request takes base
// while at most capacity are in flight, and proportionally longer beyond,
// as a server whose workers are all busy queues the rest. It serves
// capacity/base requests per second at most, whatever the load.
type upstream struct {
	base     time.Duration
	capacity int

	mu       sync.Mutex
	inFlight int
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.inFlight++
	d := u.base * time.Duration(max(u.capacity, u.inFlight)) / time.Duration(u.capacity)
	u.mu.Unlock()
	time.Sleep(d)
	u.mu.Lock()
	u.inFlight--
	u.mu.Unlock()
}

// load offers rate requests per second to h for dur, and reports the
// latency of the requests that were served in the last half and how many
// were shed.
func load(h http.Handler, every, dur time.Duration) (served int, worst, mean time.Duration, shed int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var total time.Duration
	start := time.Now()
	for time.Since(start) < dur {
		wg.Go(func() {
			t0 := time.Now()
			w := serve(h, request("192.0.2.1:1"))
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if w.Code != http.StatusOK {
				shed++
				return
			}
			if t0.Sub(start) < dur/2 {
				return // the controller is still learning
			}
			served++
			total += d
			worst = max(worst, d)
		})
		time.Sleep(every)
	}
	wg.Wait()
	return served, worst, total / time.Duration(max(1, served)), shed
}

// TestAdaptiveSheds offers an upstream of 10 workers at 10ms (1000/s at
// most) 1250 requests per second for 4 s. Unprotected, its queue grows
// without end and latency with it; behind Adaptive, latency stays near
// the 10ms baseline and the excess is shed.
func TestAdaptiveSheds(t *testing.T) {
	const base = 10 * time.Millisecond
	every, dur := 800*time.Microsecond, 4*time.Second
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{base: base, capacity: 10}
		_, worst, mean, _ := load(u, every, dur)
		t.Logf("unprotected: mean %v, worst %v", mean, worst)
		if worst < 50*base {
			t.Errorf("unprotected worst latency %v; want the collapse the test relies on (≥ %v)", worst, 50*base)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		u := &upstream{base: base, capacity: 10}
		a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{})
		if err != nil {
			t.Fatal(err)
		}
		served, worst, mean, shed := load(a.Middleware()(u), every, dur)
		t.Logf("adaptive: served %d, shed %d, mean %v, worst %v, limit %d", served, shed, mean, worst, a.Limit())
		// Tolerance 1.5 lets the queue add half the baseline at most.
		if mean > 16*base/10 || worst > 2*base {
			t.Errorf("behind Adaptive: mean %v, worst %v; want ≤ %v and ≤ %v", mean, worst, 16*base/10, 2*base)
		}
		if shed == 0 {
			t.Errorf("behind Adaptive nothing was shed; want the excess shed")
		}
		// The upstream serves 1000/s at most; the second half lasts 2 s.
		if served < 1500 {
			t.Errorf("behind Adaptive served %d in 2 s; want ≥ 1500 (75%% of capacity)", served)
		}
	})
}

// TestAdaptiveDefaultInitial: Initial left zero starts within [Min, Max].
func TestAdaptiveDefaultInitial(t *testing.T) {
	for _, tt := range []struct {
		c    ratelimit.AdaptiveConfig
		want int
	}{
		{ratelimit.AdaptiveConfig{}, 20},
		{ratelimit.AdaptiveConfig{Max: 10}, 10},
		{ratelimit.AdaptiveConfig{Min: 50}, 50},
	} {
		a, err := ratelimit.NewAdaptive(tt.c)
		if err != nil {
			t.Errorf("NewAdaptive(%+v) = %v; want a limit of %d", tt.c, err, tt.want)
		} else if a.Limit() != tt.want {
			t.Errorf("NewAdaptive(%+v) limit = %d; want %d", tt.c, a.Limit(), tt.want)
		}
	}
}

// TestAdaptiveDoneWithoutAcquire: a Done with nothing in flight leaves
// the count at zero, so that the limit is not exceeded afterwards.
func TestAdaptiveDoneWithoutAcquire(t *testing.T) {
	a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{Initial: 2, Min: 2, Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	a.Done(time.Millisecond, false)
	if n := a.InFlight(); n != 0 {
		t.Errorf("InFlight after a Done without Acquire = %d; want 0", n)
	}
	if !a.Acquire() || !a.Acquire() || a.Acquire() {
		t.Errorf("with a limit of 2, Acquire thrice should admit two")
	}
}

func TestNewAdaptiveErrors(t *testing.T) {
	bad := []ratelimit.AdaptiveConfig{
		{Min: 10, Max: 5},
		{Initial: 2000},
		{Tolerance: 0.5},
		{Backoff: 1.5},
		{Window: -1},
	}
	for _, c := range bad {
		if _, err := ratelimit.NewAdaptive(c); err == nil {
			t.Errorf("NewAdaptive(%+v) = nil error; want one", c)
		}
	}
}
