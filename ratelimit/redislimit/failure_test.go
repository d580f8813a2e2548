package redislimit_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vivremotion/gateway/internal/redistest"
	"github.com/vivremotion/gateway/ratelimit"
	"github.com/vivremotion/gateway/ratelimit/redislimit"
)

// quick bounds how long a decision may take while Redis is gone: far above
// the 50 ms Timeout, far below a client's default 3 s or 5 s timeouts.
const quick = time.Second

// TestRedisStopped stops Redis in the middle of a run. A fail-closed
// limiter refuses with an error wrapping ErrUnavailable, a fail-open one
// allows with no error, both promptly and both reporting to OnError; a
// local-first one keeps spending its lease first. Once Redis is back (with
// no data and no scripts loaded), decisions resume.
func TestRedisStopped(t *testing.T) {
	srv := redistest.Start(t)
	rate := ratelimit.Rate{Limit: 100, Period: time.Hour}
	var closedErrs, openErrs atomic.Int64
	mk := func(cfg redislimit.Config) *redislimit.Limiter {
		cfg.Client = client(t, srv.Addr)
		cfg.Rate = rate
		cfg.Timeout = 50 * time.Millisecond
		cfg.Backoff = 20 * time.Millisecond
		return limiter(t, cfg)
	}
	closed := mk(redislimit.Config{OnError: func(error) { closedErrs.Add(1) }})
	open := mk(redislimit.Config{FailOpen: true, OnError: func(error) { openErrs.Add(1) }})
	local := mk(redislimit.Config{Batch: 5})
	ctx := context.Background()

	for name, l := range map[string]*redislimit.Limiter{"closed": closed, "open": open, "local": local} {
		if d, err := l.Allow(ctx, "k", 1); err != nil || !d.Allowed {
			t.Fatalf("%s: Allow(k, 1) before the outage = %+v, %v; want allowed", name, d, err)
		}
	}

	srv.Stop()

	start := time.Now()
	d, err := closed.Allow(ctx, "k", 1)
	if !errors.Is(err, redislimit.ErrUnavailable) || d.Allowed {
		t.Errorf("fail-closed Allow(k, 1) with Redis down = %+v, %v; want refused, ErrUnavailable", d, err)
	}
	d, err = open.Allow(ctx, "k", 2)
	if err != nil || !d.Allowed || d.Limit != 100 || d.Remaining != 98 {
		t.Errorf("fail-open Allow(k, 2) with Redis down = %+v, %v; want allowed, Limit 100, Remaining 98, no error", d, err)
	}
	if took := time.Since(start); took > 2*quick {
		t.Errorf("two decisions with Redis down took %v; want under %v", took, 2*quick)
	}
	if closedErrs.Load() != 1 || openErrs.Load() != 1 {
		t.Errorf("OnError called %d times fail-closed, %d fail-open; want 1 and 1", closedErrs.Load(), openErrs.Load())
	}
	// The local-first limiter took 1 + 5 units and spent 1: it spends 5
	// more without Redis, then fails as it is configured to (closed).
	for i := range 5 {
		if d, err := local.Allow(ctx, "k", 1); err != nil || !d.Allowed {
			t.Errorf("local-first Allow(k, 1) #%d with Redis down = %+v, %v; want allowed from the lease", i, d, err)
		}
	}
	if _, err := local.Allow(ctx, "k", 1); !errors.Is(err, redislimit.ErrUnavailable) {
		t.Errorf("local-first Allow(k, 1) with the lease spent and Redis down = %v; want ErrUnavailable", err)
	}
	// A caller gone is not an outage: a fail-open limiter does not allow.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if d, err := open.Allow(gone, "k", 1); err == nil || d.Allowed {
		t.Errorf("fail-open Allow with the caller's context done = %+v, %v; want an error", d, err)
	}

	srv.Restart()

	// Decisions resume once the Backoff has passed (and the clients have
	// dropped their dead connections): within a second, with room to spare.
	// A decision is Redis's when the next one sees a unit less remaining
	// (a fail-open decision always says 99).
	for name, l := range map[string]*redislimit.Limiter{"closed": closed, "open": open, "local": local} {
		var d1, d2 ratelimit.Decision
		var err1, err2 error
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			d1, err1 = l.Allow(ctx, "k", 1)
			d2, err2 = l.Allow(ctx, "k", 1)
			if err1 == nil && err2 == nil && d2.Remaining == d1.Remaining-1 {
				break
			}
		}
		// The restarted Redis has no data: the key is fresh.
		if err1 != nil || err2 != nil || !d1.Allowed || !d2.Allowed || d2.Remaining != d1.Remaining-1 || d1.Remaining < 90 {
			t.Errorf("%s: Allow(k, 1) twice after Redis is back = %+v, %v and %+v, %v; want allowed from a fresh key, one unit apart", name, d1, err1, d2, err2)
		}
	}
}

