package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limiter decides whether a request may go ahead. key identifies who is
// limited (a client address, an API key, a tenant, a route) and cost is what
// the request spends: 1 for a plain request, more for an expensive endpoint
// or for a number of tokens.
//
// key is valid only for the duration of the call: a Limiter that keeps it,
// as the key of its per-key state, copies it first (strings.Clone). The
// middleware in this package passes keys built in pooled buffers, so that
// composite keys cost no allocation.
//
// An error means the limiter could not decide (a shared store that cannot
// be reached, say); a limiter meant to fail open returns an allowing
// [Decision] and no error instead. The interface has the same method set as
// the gateway's Proxy.Limiter, so every Limiter plugs into a Proxy as it is.
type Limiter interface {
	Allow(ctx context.Context, key string, cost int64) (Decision, error)
}

// Rate is a limit: Limit units of cost per Period, with bursts of up to
// Burst units at once.
type Rate struct {
	// Limit is how many units of cost a key may spend per Period.
	Limit int64
	// Period is the window Limit applies to.
	Period time.Duration
	// Burst is the most a key may spend at once after being idle. Zero
	// means Limit.
	Burst int64
}

// ErrRate reports a [Rate] that cannot be enforced.
var ErrRate = errors.New("ratelimit: invalid rate")

// PerSecond returns a Rate of n units per second with a burst of n.
func PerSecond(n int64) Rate { return Rate{Limit: n, Period: time.Second} }

// PerMinute returns a Rate of n units per minute with a burst of n.
func PerMinute(n int64) Rate { return Rate{Limit: n, Period: time.Minute} }

// Check reports whether r can be enforced: Limit and Period positive and
// Burst not negative. The constructors in this package call it, so that a
// bad rate fails when the gateway is built, never per request.
func (r Rate) Check() error {
	switch {
	case r.Limit <= 0:
		return fmt.Errorf("%w: limit %d is not positive", ErrRate, r.Limit)
	case r.Period <= 0:
		return fmt.Errorf("%w: period %v is not positive", ErrRate, r.Period)
	case r.Burst < 0:
		return fmt.Errorf("%w: burst %d is negative", ErrRate, r.Burst)
	}
	return nil
}

// BurstOrLimit returns Burst, or Limit when Burst is zero.
func (r Rate) BurstOrLimit() int64 {
	if r.Burst == 0 {
		return r.Limit
	}
	return r.Burst
}

// String formats r as "10/1s (burst 20)".
func (r Rate) String() string {
	return fmt.Sprintf("%d/%v (burst %d)", r.Limit, r.Period, r.BurstOrLimit())
}
