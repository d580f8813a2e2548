package balancer

import (
	"errors"
	"time"
)

// Ejector configures passive outlier ejection for a [Pool]: an upstream
// whose answers fail is taken out of rotation for a while, judged only by
// the outcomes of real requests. Turn it on with [Pool.EjectOutliers]. Its
// zero value ejects after 5 failures in a row, for 30s the first time, and
// never more than 10% of the pool.
//
// A failure is an [Outcome] that [Outcome.Failed]: a 5xx status, a timeout
// or a connection error. A canceled or refused attempt does not count
// either way.
type Ejector struct {
	// Consecutive ejects an upstream after this many failures in a row.
	// Zero means 5; a negative value turns this test off.
	Consecutive int
	// ErrorRate ejects an upstream when this fraction of its attempts in
	// the current window failed, once there were at least MinRequests of
	// them. Zero turns this test off; it must be at most 1.
	ErrorRate float64
	// Window is the length of the windows ErrorRate counts in. Windows
	// follow one another: counts start from zero in each. Zero means 10s.
	Window time.Duration
	// MinRequests is how many attempts a window needs before ErrorRate
	// applies. Zero means 20.
	MinRequests int
	// BaseEjection is how long the first ejection lasts. The n-th ejection
	// in a row lasts n times as long, up to MaxEjection; an upstream that
	// stays in rotation for MaxEjection starts again from the base. Zero
	// means 30s.
	BaseEjection time.Duration
	// MaxEjection is the longest an ejection lasts. Zero means 300s, or
	// BaseEjection if that is longer.
	MaxEjection time.Duration
	// MaxEjectedPercent is the most of the pool's members, in percent,
	// that may be out at once, rounded down but never below one upstream
	// and never all of them: a pool of 3 at 10% may still eject one. Zero
	// means 10; 100 allows all but one.
	MaxEjectedPercent int
}

// ErrBadEjector is returned by [Pool.EjectOutliers] for an [Ejector] with a
// negative duration, count or percentage, or an ErrorRate above 1.
var ErrBadEjector = errors.New("balancer: bad ejector settings")

// ejector is an [Ejector] with its defaults filled in.
type ejector struct {
	consecutive  int64
	errorRate    float64
	window       int64 // ns
	minRequests  int64
	base, maxEj  int64 // ns
	maxEjPercent int
}

func (e Ejector) resolve() (*ejector, error) {
	if e.ErrorRate < 0 || e.ErrorRate > 1 || e.Window < 0 || e.MinRequests < 0 ||
		e.BaseEjection < 0 || e.MaxEjection < 0 || e.MaxEjectedPercent < 0 || e.MaxEjectedPercent > 100 {
		return nil, ErrBadEjector
	}
	r := &ejector{
		consecutive:  int64(e.Consecutive),
		errorRate:    e.ErrorRate,
		window:       int64(e.Window),
		minRequests:  int64(e.MinRequests),
		base:         int64(e.BaseEjection),
		maxEj:        int64(e.MaxEjection),
		maxEjPercent: e.MaxEjectedPercent,
	}
	if r.consecutive == 0 {
		r.consecutive = 5
	}
	if r.window == 0 {
		r.window = int64(10 * time.Second)
	}
	if r.minRequests == 0 {
		r.minRequests = 20
	}
	if r.base == 0 {
		r.base = int64(30 * time.Second)
	}
	if r.maxEj == 0 {
		r.maxEj = max(int64(300*time.Second), r.base)
	}
	if r.maxEjPercent == 0 {
		r.maxEjPercent = 10
	}
	return r, nil
}

// EjectOutliers turns on passive outlier ejection with the settings e, or
// changes them. From then on every [Upstream.Done] of a member is judged:
// an upstream that fails e's tests leaves rotation (see [Upstream.Ejected])
// and comes back when its time is up. The return happens in the Done of
// any member of the pool, so it needs no goroutine or timer; a pool with
// no traffic at all keeps its ejected members out until it has some.
// Should no member but ejected ones be able to serve (the others down or
// draining), the ejected ones stay in rotation: better them than none.
func (p *Pool) EjectOutliers(e Ejector) error {
	r, err := e.resolve()
	if err != nil {
		return err
	}
	p.ejector.Store(r)
	return nil
}