// TestRedisBlackHole: a Redis that accepts connections and never answers
// costs each decision its Timeout, not the client's seconds.
func TestRedisBlackHole(t *testing.T) {
	addr := blackHole(t)
	for _, failOpen := range []bool{false, true} {
		l := limiter(t, redislimit.Config{
			Client:   client(t, addr),
			Rate:     ratelimit.PerSecond(10),
			Timeout:  50 * time.Millisecond,
			FailOpen: failOpen,
		})
		start := time.Now()
		d, err := l.Allow(context.Background(), "k", 1)
		took := time.Since(start)
		if failOpen != d.Allowed || failOpen != (err == nil) {
			t.Errorf("FailOpen %v: Allow(k, 1) = %+v, %v; want allowed %v", failOpen, d, err, failOpen)
		}
		if took > quick {
			t.Errorf("FailOpen %v: Allow(k, 1) took %v; want under %v", failOpen, took, quick)
		}
	}
}

// TestBackoff: after a failed call, decisions skip Redis for the Backoff
// and fail at once, without calling OnError; then one tries again.
func TestBackoff(t *testing.T) {
	addr := blackHole(t)
	var errs atomic.Int64
	l := limiter(t, redislimit.Config{
		Client:  client(t, addr),
		Rate:    ratelimit.PerSecond(10),
		Timeout: 20 * time.Millisecond,
		Backoff: time.Hour,
		OnError: func(error) { errs.Add(1) },
	})
	ctx := context.Background()
	if _, err := l.Allow(ctx, "k", 1); !errors.Is(err, redislimit.ErrUnavailable) {
		t.Fatalf("Allow(k, 1) = %v; want ErrUnavailable", err)
	}
	start := time.Now()
	for range 100 {
		if d, err := l.Allow(ctx, "k", 1); !errors.Is(err, redislimit.ErrUnavailable) || d.Allowed {
			t.Fatalf("Allow(k, 1) during the backoff = %+v, %v; want refused, ErrUnavailable", d, err)
		}
	}
	if took := time.Since(start); took > quick {
		t.Errorf("100 decisions during the backoff took %v; want under %v: they must not wait for Redis", took, quick)
	}
	if n := errs.Load(); n != 1 {
		t.Errorf("OnError called %d times; want 1, for the one call made", n)
	}

	// With a short Backoff, a decision after it tries Redis again.
	short := limiter(t, redislimit.Config{
		Client:  client(t, addr),
		Rate:    ratelimit.PerSecond(10),
		Timeout: 20 * time.Millisecond,
		Backoff: time.Millisecond,
		OnError: func(error) { errs.Add(1) },
	})
	errs.Store(0)
	short.Allow(ctx, "k", 1)
	time.Sleep(2 * time.Millisecond) // past the Backoff, on the real clock it reads
	short.Allow(ctx, "k", 1)
	if n := errs.Load(); n != 2 {
		t.Errorf("OnError called %d times; want 2: a call, and one more after the Backoff", n)
	}
}
