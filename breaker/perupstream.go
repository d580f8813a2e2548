package breaker

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
	"weak"

	"github.com/vivremotion/gateway/balancer"
)

// PerUpstream keeps one [Breaker] for each upstream, so that a failing
// upstream has its circuit opened while its pool's others go on serving.
// Its Allow and Done have the method set of the gateway's
// UpstreamBreaker, which a Proxy calls for each attempt with the
// upstream its balancer picked.
//
// Each upstream's breaker is made at its first call, with the
// [Settings] given to [NewPerUpstream] and named by the upstream's URL.
// Finding it takes no lock and allocates nothing: the breakers are in a
// map that is replaced whole, under a lock, when one is added, and read
// through an atomic pointer. Adding a breaker thus copies the map, which
// suits pools of up to some thousands of upstreams, each added once.
//
// The map holds its upstreams by weak pointers, so it does not keep alive
// an upstream that was removed from its pool and dropped. Each time a
// breaker is added, the entries of upstreams that the garbage collector
// has reclaimed are dropped: the map never holds more entries than the
// most upstreams alive at one time, plus those reclaimed since the last
// addition.
//
// Each time an upstream's circuit opens (it trips, or its probes fail),
// the upstream is taken out of its pool's rotation for the open time with
// [balancer.Upstream.Eject]: the pool's balancer then spreads the load
// over the others as if it were gone, instead of picking it to be
// refused, and a lower priority group takes over when a whole group is
// open. It comes back with the pool's first outcome after the open time,
// to be picked for its probes; should no other member be able to serve,
// it serves while ejected, as the pool's ejected members do. The
// ejection is made after the change of state, with no lock of the
// breaker held, in the order of the changes and before the change's
// OnStateChange; it is not made once the open time has passed, nor for
// an upstream in no pool or reclaimed.
//
// A probe holds its place until its Done: a long stream to an upstream
// whose circuit is half-open keeps the other attempts at it refused
// until the stream ends (see [Settings.HalfOpenProbes]).
//
// A PerUpstream is safe for concurrent use.
type PerUpstream struct {
	s Settings // checked, with defaults

	m  atomic.Pointer[map[uintptr]*upstreamBreaker] // read without a lock; replaced whole under mu
	mu sync.Mutex                                   // serializes the replacements of m

	// notClosed counts the breakers that are open or half-open, for
	// OpenCount. A reclaimed upstream's breaker that was not closed stays
	// counted until it is dropped from m.
	notClosed atomic.Int64
}

// upstreamBreaker is an entry of the map, keyed by the upstream's address.
// The address is only a key: the entry belongs to the upstream only while
// u points to it, as a new upstream may take the address of a reclaimed one.
type upstreamBreaker struct {
	u weak.Pointer[balancer.Upstream]
	b *Breaker
}

// NewPerUpstream returns a PerUpstream whose breakers are configured by
// s. It panics with the error of [Settings.Check] when s is not valid.
// Each breaker's OnStateChange name is the upstream's URL, after
// [Settings.Name] and a space when that is set.
func NewPerUpstream(s Settings) *PerUpstream {
	if err := s.Check(); err != nil {
		panic(err)
	}
	return &PerUpstream{s: s.withDefaults()}
}

// key returns the map key of u: its address.
func key(u *balancer.Upstream) uintptr { return uintptr(unsafe.Pointer(u)) }

// lookup returns u's breaker, or nil when it has none.
func (p *PerUpstream) lookup(u *balancer.Upstream) *Breaker {
	if m := p.m.Load(); m != nil {
		if e := (*m)[key(u)]; e != nil && e.u.Value() == u {
			return e.b
		}
	}
	return nil
}

// For returns u's breaker, made at the first call for u. It allocates
// nothing once the breaker is made.
func (p *PerUpstream) For(u *balancer.Upstream) *Breaker {
	if b := p.lookup(u); b != nil {
		return b
	}
	return p.add(u)
}

// add makes u's breaker, unless another goroutine did it first, and drops
// the entries of reclaimed upstreams.
func (p *PerUpstream) add(u *balancer.Upstream) *Breaker {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.lookup(u); b != nil {
		return b
	}
	var old map[uintptr]*upstreamBreaker
	if m := p.m.Load(); m != nil {
		old = *m
	}
	m := make(map[uintptr]*upstreamBreaker, len(old)+1)
	for k, e := range old {
		if e.u.Value() != nil {
			m[k] = e
		} else {
			e.b.forget()
		}
	}
	name := u.String()
	if p.s.Name != "" {
		name = p.s.Name + " " + name
	}
	b := newBreaker(p.s, name)
	b.notClosed = &p.notClosed
	e := &upstreamBreaker{u: weak.Make(u), b: b}
	b.upstream, b.ejects = e.u, true
	m[key(u)] = e
	p.m.Store(&m)
	return b
}

// Len returns the number of breakers held: one per upstream called,
// less those dropped once their upstreams were reclaimed.
func (p *PerUpstream) Len() int {
	if m := p.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// Allow admits an attempt at u, or refuses it with an [*OpenError] that
// wraps [errs.ErrCircuitOpen], as [Breaker.Allow] does with u's breaker.
func (p *PerUpstream) Allow(u *balancer.Upstream) (ticket uint64, err error) {
	return p.For(u).Allow()
}

// Done records the outcome of an attempt at u that [PerUpstream.Allow]
// admitted with ticket, as [Breaker.Done] does with u's breaker.
func (p *PerUpstream) Done(u *balancer.Upstream, ticket uint64, o balancer.Outcome) {
	if b := p.lookup(u); b != nil {
		b.Done(ticket, o)
	}
}

// DoneAt is [PerUpstream.Done] for a caller that holds the time the
// attempt ended; see [Breaker.DoneAt].
func (p *PerUpstream) DoneAt(u *balancer.Upstream, ticket uint64, o balancer.Outcome, now time.Time) {
	if b := p.lookup(u); b != nil {
		b.DoneAt(ticket, o, now)
	}
}

// State returns the state of u's circuit: [Closed] for an upstream not
// called yet.
func (p *PerUpstream) State(u *balancer.Upstream) State {
	if b := p.lookup(u); b != nil {
		return b.State()
	}
	return Closed
}

// forget takes b, whose upstream was reclaimed, out of its PerUpstream's
// OpenCount.
func (b *Breaker) forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notClosed != nil && b.State() != Closed {
		b.notClosed.Add(-1)
	}
	b.notClosed = nil
}

// OpenCount returns how many of the breakers are open or half-open now.
// It is one atomic load: a Proxy asks it for every attempt, and looks at
// each upstream with [PerUpstream.Open] only while it is above zero.
func (p *PerUpstream) OpenCount() int { return int(p.notClosed.Load()) }

// Open reports whether an attempt at u would be refused now: its circuit
// is open and its open time not over, or it is half-open with all its
// probes out. A balancer may skip the upstreams for which it is true. It
// makes no breaker and changes no state, and allocates nothing.
func (p *PerUpstream) Open(u *balancer.Upstream) bool {
	if b := p.lookup(u); b != nil {
		return b.refusing()
	}
	return false
}
