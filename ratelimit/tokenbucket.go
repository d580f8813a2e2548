package ratelimit

import (
	"context"
	"time"
)

// TokenBucket is a per-key token bucket: each key holds up to Burst tokens,
// refilled at Limit per Period, and a request takes cost tokens. It counts
// in integer nanoseconds scaled by Limit, so that no rounding accumulates
// however long a key lives (see the # Performance section of the package
// documentation for why this is not golang.org/x/time/rate underneath).
//
// A key's state is three words: its debt (the tokens missing, scaled),
// when it was last refilled, and the scaled cost it was allowed in all
// less what Cancel gave back, which places a booking in line. It is safe
// for concurrent use.
type TokenBucket struct {
	b bucket
	t table
}

// NewTokenBucket returns a TokenBucket enforcing r for each key. It fails
// when r is invalid (see [Rate.Check]) or when Burst·Period overflows.
func NewTokenBucket(r Rate, o Options) (*TokenBucket, error) {
	tb := new(TokenBucket)
	if err := tb.b.init(r); err != nil {
		return nil, err
	}
	if err := tb.t.init(o, tb.idle); err != nil {
		return nil, err
	}
	tb.t.randomCount = true
	return tb, nil
}

// Rate returns the rate tb enforces, with Burst filled in.
func (tb *TokenBucket) Rate() Rate { return tb.b.rate() }

// Len returns the number of keys tb holds state for.
func (tb *TokenBucket) Len() int { return tb.t.len() }

// Allow spends cost tokens of key's bucket if it holds them. A cost above
// Burst is never allowed: the Decision has CostTooHigh set and no
// RetryAfter. Allow never returns an error but [ErrCost] for a negative
// cost.
func (tb *TokenBucket) Allow(_ context.Context, key string, cost int64) (Decision, error) {
	d, err := tb.reserve(key, cost, 0)
	d.Booking = 0
	return d, err
}

// Reserve is Allow that may book tokens not yet refilled: when key's bucket
// will hold cost tokens within maxWait, they are taken now and the Decision
// is Allowed with Delay set to when they are due. The caller waits Delay
// before going ahead, or calls [TokenBucket.Cancel] with the Decision's
// Booking. Bookings are served in the order they were made.
func (tb *TokenBucket) Reserve(_ context.Context, key string, cost int64, maxWait time.Duration) (Decision, error) {
	return tb.reserve(key, cost, tb.b.clampWait(maxWait))
}

func (tb *TokenBucket) reserve(key string, cost, maxWait int64) (Decision, error) {
	if cost < 0 {
		return Decision{}, ErrCost
	}
	var h keyHash
	key = tb.t.stored(key, &h)
	now := tb.t.now()
	s := tb.t.shard(key)
	s.mu.Lock()
	sl := tb.t.get(s, key, now)
	debt := tb.refill(&sl.st, now)
	debt, d := tb.b.decide(debt, cost, maxWait)
	sl.st[0], sl.st[1] = debt, now
	if d.Allowed {
		sl.st[2] += cost * tb.b.period
	}
	d.Booking = sl.st[2]
	s.mu.Unlock()
	return d, nil
}

// Cancel gives back what no later booking needs of cost tokens that
// [TokenBucket.Reserve] booked, for a caller that gave up before its Delay
// passed; booking is the Decision's Booking. See [Reserver].
func (tb *TokenBucket) Cancel(key string, cost, booking int64) {
	if cost <= 0 {
		return
	}
	var h keyHash
	key = tb.t.stored(key, &h)
	now := tb.t.now()
	s := tb.t.shard(key)
	s.mu.Lock()
	if sl := s.lookup(key); sl != nil {
		debt := tb.refill(&sl.st, now)
		if give := tb.b.giveBack(debt, cost, sl.st[2]-booking); give > 0 {
			sl.st[0], sl.st[1] = debt-give, now
			sl.st[2] -= give
		}
	}
	s.mu.Unlock()
}

// refill returns the debt of st at now: its stored debt less what was
// refilled since.
func (tb *TokenBucket) refill(st *state, now int64) int64 {
	debt, last := st[0], st[1]
	if dt := now - last; dt > 0 && debt > 0 {
		if dt >= ceilDiv(debt, tb.b.limit) {
			return 0
		}
		debt -= dt * tb.b.limit // dt·Limit < debt + Limit: no overflow
	}
	return debt
}

func (tb *TokenBucket) idle(st *state, now int64) bool { return tb.refill(st, now) == 0 }
