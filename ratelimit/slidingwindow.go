package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// SlidingWindow is a per-key sliding window counter: it counts cost in
// fixed windows of Period and weighs the previous window's count by the
// share of it the sliding window still covers, so that a key may spend
// about Limit in any Period without the burst at window edges of a fixed
// window. It keeps two counts per key and is safe for concurrent use.
//
// The estimate assumes the previous window's cost was spread evenly, so a
// key can exceed Limit within a Period by what that assumption misses.
type SlidingWindow struct {
	limit, period int64
	t             table
}

// NewSlidingWindow returns a SlidingWindow allowing r.Limit per r.Period for
// each key. A window has no burst of its own: r.Burst must be zero or equal
// to r.Limit.
func NewSlidingWindow(r Rate, o Options) (*SlidingWindow, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	if r.Burst != 0 && r.Burst != r.Limit {
		return nil, fmt.Errorf("%w: a sliding window has no burst apart from its limit (burst %d, limit %d)", ErrRate, r.Burst, r.Limit)
	}
	if r.Limit > maxScaled/int64(r.Period) {
		return nil, fmt.Errorf("%w: limit %d times period %v overflows", ErrRate, r.Limit, r.Period)
	}
	w := &SlidingWindow{limit: r.Limit, period: int64(r.Period)}
	if err := w.t.init(o, w.idle); err != nil {
		return nil, err
	}
	return w, nil
}

// Rate returns the rate w enforces.
func (w *SlidingWindow) Rate() Rate {
	return Rate{Limit: w.limit, Period: time.Duration(w.period), Burst: w.limit}
}

// Len returns the number of keys w holds state for.
func (w *SlidingWindow) Len() int { return w.t.len() }

// Allow counts cost for key if the weighted count stays within Limit. A
// cost above Limit is never allowed: the Decision has CostTooHigh set and
// no RetryAfter. Allow never returns an error but [ErrCost] for a negative
// cost.
func (w *SlidingWindow) Allow(_ context.Context, key string, cost int64) (Decision, error) {
	if cost < 0 {
		return Decision{}, ErrCost
	}
	var h keyHash
	key = w.t.stored(key, &h)
	now := w.t.now()
	s := w.t.shard(key)
	s.mu.Lock()
	sl := w.t.get(s, key, now)
	prev, cur, e := w.roll(&sl.st, now)
	d := w.decide(&sl.st, prev, cur, e, cost)
	s.mu.Unlock()
	return d, nil
}

// The state is st[0], the index of the current window since the table's
// epoch, st[1] the previous window's count and st[2] the current one's.

// roll moves st to now's window and returns the two counts and the time
// elapsed in the current window.
func (w *SlidingWindow) roll(st *state, now int64) (prev, cur, elapsed int64) {
	idx := now / w.period
	switch idx - st[0] {
	case 0:
	case 1:
		st[1], st[2] = st[2], 0
	default:
		st[1], st[2] = 0, 0
	}
	st[0] = idx
	return st[1], st[2], now - idx*w.period
}

func (w *SlidingWindow) decide(st *state, prev, cur, e, cost int64) Decision {
	p, l := w.period, w.limit
	d := Decision{Limit: l}
	used := prev*(p-e) + cur*p // weighted count, scaled by Period
	if cost > l {
		d.CostTooHigh = true
	} else if used+cost*p <= l*p {
		d.Allowed = true
		cur += cost
		st[2] = cur
		used += cost * p
	} else {
		d.RetryAfter = time.Duration(w.wait(prev, cur, e, cost))
	}
	d.Remaining = max(0, (l*p-used)/p)
	switch {
	case cur > 0:
		d.Reset = time.Duration(2*p - e)
	case prev > 0:
		d.Reset = time.Duration(p - e)
	}
	return d
}

// wait returns how long until a refused request of cost fits, in ns.
func (w *SlidingWindow) wait(prev, cur, e, cost int64) int64 {
	p, l := w.period, w.limit
	if room := l - cur - cost; room >= 0 && prev > 0 {
		// It fits later in this window, once prev weighs little enough:
		// prev·(p-e') ≤ room·p.
		return p - room*p/prev - e
	}
	// It fits in the next window, where cur becomes the previous count:
	// cur·(p-e') ≤ (l-cost)·p.
	next := int64(0)
	if cur > 0 {
		next = p - (l-cost)*p/cur
	}
	return p - e + max(0, next)
}

func (w *SlidingWindow) idle(st *state, now int64) bool {
	switch now/w.period - st[0] {
	case 0:
		return st[1] == 0 && st[2] == 0
	case 1:
		return st[2] == 0
	}
	return true
}
