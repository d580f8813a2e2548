package breaker

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/internal/errs"
)

// State is the state of a circuit.
type State uint8

// The states of a circuit.
const (
	// Closed: calls go through, and their outcomes are counted.
	Closed State = iota
	// HalfOpen: a few probes go through, the others are refused; the
	// probes' outcomes decide whether the circuit closes or opens again.
	HalfOpen
	// Open: every call is refused until the open time is over.
	Open
)

var stateNames = [...]string{"closed", "half-open", "open"}

// String returns "closed", "half-open" or "open".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// The state word: the generation, the number of probes admitted in the
// half-open state, and the state, in one atomic word, so that Allow reads
// all three in one load and admits a probe with one CAS. Every change of
// state starts a new generation. A ticket is the word as Allow saw it,
// less the probes.
const (
	stateMask  = 1<<2 - 1
	probeShift = 2
	probeMask  = (1<<21 - 1) << probeShift // room for maxCount probes
	genShift   = 23                        // 41 bits of generations: at a change every millisecond, 69 years
)

// Breaker is a circuit breaker: it admits calls with [Breaker.Allow],
// learns their outcomes with [Breaker.Done], and refuses calls for a while
// once too many of them failed or were slow (see [Settings]).
//
// Every call Allow admits must be followed by one Done with the ticket
// Allow gave. The ticket carries the generation of the state the call was
// admitted in: a call admitted before a change of state (a trip, or the
// circuit closing) is not counted in the state after, so the late answers
// of calls sent to an upstream before its circuit opened do not decide
// its probes, nor do those of the probes count in the closed window.
//
// A Breaker is safe for concurrent use. Allow and Done allocate nothing
// and take no lock, except to change state.
type Breaker struct {
	// Read by every Allow and Done; written only when the state changes
	// and when a probe is admitted or gives its place back.
	state     atomic.Uint64
	openUntil atomic.Int64 // when the open state ends, in ns since start; written before the state word

	// Fixed at New.
	start       time.Time // the origin of the breaker's clock (monotonic)
	name        string
	isFailure   func(balancer.Outcome) bool // nil: Outcome.Failed, called directly, which inlines
	slowCall    time.Duration               // 0: no call is slow
	bucketNs    int64                       // time-based window: the length of a bucket; 0: count-based window
	minCalls    int64
	failureRate float64
	slowRate    float64
	consecLimit int64 // 0: the rule is off
	openTimeout time.Duration
	maxOpen     time.Duration
	probes      uint64
	onChange    func(name string, from, to State)
	upstream    weak.Pointer[balancer.Upstream] // a PerUpstream's breaker: the upstream to eject while open; set before the breaker is shared
	ejects      bool                            // upstream is set
	openErr     *OpenError                      // returned by every refusal: a preallocated value, so that refusing allocates nothing
	notClosed   *atomic.Int64                   // when not nil, counts this breaker while it is not closed (PerUpstream.OpenCount)

	// Written by Done in the closed state, kept away from the state word
	// so that these writes do not slow the loads of Allow on other cores.
	_           [64]byte
	consecutive atomic.Int64 // failures since the last success
	_           [56]byte
	win         *window // a pointer: its buckets are written by every Done, as consecutive is not

	mu sync.Mutex // guards changes of state (the state word but for probe admission, openUntil) and all below
	// trips is the number of trips since the circuit last closed, for the
	// open time's backoff.
	trips int
	// The probes recorded in this half-open state.
	probed, probeFailed, probeSlow int
	// changes waits for OnStateChange (and a PerUpstream's ejections),
	// in order; delivering tells whether a goroutine is delivering them.
	changes    []change
	delivering bool
}

// change is a change of state to deliver. until is, for a change to
// Open, when the open time ends, on the breaker's clock.
type change struct {
	from, to State
	until    int64
}

// New returns a Breaker, closed, configured by s. It panics with the error
// of [Settings.Check] when s is not valid.
func New(s Settings) *Breaker {
	if err := s.Check(); err != nil {
		panic(err)
	}
	s = s.withDefaults()
	return newBreaker(s, s.Name)
}

// newBreaker builds a Breaker from checked settings with defaults.
func newBreaker(s Settings, name string) *Breaker {
	b := &Breaker{
		start:       time.Now(),
		name:        name,
		isFailure:   s.IsFailure,
		slowCall:    s.SlowCall,
		minCalls:    int64(s.MinCalls),
		failureRate: s.FailureRate,
		slowRate:    s.SlowCallRate,
		openTimeout: s.OpenTimeout,
		maxOpen:     s.MaxOpenTimeout,
		probes:      uint64(s.HalfOpenProbes),
		onChange:    s.OnStateChange,
	}
	if s.ConsecutiveFailures > 0 {
		b.consecLimit = int64(s.ConsecutiveFailures)
	}
	if s.WindowCalls > 0 {
		b.win = newWindow(s.Buckets, max(s.WindowCalls/s.Buckets, 1))
	} else {
		b.bucketNs = int64(s.Window) / int64(s.Buckets)
		b.win = newWindow(s.Buckets, 0)
	}
	b.openErr = &OpenError{b: b}
	b.state.Store(1<<genShift | uint64(Closed))
	return b
}

