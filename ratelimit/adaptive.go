package ratelimit

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// AdaptiveConfig tunes an [Adaptive] limit. The zero value works.
type AdaptiveConfig struct {
	// Initial is the limit to start from. Zero means 20, or the nearer of
	// Min and Max when 20 is outside them.
	Initial int
	// Min is the lowest the limit goes. Zero means 1.
	Min int
	// Max is the highest the limit goes. Zero means 1000.
	Max int
	// Tolerance is how many times the baseline latency a request may take
	// before it counts as a sign of congestion. Zero means 1.5; it must be
	// above 1.
	Tolerance float64
	// Backoff is what the limit is multiplied by on congestion, at most
	// once per round trip. Zero means 0.9; it must be in (0, 1).
	Backoff float64
	// Window is how long the baseline (the least latency seen) is
	// remembered: the baseline is the least of the current and the
	// previous window, so it follows an upstream that became slower for
	// good within two windows. Zero means 10s.
	Window time.Duration
}

// Adaptive limits the requests in flight to an upstream to a limit it
// learns, so that load is shed before the upstream collapses. It is an
// AIMD (additive increase, multiplicative decrease) controller driven by
// latency: the baseline is the least latency seen lately; a request that
// takes more than Tolerance times the baseline (or that [Adaptive.Done] is
// told failed from overload) is congestion
// and cuts the limit by Backoff, at most once per round trip; a request
// that returns in time while the limit is at least half used raises the
// limit by one per limit's worth of requests. The limit settles where
// queueing at the upstream starts to add latency.
//
// AIMD was chosen over a gradient (as in Netflix's gradient2) because it
// has two constants with a plain meaning and no smoothing to tune. It is
// safe for concurrent use.
type Adaptive struct {
	cfg AdaptiveConfig

	mu           sync.Mutex // guards the fields below
	limit        float64
	inFlight     int
	curMin       time.Duration // least latency of the current window
	prevMin      time.Duration // and of the previous one
	windowStart  time.Time
	lastDecrease time.Time
}

// NewAdaptive returns an Adaptive tuned by c. It fails for a value out of
// its range.
func NewAdaptive(c AdaptiveConfig) (*Adaptive, error) {
	if c.Min == 0 {
		c.Min = 1
	}
	if c.Max == 0 {
		c.Max = 1000
	}
	if c.Initial == 0 {
		c.Initial = min(max(20, c.Min), c.Max)
	}
	if c.Tolerance == 0 {
		c.Tolerance = 1.5
	}
	if c.Backoff == 0 {
		c.Backoff = 0.9
	}
	if c.Window == 0 {
		c.Window = 10 * time.Second
	}
	switch {
	case c.Min < 0 || c.Max < c.Min:
		return nil, fmt.Errorf("ratelimit: adaptive limits min %d, max %d are out of order", c.Min, c.Max)
	case c.Initial < c.Min || c.Initial > c.Max:
		return nil, fmt.Errorf("ratelimit: adaptive initial limit %d is outside [%d, %d]", c.Initial, c.Min, c.Max)
	case !(c.Tolerance > 1):
		return nil, fmt.Errorf("ratelimit: adaptive tolerance %v is not above 1", c.Tolerance)
	case !(c.Backoff > 0 && c.Backoff < 1):
		return nil, fmt.Errorf("ratelimit: adaptive backoff %v is outside (0, 1)", c.Backoff)
	case c.Window < 0:
		return nil, fmt.Errorf("ratelimit: adaptive window %v is negative", c.Window)
	}
	return &Adaptive{cfg: c, limit: float64(c.Initial), windowStart: time.Now()}, nil
}

// Limit returns the current limit.
func (a *Adaptive) Limit() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.limit)
}

// InFlight returns the requests admitted and not yet done.
func (a *Adaptive) InFlight() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inFlight
}

// Acquire admits a request if fewer than the limit are in flight. Each
// true return must be paired with one [Adaptive.Done].
func (a *Adaptive) Acquire() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inFlight >= int(a.limit) {
		return false
	}
	a.inFlight++
	return true
}

// Done records the end of an admitted request: how long it took, and
// whether it failed in a way that signals overload (a timeout, a 503).
// A Done with nothing in flight (one Acquire did not pair) leaves the
// count at zero.
func (a *Adaptive) Done(latency time.Duration, overloaded bool) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	inFlight := a.inFlight
	a.inFlight = max(0, a.inFlight-1)
	if now.Sub(a.windowStart) >= a.cfg.Window {
		a.prevMin, a.curMin, a.windowStart = a.curMin, 0, now
	}
	if latency > 0 && (a.curMin == 0 || latency < a.curMin) {
		a.curMin = latency
	}
	base := a.curMin
	if a.prevMin > 0 && a.prevMin < base {
		base = a.prevMin
	}
	if overloaded || float64(latency) > a.cfg.Tolerance*float64(base) {
		// One cut per round trip: the requests that finish in the same
		// round trip saw the same congestion.
		if now.Sub(a.lastDecrease) >= latency {
			a.limit = max(float64(a.cfg.Min), a.limit*a.cfg.Backoff)
			a.lastDecrease = now
		}
		return
	}
	if 2*inFlight >= int(a.limit) {
		a.limit = min(float64(a.cfg.Max), a.limit+1/a.limit)
	}
}

// Middleware returns a middleware that sheds requests over the limit with
// 503 and the JSON error body, and feeds the latency of the next handler
// to the limit. Put it in front of the upstream it protects. It sees
// latency alone: a fast failure (a 503 the upstream answers at once)
// counts as a request that returned in time. Code that knows a request
// failed from overload calls [Adaptive.Acquire] and [Adaptive.Done]
// itself, with overloaded set.
func (a *Adaptive) Middleware() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !a.Acquire() {
				writeBody(w, r, http.StatusServiceUnavailable, bodyBusy)
				return
			}
			start := time.Now()
			defer func() { a.Done(time.Since(start), false) }()
			next.ServeHTTP(w, r)
		})
	}
}
