package ratelimit

import (
	"context"
	"time"
)

// GCRA is the generic cell rate algorithm per key: each key has a
// theoretical arrival time (TAT), pushed Period/Limit further by each unit
// of cost, and a request is allowed while the TAT it would leave stays
// within Burst emission intervals of now. It enforces the same limit as
// [TokenBucket] with a single point in time as its state.
//
// The emission interval Period/Limit is rarely a whole number of
// nanoseconds, so the TAT is kept exactly, as whole nanoseconds plus a
// remainder in 1/Limit ns: no rounding accumulates. It is safe for
// concurrent use.
type GCRA struct {
	b bucket
	t table
}

// NewGCRA returns a GCRA enforcing r for each key. It fails when r is
// invalid (see [Rate.Check]) or when Burst·Period overflows.
func NewGCRA(r Rate, o Options) (*GCRA, error) {
	g := new(GCRA)
	if err := g.b.init(r); err != nil {
		return nil, err
	}
	if err := g.t.init(o, g.idle); err != nil {
		return nil, err
	}
	g.t.randomCount = true
	return g, nil
}

// Rate returns the rate g enforces, with Burst filled in.
func (g *GCRA) Rate() Rate { return g.b.rate() }

// Len returns the number of keys g holds state for.
func (g *GCRA) Len() int { return g.t.len() }

// Allow admits a request of cost for key if it conforms. A cost above Burst
// is never allowed: the Decision has CostTooHigh set and no RetryAfter.
// Allow never returns an error but [ErrCost] for a negative cost.
func (g *GCRA) Allow(_ context.Context, key string, cost int64) (Decision, error) {
	d, err := g.reserve(key, cost, 0)
	d.Booking = 0
	return d, err
}

// Reserve is Allow that may book a future slot: when the request would
// conform within maxWait, the slot is taken now and the Decision is Allowed
// with Delay set to when it is due. The caller waits Delay before going
// ahead, or calls [GCRA.Cancel] with the Decision's Booking. Slots are
// handed out in the order Reserve is called.
func (g *GCRA) Reserve(_ context.Context, key string, cost int64, maxWait time.Duration) (Decision, error) {
	return g.reserve(key, cost, g.b.clampWait(maxWait))
}

func (g *GCRA) reserve(key string, cost, maxWait int64) (Decision, error) {
	if cost < 0 {
		return Decision{}, ErrCost
	}
	var h keyHash
	key = g.t.stored(key, &h)
	now := g.t.now()
	s := g.t.shard(key)
	s.mu.Lock()
	sl := g.t.get(s, key, now)
	debt, d := g.b.decide(g.debt(&sl.st, now), cost, maxWait)
	g.setDebt(&sl.st, now, debt)
	if d.Allowed {
		sl.st[2] += cost * g.b.period
	}
	d.Booking = sl.st[2]
	s.mu.Unlock()
	return d, nil
}

// Cancel gives back what no later booking needs of a slot of cost that
// [GCRA.Reserve] booked, for a caller that gave up before its Delay
// passed; booking is the Decision's Booking. See [Reserver].
func (g *GCRA) Cancel(key string, cost, booking int64) {
	if cost <= 0 {
		return
	}
	var h keyHash
	key = g.t.stored(key, &h)
	now := g.t.now()
	s := g.t.shard(key)
	s.mu.Lock()
	if sl := s.lookup(key); sl != nil {
		debt := g.debt(&sl.st, now)
		if give := g.b.giveBack(debt, cost, sl.st[2]-booking); give > 0 {
			g.setDebt(&sl.st, now, debt-give)
			sl.st[2] -= give
		}
	}
	s.mu.Unlock()
}

// The state is st[0], the TAT's whole ns since the table's epoch, st[1],
// its remainder in [0, Limit) units of 1/Limit ns, and st[2] the scaled
// cost the key has been allowed in all, less what Cancel gave back, from
// a random start (it wraps around harmlessly): a Booking is its value
// after the booking, so that st[2] - booking is how far the TAT has moved
// past the booking's end since, and a Booking made before an eviction
// does not match the key's next state.

// debt returns how far the TAT is ahead of now, scaled by Limit.
func (g *GCRA) debt(st *state, now int64) int64 {
	ns, rem := st[0], st[1]
	if ns < now || (ns == now && rem == 0) {
		return 0
	}
	return (ns-now)*g.b.limit + rem // bounded by maxScaled + Limit
}

// setDebt sets the TAT to now plus debt.
func (g *GCRA) setDebt(st *state, now, debt int64) {
	st[0], st[1] = now+debt/g.b.limit, debt%g.b.limit
}

func (g *GCRA) idle(st *state, now int64) bool { return g.debt(st, now) == 0 }
