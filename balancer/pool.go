package balancer

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// Pool is a set of upstreams with the subset that is healthy. Reading the
// healthy set takes no lock and allocates nothing; changes build a new
// snapshot.
type Pool struct {
	mu      sync.Mutex // guards all and serializes snapshot rebuilds
	all     []*Upstream
	healthy atomic.Pointer[[]*Upstream]
}

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
		k := *u.URL
		k.Host = strings.ToLower(k.Host) // host names are case-insensitive
		key := k.String()
		if seen[key] {
			return nil, fmt.Errorf("%w %q: listed twice", ErrBadUpstream, raw)
		}
		seen[key] = true
		p.all = append(p.all, u)
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
	}
	p.rebuild()
	return p, nil
}

// All returns every upstream, healthy or not. The caller must not modify
// the slice.
func (p *Pool) All() []*Upstream {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.all
}

// Healthy returns the upstreams in rotation. The slice is a snapshot that
// later changes do not touch; the caller must not modify it.
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

// rebuild publishes a new healthy snapshot. The caller holds p.mu, or is
// the constructor.
func (p *Pool) rebuild() {
	h := make([]*Upstream, 0, len(p.all))
	for _, u := range p.all {
		if u.Healthy() {
			h = append(h, u)
		}
	}
	p.healthy.Store(&h)
}