// Ejected reports whether the upstream is out of rotation after failing
// its pool's outlier tests (see [Pool.EjectOutliers]).
func (u *Upstream) Ejected() bool { return u.ejectedUntil.Load() != 0 }

// Eject takes u out of its pool's rotation until the time until, for a
// policy outside the pool that judges u, such as a circuit breaker kept per
// upstream: the pool's snapshots then leave u out, so that every Balancer
// spreads the load over the others as it would with u gone, and a lower
// priority group takes over when its whole group is out. As with outlier
// ejection, ejected members still serve when no other member can. u comes
// back by itself once until has passed, when the pool next records an
// outcome. An Eject that would end sooner than the ejection in force
// changes nothing; one for an upstream in no pool does nothing.
func (u *Upstream) Eject(until time.Time) {
	if p := u.pool.Load(); p != nil {
		p.ejectUntil(u, until.UnixNano())
	}
}

// ejectUntil is Eject for u, a member of p.
func (p *Pool) ejectUntil(u *Upstream, until int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := u.ejectedUntil.Load()
	if u.pool.Load() != p || cur >= until {
		return
	}
	u.ejectedUntil.Store(until)
	if due := p.nextReturn.Load(); due == 0 || until < due {
		p.nextReturn.Store(until)
	}
	if cur == 0 {
		p.rebuild()
	}
}

// judge is called by [Upstream.DoneAt] with each outcome, when u's pool
// ejects outliers. It takes the pool's lock only to eject.
func (p *Pool) judge(e *ejector, u *Upstream, o Outcome, now int64) {
	if o.Class == Canceled || o.Class == Refused {
		return
	}
	// The window: whoever sees it end starts the next one.
	if start := u.winStart.Load(); now-start >= e.window && u.winStart.CompareAndSwap(start, now) {
		u.winRequests.Store(0)
		u.winFailures.Store(0)
	}
	reqs := u.winRequests.Add(1)
	if !o.Failed() {
		return
	}
	fails := u.winFailures.Add(1)
	if (e.consecutive > 0 && u.consecutive.Load() >= e.consecutive) ||
		(e.errorRate > 0 && reqs >= e.minRequests && float64(fails) >= e.errorRate*float64(reqs)) {
		p.eject(e, u, now)
	}
}

// eject takes u out of rotation, unless it is out already, is no longer a
// member, or the pool has as many out as it may.
func (p *Pool) eject(e *ejector, u *Upstream, now int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u.ejectedUntil.Load() != 0 || u.pool.Load() != p {
		return
	}
	out := 0
	for _, m := range p.all {
		if m.ejectedUntil.Load() != 0 {
			out++
		}
	}
	limit := min(max(len(p.all)*e.maxEjPercent/100, 1), len(p.all)-1)
	if out >= limit {
		return
	}
	n := u.ejections.Load()
	if now-u.returnedAt.Load() >= e.maxEj {
		n = 0 // in rotation long enough: forgiven
	}
	n++
	u.ejections.Store(n)
	until := now + min(n*e.base, e.maxEj)
	u.ejectedUntil.Store(until)
	if due := p.nextReturn.Load(); due == 0 || until < due {
		p.nextReturn.Store(until)
	}
	p.rebuild()
}

// returnDue puts back the upstreams whose ejection has ended by now.
func (p *Pool) returnDue(now int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var next int64
	changed := false
	for _, u := range p.all {
		switch until := u.ejectedUntil.Load(); {
		case until == 0:
		case until <= now:
			u.ejectedUntil.Store(0)
			u.returnedAt.Store(now)
			u.consecutive.Store(0) // a fresh start, or one failure would eject it again
			u.winStart.Store(now)
			u.winRequests.Store(0)
			u.winFailures.Store(0)
			changed = true
		case next == 0 || until < next:
			next = until
		}
	}
	p.nextReturn.Store(next)
	if changed {
		p.rebuild()
	}
}
