package balancer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a set of upstreams with the subset that is in rotation. Reading
// that subset ([Pool.Healthy]) takes no lock and allocates nothing; every
// change builds and publishes a new snapshot.
//
// Members may be added, removed and drained while the pool serves
// requests. Upstreams are grouped by [Upstream.Priority]: only the best
// group with a healthy member is in rotation.
type Pool struct {
	mu       sync.Mutex // guards all and draining, and serializes snapshot rebuilds
	all      []*Upstream
	draining map[*Upstream]bool
	healthy  atomic.Pointer[[]*Upstream]

	ejector    atomic.Pointer[ejector] // nil: no outlier ejection
	nextReturn atomic.Int64            // unix ns when the next ejected member is due back; 0: none

	checker *checker // guarded by mu; nil when no health checks run
}

// ErrNotMember is returned by [Pool.Remove] and [Pool.Drain] for an
// upstream that is not in the pool.
var ErrNotMember = errors.New("balancer: upstream is not in the pool")

// NewPool returns a pool of the upstreams at the given URLs, all healthy. It
// fails when a URL is not usable (see [NewUpstream]) or appears twice.
func NewPool(urls ...string) (*Pool, error) {
	p := &Pool{}
	seen := make(map[string]bool, len(urls))
	for _, raw := range urls {
		u, err := NewUpstream(raw)
		if err != nil {
			return nil, err
		}
		key := urlKey(u)
		if seen[key] {
			return nil, fmt.Errorf("%w %q: listed twice", ErrBadUpstream, raw)
		}
		seen[key] = true
		p.all = append(p.all, u)
		u.pool.Store(p)
	}
	p.rebuild()
	return p, nil
}

// MustPool is like [NewPool] but panics on error. It is meant for URLs
// written in the program's source.
func MustPool(urls ...string) *Pool {
	p, err := NewPool(urls...)
	if err != nil {
		panic(err)
	}
	return p
}

// PoolOf returns a pool of upstreams made elsewhere, all taken as they are.
// It fails when one is nil or has no URL.
func PoolOf(ups ...*Upstream) (*Pool, error) {
	p := &Pool{}
	for _, u := range ups {
		if u == nil || u.URL == nil {
			return nil, errors.New("balancer: nil upstream or upstream without URL")
		}
		p.all = append(p.all, u)
		u.pool.Store(p)
	}
	p.rebuild()
	return p, nil
}

// urlKey is the upstream's URL with its host in lower case, as host names
// are case-insensitive: two upstreams with the same key are the same.
func urlKey(u *Upstream) string {
	k := *u.URL
	k.Host = strings.ToLower(k.Host)
	return k.String()
}

// All returns every upstream, healthy, drained or not, in the order they
// joined. The slice is a snapshot; the caller must not modify it.
func (p *Pool) All() []*Upstream {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.all
}

// Healthy returns the upstreams in rotation: the healthy members, less those
// being drained or ejected (see [Pool.EjectOutliers]), of the best priority
// group, that is the lowest
// [Upstream.Priority] that has at least one of them. When every member of
// group 0 is down, group 1 takes the traffic, and so on; when one of group
// 0 comes back, traffic returns to it. The slice is a snapshot in pool
// order that later changes do not touch; the caller must not modify it,
// nor append to it. Policies recognize it as a snapshot and keep tables
// for it; a slice derived from it, such as one without the upstreams a
// retry has tried, is handled too, with no table.
func (p *Pool) Healthy() []*Upstream {
	if s := p.healthy.Load(); s != nil {
		return *s
	}
	return nil
}

// SetHealthy takes u into rotation (ok) or out of it. u must belong to p.
func (p *Pool) SetHealthy(u *Upstream, ok bool) {
	if u.down.Load() == !ok {
		return
	}
	u.down.Store(!ok)
	p.mu.Lock()
	p.rebuild()
	p.mu.Unlock()
}

