package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrCost reports a negative cost passed to Allow or Reserve, or returned
// by a [Middleware]'s Cost func.
var ErrCost = errors.New("ratelimit: negative cost")

// maxScaled bounds the scaled quantities of bucket (Burst·Period and what
// reservations add on top), so that sums of a few of them never overflow.
const maxScaled = math.MaxInt64 / 4

// bucket is the arithmetic that [TokenBucket] and [GCRA] share; they are
// the same limit kept in two shapes of state. Everything is an integer in
// "scaled" units of ns·Limit, in which one unit of cost weighs Period (the
// emission interval Period/Limit, times Limit): no division happens until
// a figure leaves for a [Decision], so no rounding accumulates.
//
// The figure both algorithms reduce to is debt: how far the key's
// allowance is below whole, in scaled units, at now. Zero is whole; a
// request fits while debt + cost·Period ≤ Burst·Period.
type bucket struct {
	limit, period, burst int64
	burstScaled          int64 // Burst·Period
}

func (b *bucket) init(r Rate) error {
	if err := r.Check(); err != nil {
		return err
	}
	b.limit, b.period, b.burst = r.Limit, int64(r.Period), r.BurstOrLimit()
	if b.burst > maxScaled/b.period {
		return fmt.Errorf("%w: burst %d times period %v overflows", ErrRate, b.burst, r.Period)
	}
	b.burstScaled = b.burst * b.period
	return nil
}

// rate returns the Rate b enforces, with Burst filled in.
func (b *bucket) rate() Rate {
	return Rate{Limit: b.limit, Period: time.Duration(b.period), Burst: b.burst}
}

// clampWait bounds a reservation's wait so that the debt it leaves stays
// within maxScaled.
func (b *bucket) clampWait(maxWait time.Duration) int64 {
	if maxWait <= 0 {
		return 0
	}
	return min(int64(maxWait), maxScaled/b.limit)
}

// decide answers a request of cost at debt, allowing it after a wait of up
// to maxWait ns. It returns the debt after the request (debt itself when
// refused).
func (b *bucket) decide(debt, cost, maxWait int64) (int64, Decision) {
	d := Decision{Limit: b.burst}
	if cost > b.burst {
		// No wait helps: the request can never fit.
		d.CostTooHigh = true
		d.Remaining = max(0, (b.burstScaled-debt)/b.period) // bookings may run debt past the burst
		d.Reset = b.toDuration(debt)
		return debt, d
	}
	after := debt + cost*b.period
	if over := after - b.burstScaled; over > 0 {
		wait := ceilDiv(over, b.limit)
		if wait > maxWait {
			d.RetryAfter = time.Duration(wait)
			d.Remaining = max(0, (b.burstScaled-debt)/b.period)
			d.Reset = b.toDuration(debt)
			return debt, d
		}
		d.Delay = time.Duration(wait)
	}
	d.Allowed = true
	d.Remaining = max(0, (b.burstScaled-after)/b.period)
	d.Reset = b.toDuration(after)
	return after, d
}

// giveBack returns what a cancelled booking of cost gives back to a key
// at debt, when moved is how much was booked on the key after it, less
// what cancellations gave back since, in scaled units. It gives back the
// cost only when nothing booked later remains (moved is zero) and the
// booking is not due yet (its end beyond the burst from now): giving back
// time that a later booking holds would let newcomers go before it, and
// with it more than the Rate pass. It is never more than debt, and a cost
// beyond the burst, which no booking can have, counts as the burst, so a
// Cancel only ever gives back.
func (b *bucket) giveBack(debt, cost, moved int64) int64 {
	if moved != 0 || debt <= b.burstScaled {
		return 0
	}
	return min(min(cost, b.burst)*b.period, debt) // ≤ burstScaled: no overflow
}

// toDuration converts a debt to the time it takes to repay, rounded up.
func (b *bucket) toDuration(debt int64) time.Duration {
	if debt <= 0 {
		return 0
	}
	return time.Duration(ceilDiv(debt, b.limit))
}

// ceilDiv returns ⌈a/b⌉ for a ≥ 0 and b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