// Name returns the breaker's name: [Settings.Name], or for a breaker of a
// [PerUpstream], the upstream's URL after it.
func (b *Breaker) Name() string { return b.name }

// now returns the breaker's clock, in ns since New. time.Since reads only
// the monotonic clock, which costs about half of time.Now.
func (b *Breaker) now() int64 { return int64(time.Since(b.start)) }

// State returns the circuit's state. An open circuit whose open time is
// over stays [Open] until the next Allow makes it half-open. It is one
// atomic load: a balancer may call it for each upstream it weighs.
func (b *Breaker) State() State { return State(b.state.Load() & stateMask) }

// RetryAfter returns how long until an open circuit lets probes through:
// zero when the circuit is not open or its open time is over.
func (b *Breaker) RetryAfter() time.Duration {
	if b.State() != Open {
		return 0
	}
	return time.Duration(max(b.openUntil.Load()-b.now(), 0))
}

// refusing reports whether Allow would refuse a call now, without
// changing the state.
func (b *Breaker) refusing() bool {
	w := b.state.Load()
	switch State(w & stateMask) {
	case Open:
		return b.now() < b.openUntil.Load()
	case HalfOpen:
		return (w&probeMask)>>probeShift >= b.probes
	}
	return false
}

// Allow admits a call, or refuses it with an [*OpenError], which wraps
// [errs.ErrCircuitOpen] (gateway.ErrCircuitOpen), when the circuit is open,
// or half-open with all its probes out. An admitted call must be reported
// to [Breaker.Done] with the ticket. The first Allow after the open time
// makes the circuit half-open and is its first probe. Allow allocates
// nothing.
func (b *Breaker) Allow() (ticket uint64, err error) {
	for {
		w := b.state.Load()
		switch State(w & stateMask) {
		case Closed:
			return w, nil // no probes are counted in the closed state: w is the ticket
		case Open:
			if b.now() < b.openUntil.Load() {
				return 0, b.openErr
			}
			if t, ok := b.halfOpen(); ok {
				return t, nil
			}
			// Another goroutine changed the state first: look again.
		case HalfOpen:
			if (w&probeMask)>>probeShift >= b.probes {
				return 0, b.openErr
			}
			// A CAS, not an add, so that no more than the allowed
			// number of probes are ever out.
			if b.state.CompareAndSwap(w, w+1<<probeShift) {
				return w &^ probeMask, nil
			}
		}
	}
}

// Done records the outcome of a call that [Breaker.Allow] admitted with
// ticket. An outcome of class [balancer.Canceled] or [balancer.Refused] is
// not counted (and gives a probe's place to another call). A ticket from
// an earlier state (before the circuit tripped, or closed) is ignored.
// Done allocates nothing.
func (b *Breaker) Done(ticket uint64, o balancer.Outcome) { b.done(ticket, o, -1) }

// DoneAt is [Breaker.Done] for a caller that holds the time the call
// ended, as a proxy that reads the clock once for all its counters does:
// a time-based window then reads no clock of its own, which is most of
// the cost of Done. now should carry a monotonic reading (as time.Now's
// does); a time earlier than the breaker's making counts at its making.
func (b *Breaker) DoneAt(ticket uint64, o balancer.Outcome, now time.Time) {
	b.done(ticket, o, max(int64(now.Sub(b.start)), 0))
}

// done is Done with the time on the breaker's clock, or −1 to read it.
//
// The outcome is judged (IsFailure, the user's code, which may take any
// time) before the state word is loaded: then nothing but a clock read and
// a few atomic operations run between the check of the ticket's generation
// and the record, and a Done held up in IsFailure across a change of state
// finds the new generation and is ignored. What remains is a window of
// some nanoseconds in which a Done that passed the check records in the
// counts the change of state has just emptied: one call, in a window that
// is a statistic, and only at a change of state.
func (b *Breaker) done(ticket uint64, o balancer.Outcome, now int64) {
	if o.Class == balancer.Canceled || o.Class == balancer.Refused {
		w := b.state.Load()
		if w>>genShift == ticket>>genShift && State(w&stateMask) == HalfOpen {
			b.release(ticket)
		}
		return
	}
	failed := b.failed(o)
	slow := b.slowCall > 0 && slowTime(o) > b.slowCall
	w := b.state.Load()
	if w>>genShift != ticket>>genShift {
		return // admitted in an earlier generation: it does not count in this one
	}
	switch State(w & stateMask) {
	case Closed:
		b.record(w, failed, slow, now)
	case HalfOpen:
		b.probe(ticket, failed, slow)
	}
}

