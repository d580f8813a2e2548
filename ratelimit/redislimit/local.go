package redislimit

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/vivremotion/gateway/ratelimit"
)

// local is the state of local-first mode: per key, the units this replica
// took from Redis and has not spent yet.
type local struct {
	batch int64
	// ttl is how long a replica keeps units unspent after its last lease
	// of the key: the Period, within [minLeaseTTL, maxLeaseTTL]. Then the
	// units are dropped and the key's state here can go.
	ttl      time.Duration
	epoch    time.Time // monotonic origin of the nanosecond times below
	seed     maphash.Seed
	perShard int // the most leases a shard holds, but for those in use
	shards   [64]shard
}

// The bounds of a lease's life. Dropped units are lost to the key until
// Redis earns them again, so a lease lives long enough for a replica that
// gets its share of a saturated key to spend it (a batch lasts Batch ×
// replicas × Period / Limit then, under a Period when Batch × replicas is
// below the Limit, as it should be); the upper bound limits the memory
// idle keys keep.
const (
	minLeaseTTL = time.Second
	maxLeaseTTL = time.Minute
)

type shard struct {
	mu sync.Mutex // guards m and every lease in it
	m  map[string]*lease
	// sweepAt is the map's size at which the next insert drops leases that
	// are over and idle.
	sweepAt int
	_       [64]byte // keeps shards' locks off each other's cache lines
}

// lease is what one replica knows of one key. Times are nanoseconds since
// local.epoch.
type lease struct {
	// held is the units taken from Redis and not yet spent, until expires.
	held    int64
	expires int64
	// reserved is the units that round trips in flight may add to held,
	// counting what they took from it and give back if they fail.
	// held+reserved never exceeds the batch: that is the overshoot bound.
	reserved int64
	flights  int32 // round trips in flight for this key
	// remaining and resetAt are Redis's answer at the last grant.
	remaining int64
	resetAt   int64
	// Redis refused deniedCost units until deniedUntil: requests of as many
	// units are refused here until then, with no round trip.
	deniedUntil int64
	deniedCost  int64
}

func newLocal(batch int64, period time.Duration, maxKeys int) *local {
	lc := &local{
		batch:    batch,
		ttl:      min(max(period, minLeaseTTL), maxLeaseTTL),
		epoch:    time.Now(),
		seed:     maphash.MakeSeed(),
		perShard: (maxKeys + 63) / 64,
	}
	for i := range lc.shards {
		lc.shards[i].m = make(map[string]*lease)
		lc.shards[i].sweepAt = 256
	}
	return lc
}

func (lc *local) shard(key string) *shard {
	return &lc.shards[maphash.String(lc.seed, key)%uint64(len(lc.shards))]
}

func (lc *local) now() int64 { return int64(time.Since(lc.epoch)) }

// allowLocal decides from the replica's lease when it holds cost units, and
// otherwise takes cost units from Redis plus enough to refill the lease to
// the batch, in one round trip.
func (l *Limiter) allowLocal(ctx context.Context, key string, cost int64) (ratelimit.Decision, error) {
	lc := l.local
	sh := lc.shard(key)
	now := lc.now()
	sh.mu.Lock()
	e := sh.m[key]
	if e == nil {
		e = &lease{}
		sh.insert(strings.Clone(key), e, now, lc.perShard)
	}
	if e.expires <= now {
		e.held = 0
	}
	if cost <= e.held {
		e.held -= cost
		d := ratelimit.Decision{
			Allowed:   true,
			Limit:     l.burst,
			Remaining: min(l.burst, e.held+e.remaining),
			Reset:     time.Duration(max(0, e.resetAt-now)),
		}
		sh.mu.Unlock()
		return d, nil
	}
	if now < e.deniedUntil && cost >= e.deniedCost {
		d := ratelimit.Decision{
			Limit:      l.burst,
			Remaining:  min(l.burst, e.held+e.remaining),
			RetryAfter: time.Duration(e.deniedUntil - now),
			Reset:      time.Duration(max(0, e.resetAt-now)),
		}
		sh.mu.Unlock()
		return d, nil
	}
	// Spend what is held, take the rest from Redis, and ask for as much
	// again as keeps held+reserved within the batch. What is held stays
	// reserved during the round trip, since it comes back if that fails.
	claimed := e.held
	e.held = 0
	least := cost - claimed
	extra := max(0, lc.batch-e.reserved-claimed)
	e.reserved += claimed + extra
	e.flights++
	sh.mu.Unlock()

	r, err := l.take(ctx, key, least, least+extra)

	now = lc.now()
	sh.mu.Lock()
	e.reserved -= claimed + extra
	e.flights--
	if err != nil || !r.allowed {
		e.held += claimed // not spent: still held
		if err == nil {
			e.deniedUntil, e.deniedCost = now+int64(r.retry), cost
			e.remaining, e.resetAt = r.remaining, now+int64(r.reset)
		}
		held := e.held
		sh.mu.Unlock()
		if err != nil {
			return l.failed(ctx, cost, err)
		}
		return ratelimit.Decision{
			Limit:      l.burst,
			Remaining:  min(l.burst, held+r.remaining),
			RetryAfter: r.retry,
			Reset:      r.reset,
		}, nil
	}
	e.held += r.granted - least
	e.expires = now + int64(lc.ttl)
	e.remaining, e.resetAt = r.remaining, now+int64(r.reset)
	e.deniedUntil = 0
	held := e.held
	sh.mu.Unlock()
	return ratelimit.Decision{
		Allowed:   true,
		Limit:     l.burst,
		Remaining: min(l.burst, held+r.remaining),
		Reset:     r.reset,
	}, nil
}

// held returns the units the replica holds of key, without adding a lease.
func (lc *local) held(key string) int64 {
	sh := lc.shard(key)
	now := lc.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.m[key]; e != nil && e.expires > now {
		return e.held
	}
	return 0
}

// insert adds a lease. It first drops the leases that hold nothing and
// wait for nothing when the map has grown enough since the last sweep, so
// that idle keys cost no memory for long and a sweep costs O(1) per insert;
// then, when the shard holds perShard leases, it drops one more.
func (sh *shard) insert(key string, e *lease, now int64, perShard int) {
	if len(sh.m) >= sh.sweepAt {
		for k, x := range sh.m {
			if x.expires <= now && x.deniedUntil <= now && x.flights == 0 {
				delete(sh.m, k)
			}
		}
		sh.sweepAt = max(256, 2*len(sh.m))
	}
	if len(sh.m) >= perShard {
		sh.evict(now)
	}
	sh.m[key] = e
}

// evictSample is how many leases a full shard looks at for one to drop.
const evictSample = 8

// evict drops, of a few leases (the map's order is random), the one that
// holds the fewest units and no round trip is using: dropping units makes
// the limit stricter, never looser, and a lease in use must stay, since
// its round trip will write to it. When every lease looked at is in use,
// it drops none and the shard grows past its bound, by at most the round
// trips in flight.
func (sh *shard) evict(now int64) {
	var victim string
	least := int64(-1)
	n := 0
	for k, x := range sh.m {
		if x.flights == 0 {
			held := x.held
			if x.expires <= now {
				held = 0
			}
			if least < 0 || held < least {
				victim, least = k, held
			}
			if held == 0 {
				break
			}
		}
		if n++; n == evictSample {
			break
		}
	}
	if least >= 0 {
		delete(sh.m, victim)
	}
}
