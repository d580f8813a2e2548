package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"time"
	"unsafe"

	"github.com/vivremotion/gateway/internal/errs"
)

// Concurrency limits how many requests of each key are in flight at once.
// A request over the limit is refused, or waits up to a given time for a
// slot, in arrival order. It is safe for concurrent use.
//
// Its per-key state lives in the same sharded store as the rate limiters:
// a key with nothing in flight and nobody waiting is idle and is dropped
// when its slot is wanted. A key with requests in flight or waiting is
// never evicted, so its count and its line are never lost: when the keys
// of a shard are all busy, a new key is stored past MaxKeys. Memory is
// then bounded by MaxKeys plus one slot per request in flight or waiting,
// which the server's own bound on connections bounds.
type Concurrency struct {
	max int64
	t   table
	// queues holds the waiters of each key that has some, one map per
	// shard, guarded by the shard's mutex and keyed by the store's own
	// copy of the key.
	queues [numShards]map[string][]*waiter
}

type waiter struct {
	ch      chan struct{}
	granted bool // set under the shard lock when a slot is handed over
}

// NewConcurrency returns a Concurrency allowing max requests in flight per
// key. It fails when max is not positive.
func NewConcurrency(max int64, o Options) (*Concurrency, error) {
	if max <= 0 {
		return nil, fmt.Errorf("ratelimit: concurrency %d is not positive", max)
	}
	c := &Concurrency{max: max}
	if err := c.t.init(o, c.idle); err != nil {
		return nil, err
	}
	c.t.keepBusy = true
	for i := range c.queues {
		c.queues[i] = make(map[string][]*waiter)
	}
	return c, nil
}

// The state is st[0], the requests in flight, and st[1], the waiters.
func (c *Concurrency) idle(st *state, _ int64) bool { return st[0] == 0 && st[1] == 0 }

// InFlight returns the number of key's requests in flight.
func (c *Concurrency) InFlight(key string) int64 {
	var h keyHash
	key = c.t.stored(key, &h)
	s := c.t.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl := s.lookup(key); sl != nil {
		return sl.st[0]
	}
	return 0
}

// Acquire takes one of key's slots, waiting up to maxWait for one in
// arrival order. It returns nil with the slot taken, the gateway's
// ErrRateLimited when none came free in time, or ctx's error. Each nil
// return must be paired with one [Concurrency.Release]. A call that waits
// holds one timer and one channel while it waits; one that takes a slot
// at once, or is refused at once, allocates nothing.
func (c *Concurrency) Acquire(ctx context.Context, key string, maxWait time.Duration) error {
	var h keyHash
	key = c.t.stored(key, &h)
	si := c.t.shardIndex(key)
	s := &c.t.shards[si]
	s.mu.Lock()
	sl := c.t.get(s, key, c.t.now())
	if sl.st[0] < c.max && sl.st[1] == 0 {
		sl.st[0]++
		s.mu.Unlock()
		return nil
	}
	if maxWait <= 0 {
		s.mu.Unlock()
		return errs.ErrRateLimited
	}
	w := &waiter{ch: make(chan struct{})}
	k := sl.key
	c.queues[si][k] = append(c.queues[si][k], w)
	sl.st[1]++
	s.mu.Unlock()

	t := time.NewTimer(maxWait)
	defer t.Stop()
	var err error
	select {
	case <-w.ch:
		return nil
	case <-t.C:
		err = errs.ErrRateLimited
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	if w.granted {
		// The slot came as we gave up: pass it on.
		s.mu.Unlock()
		c.release(key)
		return err
	}
	q := c.queues[si][k]
	for i, x := range q {
		if x == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	c.setQueue(si, k, q)
	if sl := s.lookup(key); sl != nil {
		sl.st[1]--
	}
	s.mu.Unlock()
	return err
}

// Release gives back a slot taken by [Concurrency.Acquire], to the first
// waiter of key when there is one.
func (c *Concurrency) Release(key string) {
	var h keyHash
	c.release(c.t.stored(key, &h))
}

// release is Release of a key in its stored form.
func (c *Concurrency) release(key string) {
	si := c.t.shardIndex(key)
	s := &c.t.shards[si]
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.lookup(key)
	if sl == nil {
		return
	}
	if q := c.queues[si][sl.key]; len(q) > 0 {
		w := q[0]
		q[0] = nil
		c.setQueue(si, sl.key, q[1:])
		sl.st[1]--
		w.granted = true
		close(w.ch) // the slot passes to w: in flight stays the same
		return
	}
	if sl.st[0] > 0 {
		sl.st[0]--
	}
}

func (c *Concurrency) setQueue(si uint64, k string, q []*waiter) {
	if len(q) == 0 {
		delete(c.queues[si], k)
		return
	}
	c.queues[si][k] = q
}

// Middleware returns a middleware that holds one of the key's slots (key
// nil: [ByIP]) for each request while the next handler runs, waiting up to
// maxWait for one. A request that gets none is refused with 429 and the
// JSON error body.
func (c *Concurrency) Middleware(key KeyFunc, maxWait time.Duration) func(http.Handler) http.Handler {
	if key == nil {
		key = ByIP
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kb := keyBufs.Get().(*keyBuf)
			defer putKeyBuf(kb)
			kb.b = key(kb.b[:0], r)
			k := unsafe.String(unsafe.SliceData(kb.b), len(kb.b))
			switch err := c.Acquire(r.Context(), k, maxWait); {
			case err == nil:
			case r.Context().Err() != nil:
				return // the client left
			default:
				writeBody(w, r, http.StatusTooManyRequests, bodyLimited)
				return
			}
			defer c.Release(k)
			next.ServeHTTP(w, r)
		})
	}
}
