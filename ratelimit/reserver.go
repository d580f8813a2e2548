package ratelimit

import (
	"context"
	"time"
)

// Reserver is a [Limiter] that can book a future slot, which is what the
// throttling mode of [Middleware] needs: a request that does not fit now
// but will within maxWait takes its slot at once, in arrival order, and
// waits for it instead of being refused.
//
// [TokenBucket] and [GCRA] are Reservers.
type Reserver interface {
	Limiter
	// Reserve is Allow that may book ahead: when the request fits within
	// maxWait, its cost is spent now and the Decision is Allowed with Delay
	// set to the wait. A request that does not fit within maxWait is
	// refused as Allow would refuse it, and spends nothing.
	Reserve(ctx context.Context, key string, cost int64, maxWait time.Duration) (Decision, error)
	// Cancel gives back cost booked by Reserve for key, for a caller that
	// gave up before its Delay passed. Later bookings keep their slots;
	// the cost returned goes to those who come next.
	Cancel(key string, cost int64)
}