// failed tells whether o is a failure, by Settings.IsFailure.
func (b *Breaker) failed(o balancer.Outcome) bool {
	if b.isFailure == nil {
		return o.Failed()
	}
	return b.isFailure(o)
}

// slowTime returns the time by which o is judged slow: the time to the
// response head when o has it, so that a long stream that started at once
// is not slow, else the whole duration.
func slowTime(o balancer.Outcome) time.Duration {
	if o.TTFB > 0 {
		return o.TTFB
	}
	return o.Duration
}

// record counts a call that ended at now (−1: read the clock) in the
// closed state w, and trips the circuit when a rule says so.
func (b *Breaker) record(w uint64, failed, slow bool, now int64) {
	var epoch int64
	if b.bucketNs > 0 {
		if now < 0 {
			now = b.now()
		}
		epoch = now / b.bucketNs
		b.win.record(epoch, failed, slow)
	} else {
		epoch = b.win.recordCount(failed, slow)
	}
	switch {
	case failed:
		if b.consecLimit > 0 && b.consecutive.Add(1) >= b.consecLimit {
			b.trip(w)
			return
		}
	case b.consecutive.Load() != 0:
		// Loaded first: a store on every success would make each Done
		// write this line, which costs under contention.
		b.consecutive.Store(0)
	}
	if !failed && !slow {
		return // a fast success cannot raise a rate
	}
	calls, failures, slows := b.win.sum(epoch)
	if calls < b.minCalls {
		return
	}
	if float64(failures) >= b.failureRate*float64(calls) ||
		b.slowCall > 0 && float64(slows) >= b.slowRate*float64(calls) {
		b.trip(w)
	}
}

// trip opens the circuit, if it is still in the state (and generation) w.
func (b *Breaker) trip(w uint64) {
	b.mu.Lock()
	if b.state.Load()&^probeMask != w&^probeMask {
		b.mu.Unlock()
		return // another goroutine changed the state first
	}
	b.openLocked(w)
	b.mu.Unlock()
	b.deliver()
}

// openLocked opens the circuit from the state word w, for OpenTimeout
// doubled for each trip since it last closed, up to MaxOpenTimeout. b.mu
// is held.
func (b *Breaker) openLocked(w uint64) {
	b.trips++
	d := b.openTimeout
	for i := 1; i < b.trips && d < b.maxOpen; i++ {
		d = min(d, b.maxOpen/2) * 2 // min: no overflow
	}
	d = min(d, b.maxOpen)
	until := b.now() + int64(d)
	if until < 0 {
		until = math.MaxInt64 // an open time of centuries
	}
	b.openUntil.Store(until) // before the state word, which publishes it
	b.setLocked(w, Open, 0)
}

// halfOpen makes the open circuit half-open, with the caller as the first
// probe, if its open time is over and no other goroutine did it first.
// Should OnStateChange panic, the panic goes on up through Allow, which
// returns no ticket: the probe's place is given back first, or no Done
// would ever free it and the circuit would stay half-open.
func (b *Breaker) halfOpen() (ticket uint64, ok bool) {
	b.mu.Lock()
	w := b.state.Load()
	if State(w&stateMask) != Open || b.now() < b.openUntil.Load() {
		b.mu.Unlock()
		return 0, false
	}
	b.probed, b.probeFailed, b.probeSlow = 0, 0, 0
	ticket = b.setLocked(w, HalfOpen, 1)
	b.mu.Unlock()
	delivered := false
	defer func() {
		if !delivered {
			b.release(ticket)
		}
	}()
	b.deliver()
	delivered = true
	return ticket, true
}

// release gives back the place of a probe admitted with ticket that was
// not counted.
func (b *Breaker) release(ticket uint64) {
	for {
		w := b.state.Load()
		if w&^probeMask != ticket || w&probeMask == 0 {
			return
		}
		if b.state.CompareAndSwap(w, w-1<<probeShift) {
			return
		}
	}
}