// Add puts u in the pool, in rotation if it is healthy. It fails when u is
// nil, has no URL, or has the URL of a member. u's fields must not change
// once it is added.
func (p *Pool) Add(u *Upstream) error {
	if u == nil || u.URL == nil {
		return errors.New("balancer: nil upstream or upstream without URL")
	}
	key := urlKey(u)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.all {
		if m == u || urlKey(m) == key {
			return fmt.Errorf("%w %q: already in the pool", ErrBadUpstream, u)
		}
	}
	// A fresh slice: callers of All may still hold the old one.
	p.all = append(slices.Clip(p.all), u)
	u.pool.Store(p)
	p.rebuild()
	return nil
}

// Remove takes u out of the pool at once. Attempts in flight to u are not
// stopped; to let them end first, use [Pool.Drain]. It returns
// [ErrNotMember] when u is not in the pool.
func (p *Pool) Remove(u *Upstream) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.removeLocked(u)
}

func (p *Pool) removeLocked(u *Upstream) error {
	i := slices.Index(p.all, u)
	if i < 0 {
		return ErrNotMember
	}
	p.all = slices.Concat(p.all[:i], p.all[i+1:]) // a fresh slice, as in Add
	delete(p.draining, u)
	u.pool.CompareAndSwap(p, nil)
	u.ejectedUntil.Store(0)
	p.rebuild()
	return nil
}

// drainPoll is how often [Pool.Drain] looks at the requests in flight.
const drainPoll = 10 * time.Millisecond

// Drain takes u out of rotation at once, waits until its attempts in flight
// have ended, then removes it from the pool and returns nil. When ctx ends
// first it returns ctx's error and leaves u in the pool, out of rotation;
// [Pool.Remove] then removes it regardless, and [Pool.Undrain] puts it
// back. It returns [ErrNotMember] when u is not in the pool.
//
// Drain looks at [Upstream.Inflight] every 10ms, and never before one
// interval has passed since u left rotation: a request that read the
// pool's snapshot just before has that long to call [Upstream.Begin].
func (p *Pool) Drain(ctx context.Context, u *Upstream) error {
	p.mu.Lock()
	if !slices.Contains(p.all, u) {
		p.mu.Unlock()
		return ErrNotMember
	}
	if p.draining == nil {
		p.draining = make(map[*Upstream]bool)
	}
	p.draining[u] = true
	p.rebuild()
	p.mu.Unlock()

	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if u.Inflight() <= 0 {
			break
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.draining[u] {
		return nil // removed, or put back, meanwhile: not ours to remove
	}
	return p.removeLocked(u)
}

// Undrain puts u, out of rotation after a [Pool.Drain] that ended with its
// context, back into rotation. A Drain of u still waiting then returns nil
// without removing u. Undrain does nothing for an upstream not being
// drained.
func (p *Pool) Undrain(u *Upstream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining[u] {
		delete(p.draining, u)
		p.rebuild()
	}
}

// rebuild publishes a new snapshot of the upstreams in rotation. The caller
// holds p.mu, or is the constructor.
func (p *Pool) rebuild() {
	h := p.rotation(true)
	if len(h) == 0 {
		// Only ejected members could serve: better them than no one. Their
		// traffic is also what lets ejection judge them again and let them
		// back; with no upstream in rotation no request would reach one.
		h = p.rotation(false)
	}
	h = append(h, snapshotMark)[:len(h)] // see isSnapshot
	p.healthy.Store(&h)
}

// rotation returns the members of the best priority group that may take
// requests, leaving out the ejected ones when withoutEjected is set, with
// room for the snapshot mark. The caller holds p.mu.
func (p *Pool) rotation(withoutEjected bool) []*Upstream {
	in := func(u *Upstream) bool {
		return u.Healthy() && !p.draining[u] && !(withoutEjected && u.Ejected())
	}
	best, found := 0, false
	for _, u := range p.all {
		if in(u) && (!found || u.Priority < best) {
			best, found = u.Priority, true
		}
	}
	h := make([]*Upstream, 0, len(p.all)+1)
	for _, u := range p.all {
		if in(u) && u.Priority == best {
			h = append(h, u)
		}
	}
	return h
}
