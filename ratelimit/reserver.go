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
	// Cancel is called for a caller that gave up before its Delay passed,
	// with the cost it reserved and the Booking of its Decision. It gives
	// back only what no later booking of key needs: the whole cost when
	// nothing booked after it remains (those that were cancelled gave
	// theirs back first), else nothing, and nothing once the booking is
	// due. So bookings keep their slots and their order whatever their
	// costs, and booking ahead on many connections and leaving never lets
	// a key spend more than its Rate; what a cancelled booking in the
	// middle of the line held is lost to the key, which errs on the strict
	// side. Cancel only ever gives allowance back, and a Booking made
	// before the key's state was evicted (see [Options]) gives nothing back
	// to the state it has since.
	Cancel(key string, cost, booking int64)
}