// probe records the outcome (failed, slow) of a probe admitted with
// ticket, and closes or opens the circuit once the probes decide.
func (b *Breaker) probe(ticket uint64, failed, slow bool) {
	b.mu.Lock()
	w := b.state.Load()
	if w&^probeMask != ticket {
		b.mu.Unlock()
		return // the state changed since the caller looked
	}
	b.probed++
	if failed {
		b.probeFailed++
	}
	if slow {
		b.probeSlow++
	}
	n := float64(b.probes)
	switch {
	case float64(b.probeFailed) >= b.failureRate*n,
		b.slowCall > 0 && float64(b.probeSlow) >= b.slowRate*n:
		// The rate over all the probes can only rise from here.
		b.openLocked(w)
	case uint64(b.probed) >= b.probes:
		b.trips = 0
		b.consecutive.Store(0)
		b.win.reset()
		b.setLocked(w, Closed, 0)
	}
	b.mu.Unlock()
	b.deliver()
}

// setLocked moves the circuit from the state word w to the state to, in a
// new generation, with probes admitted, and queues the change for
// OnStateChange. It returns the new generation's ticket. b.mu is held.
func (b *Breaker) setLocked(w uint64, to State, probes uint64) (ticket uint64) {
	ticket = (w>>genShift+1)<<genShift | uint64(to)
	b.state.Store(ticket | probes<<probeShift)
	if from := State(w & stateMask); b.notClosed != nil && (from == Closed) != (to == Closed) {
		if to == Closed {
			b.notClosed.Add(-1)
		} else {
			b.notClosed.Add(1)
		}
	}
	if b.onChange != nil || b.ejects {
		b.changes = append(b.changes, change{State(w & stateMask), to, b.openUntil.Load()})
	}
	return ticket
}

// deliver delivers the queued changes, in order, unless another
// goroutine is doing it, which then delivers them too: for each, it ejects
// a PerUpstream's upstream when the change is to Open, then calls
// OnStateChange. It is called with no lock held, after each change of
// state, so that neither the pool's lock nor the user's code is ever
// taken or run under the breaker's.
func (b *Breaker) deliver() {
	if b.onChange == nil && !b.ejects {
		return
	}
	b.mu.Lock()
	if b.delivering {
		b.mu.Unlock()
		return
	}
	b.delivering = true
	for len(b.changes) > 0 {
		c := b.changes[0]
		n := copy(b.changes, b.changes[1:])
		b.changes = b.changes[:n]
		b.mu.Unlock()
		b.call(c)
		b.mu.Lock()
	}
	b.delivering = false
	b.mu.Unlock()
}

// call delivers c. Should OnStateChange panic, the next change finds no
// goroutine delivering and delivers the changes left itself.
func (b *Breaker) call(c change) {
	if c.to == Open && b.ejects {
		b.eject(c.until)
	}
	if b.onChange == nil {
		return
	}
	done := false
	defer func() {
		if !done {
			b.mu.Lock()
			b.delivering = false
			b.mu.Unlock()
		}
	}()
	b.onChange(b.name, c.from, c.to)
	done = true
}

// maxEject bounds an ejection, so that the wall-clock time it ends at
// stays within what [time.Time.UnixNano] can express.
const maxEject = 100 * 365 * 24 * time.Hour

// eject takes a PerUpstream's upstream out of its pool's rotation until
// until, on the breaker's clock, unless the upstream is gone or that time
// has passed. The breaker's clock is monotonic and the pool's is the wall
// clock: the time left is carried over, not the instant.
func (b *Breaker) eject(until int64) {
	u := b.upstream.Value()
	if u == nil {
		return
	}
	left := time.Duration(until - b.now())
	if left <= 0 {
		return
	}
	u.Eject(time.Now().Add(min(left, maxEject)))
}

// OpenError is the error [Breaker.Allow] returns when it refuses a call.
// It wraps [errs.ErrCircuitOpen], which the gateway exports as
// gateway.ErrCircuitOpen. Each Breaker has one, made by [New], so that a
// refusal allocates nothing; its methods report on the breaker as it is
// when they are called.
type OpenError struct {
	b *Breaker
}

// Error returns "gateway: circuit open", followed by the breaker's name in
// parentheses when it has one.
func (e *OpenError) Error() string {
	if e.b.name == "" {
		return errs.ErrCircuitOpen.Error()
	}
	return errs.ErrCircuitOpen.Error() + " (" + e.b.name + ")"
}

// Unwrap returns [errs.ErrCircuitOpen].
func (e *OpenError) Unwrap() error { return errs.ErrCircuitOpen }

// RetryAfter returns how long until the circuit lets probes through; see
// [Breaker.RetryAfter]. The gateway's error handler sends it as the
// Retry-After header.
func (e *OpenError) RetryAfter() time.Duration { return e.b.RetryAfter() }

// Breaker returns the breaker that refused the call.
func (e *OpenError) Breaker() *Breaker { return e.b }
