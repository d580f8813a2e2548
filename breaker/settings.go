package breaker

import (
	"errors"
	"fmt"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

// The defaults that the zero [Settings] stand for.
const (
	// DefaultWindow is the length of the rolling window when neither
	// Window nor WindowCalls is set.
	DefaultWindow = 10 * time.Second
	// DefaultBuckets is the number of buckets a window is split in.
	DefaultBuckets = 10
	// DefaultMinCalls is the number of calls the window must hold before
	// a rate can trip the circuit.
	DefaultMinCalls = 20
	// DefaultFailureRate is the share of failed calls that trips the
	// circuit.
	DefaultFailureRate = 0.5
	// DefaultSlowCallRate is the share of slow calls that trips the
	// circuit, once SlowCall is set.
	DefaultSlowCallRate = 0.5
	// DefaultConsecutiveFailures is the number of failures in a row that
	// trips the circuit whatever the window holds.
	DefaultConsecutiveFailures = 10
	// DefaultOpenTimeout is how long the circuit stays open after its
	// first trip.
	DefaultOpenTimeout = 5 * time.Second
	// DefaultMaxOpenTimeout is the longest the open time grows to when
	// the circuit trips again and again.
	DefaultMaxOpenTimeout = 60 * time.Second
	// DefaultHalfOpenProbes is the number of calls let through in the
	// half-open state.
	DefaultHalfOpenProbes = 1
)

// Never, as [Settings.ConsecutiveFailures], turns the consecutive-failures
// rule off: only the rates trip the circuit.
const Never = -1

// maxCount bounds the counts in [Settings]: a window of more calls than
// this, or more probes, is a mistake, and it keeps the probe count within
// the bits the state word gives it.
const maxCount = 1 << 20

// ErrSettings is wrapped by the errors of [Settings.Check].
var ErrSettings = errors.New("breaker: invalid settings")

// Settings configure a [Breaker]. The zero value is usable: every field
// says what its zero value means. [New] and [NewPerUpstream] never modify
// the Settings they are given.
//
// The circuit trips (goes from closed to open) on whichever rule is met
// first:
//
//   - the failure rate: once the window holds at least MinCalls calls,
//     the share of them that failed reaches FailureRate;
//   - the slow-call rate: with SlowCall set, once the window holds at
//     least MinCalls calls, the share that took longer than SlowCall
//     reaches SlowCallRate;
//   - consecutive failures: ConsecutiveFailures calls in a row failed.
//
// The rates are checked when a failed or slow call is recorded, never
// when a fast success is, which lowers them: a window that reaches
// MinCalls with a success, its failure rate at the threshold, trips at
// the next failure.
type Settings struct {
	// Name names the breaker in [OpenError] messages and in OnStateChange.
	// Empty: no name. [PerUpstream] names each upstream's breaker by the
	// upstream's URL, after Name and a space when Name is set.
	Name string

	// Window, when positive, makes the rolling window time-based: the
	// calls that ended in the last Window, in Buckets buckets of
	// Window/Buckets each. As time goes on, the oldest bucket drops out
	// whole, so the window holds between Window−Window/Buckets and Window
	// of calls. Zero, with WindowCalls zero too: [DefaultWindow] (10 s).
	// Window and WindowCalls cannot both be set.
	Window time.Duration
	// WindowCalls, when positive, makes the rolling window count-based:
	// the last calls, in Buckets buckets of WindowCalls/Buckets calls each
	// (rounded down). The window holds the bucket being filled and the
	// Buckets−1 full ones before it: with WindowCalls 100 and ten
	// buckets, the last 91 to 100 calls. A count-based window does not
	// age: calls from long ago count until newer ones push them out.
	// Zero: the time-based window.
	WindowCalls int
	// Buckets is the number of buckets the window is split in; more
	// buckets make the window slide more smoothly and the rate check a
	// little slower. Zero: [DefaultBuckets] (10), or WindowCalls when that
	// is smaller. At most 1000, and at most WindowCalls.
	Buckets int
	// MinCalls is the number of calls the window must hold before either
	// rate may trip the circuit, so that two failures out of three calls
	// do not. Zero: [DefaultMinCalls] (20), or what a count-based window
	// holds when full, if that is less. For a count-based window, at most
	// what it holds when full (WindowCalls rounded down to a multiple of
	// Buckets).
	MinCalls int

	// FailureRate is the share of failed calls, in (0, 1], at or above
	// which the circuit trips. Zero: [DefaultFailureRate] (0.5).
	FailureRate float64
	// IsFailure tells whether a call's [balancer.Outcome] is a failure.
	// Nil: [balancer.Outcome.Failed], that is a 5xx status, a timeout or a
	// connection error; a 4xx status is a success. Whatever IsFailure
	// says, an outcome of class [balancer.Canceled] (the client went away)
	// or [balancer.Refused] (a local policy refused the call) is neither a
	// success nor a failure: it is not counted at all. IsFailure is called
	// on every Done, so it must be fast and safe for concurrent use.
	IsFailure func(balancer.Outcome) bool

	// SlowCall, when positive, makes a call slow when its time to first
	// byte, [balancer.Outcome.TTFB], is longer than SlowCall, whether it
	// succeeded or failed; for an outcome with no TTFB (zero), such as a
	// failure before any response, its [balancer.Outcome.Duration]. A
	// long stream that starts at once (server-sent events, a model's
	// completion, a WebSocket) is thus not slow. Zero: no call is slow,
	// and the slow-call rule is off.
	SlowCall time.Duration
	// SlowCallRate is the share of slow calls, in (0, 1], at or above
	// which the circuit trips. Zero: [DefaultSlowCallRate] (0.5). It has
	// no effect unless SlowCall is set.
	SlowCallRate float64

	// ConsecutiveFailures is the number of failed calls in a row that
	// trips the circuit, whatever the window holds and even below
	// MinCalls: the rule that catches a dead upstream under light
	// traffic. A success resets the run; an ignored call (canceled or
	// refused) leaves it as it is. Zero: [DefaultConsecutiveFailures]
	// (10), high enough that an upstream failing a fifth of its calls
	// trips it about once in ten million calls. [Never]: the rule is off.
	ConsecutiveFailures int

	// OpenTimeout is how long the circuit stays open after it trips from
	// closed, before it lets probes through (half-open). Zero:
	// [DefaultOpenTimeout] (5 s).
	OpenTimeout time.Duration
	// MaxOpenTimeout bounds the open time, which doubles each time the
	// probes fail and the circuit opens again, and goes back to
	// OpenTimeout once the circuit closes. Zero: [DefaultMaxOpenTimeout]
	// (60 s), or OpenTimeout when that is longer. Set it to OpenTimeout
	// for a fixed open time.
	MaxOpenTimeout time.Duration

	// HalfOpenProbes is the number of calls admitted in the half-open
	// state; others are refused while they are out. An ignored probe
	// (canceled or refused) gives its place to another. Once HalfOpenProbes
	// probes have been recorded, the circuit closes if their failure rate
	// is below FailureRate and their slow-call rate below SlowCallRate,
	// and opens again otherwise; it opens again at once when the probes
	// recorded so far already reach a rate, as they can only rise. With
	// the default of one probe: the probe's success closes the circuit,
	// its failure (or its slowness) opens it. Zero:
	// [DefaultHalfOpenProbes] (1).
	//
	// A probe is decided by its Done, which for a stream comes when the
	// stream ends, though its slowness is judged on its first byte: a long
	// stream that is a probe holds its place, and keeps the circuit
	// half-open, until it ends.
	HalfOpenProbes int

	// OnStateChange, when not nil, is called after each change of state
	// with the breaker's name (see Name) and the states before and after.
	// It is never called with a lock held, and may call the breaker.
	// Calls are made one at a time and in the order of the changes: the
	// goroutine that changes the state calls it, unless another goroutine
	// is already calling it, which then makes the call too, once its own
	// returns. So a caller of Allow or Done may find itself running the
	// callback for a change that another goroutine made; a slow callback
	// holds up the goroutine that runs it and the calls for later changes,
	// but no other call of the breaker. A callback reports a change, not
	// the state when it runs, which may have changed again. A panic in
	// OnStateChange goes to the goroutine that ran it; the breaker keeps
	// working. An Allow that panics so has admitted no call: it needs no
	// Done, and a probe's place it had taken is given back.
	OnStateChange func(name string, from, to State)
}

// Check reports whether s can be used, with an error that wraps
// [ErrSettings] and says which field is wrong. [New] and [NewPerUpstream]
// panic with the same error, as a mistake in settings written in the
// program's source should stop it at start; call Check first on settings
// loaded at run time, to report the mistake instead.
func (s Settings) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrSettings}, args...)...)
	}
	switch {
	case s.Window < 0:
		return bad("Window %v is negative", s.Window)
	case s.WindowCalls < 0:
		return bad("WindowCalls %d is negative", s.WindowCalls)
	case s.Window > 0 && s.WindowCalls > 0:
		return bad("Window %v and WindowCalls %d are both set; choose a time-based or a count-based window", s.Window, s.WindowCalls)
	case s.WindowCalls > maxCount:
		return bad("WindowCalls %d is more than %d", s.WindowCalls, maxCount)
	case s.Buckets < 0:
		return bad("Buckets %d is negative", s.Buckets)
	case s.Buckets > 1000:
		return bad("Buckets %d is more than 1000", s.Buckets)
	case s.WindowCalls > 0 && s.Buckets > s.WindowCalls:
		return bad("Buckets %d is more than WindowCalls %d", s.Buckets, s.WindowCalls)
	case s.Window > 0 && s.Buckets > 0 && s.Window/time.Duration(s.Buckets) < time.Millisecond:
		return bad("Window %v split in %d buckets makes buckets shorter than 1ms", s.Window, s.Buckets)
	case s.Window > 0 && s.Buckets == 0 && s.Window/DefaultBuckets < time.Millisecond:
		return bad("Window %v is shorter than %v", s.Window, DefaultBuckets*time.Millisecond)
	case s.MinCalls < 0:
		return bad("MinCalls %d is negative", s.MinCalls)
	case s.WindowCalls > 0 && s.MinCalls > s.withDefaults().fullWindow():
		return bad("MinCalls %d is more than the %d calls the window holds: the rates could never trip", s.MinCalls, s.withDefaults().fullWindow())
	case !(s.FailureRate >= 0 && s.FailureRate <= 1): // also catches NaN
		return bad("FailureRate %v is outside (0, 1]", s.FailureRate)
	case s.SlowCall < 0:
		return bad("SlowCall %v is negative", s.SlowCall)
	case !(s.SlowCallRate >= 0 && s.SlowCallRate <= 1):
		return bad("SlowCallRate %v is outside (0, 1]", s.SlowCallRate)
	case s.ConsecutiveFailures < Never:
		return bad("ConsecutiveFailures %d is negative (use breaker.Never to turn the rule off)", s.ConsecutiveFailures)
	case s.OpenTimeout < 0:
		return bad("OpenTimeout %v is negative", s.OpenTimeout)
	case s.MaxOpenTimeout < 0:
		return bad("MaxOpenTimeout %v is negative", s.MaxOpenTimeout)
	case s.MaxOpenTimeout > 0 && s.MaxOpenTimeout < s.withDefaults().OpenTimeout:
		return bad("MaxOpenTimeout %v is shorter than OpenTimeout %v", s.MaxOpenTimeout, s.withDefaults().OpenTimeout)
	case s.HalfOpenProbes < 0:
		return bad("HalfOpenProbes %d is negative", s.HalfOpenProbes)
	case s.HalfOpenProbes > maxCount:
		return bad("HalfOpenProbes %d is more than %d", s.HalfOpenProbes, maxCount)
	}
	return nil
}

// withDefaults returns a copy of s with every zero field replaced by its
// default. It assumes nothing about s being valid.
func (s Settings) withDefaults() Settings {
	if s.Window == 0 && s.WindowCalls == 0 {
		s.Window = DefaultWindow
	}
	if s.Buckets == 0 {
		s.Buckets = DefaultBuckets
		if s.WindowCalls > 0 && s.WindowCalls < s.Buckets {
			s.Buckets = s.WindowCalls
		}
	}
	if s.MinCalls == 0 {
		s.MinCalls = DefaultMinCalls
		if s.WindowCalls > 0 {
			s.MinCalls = min(s.MinCalls, s.fullWindow())
		}
	}
	if s.FailureRate == 0 {
		s.FailureRate = DefaultFailureRate
	}
	if s.SlowCallRate == 0 {
		s.SlowCallRate = DefaultSlowCallRate
	}
	if s.ConsecutiveFailures == 0 {
		s.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if s.OpenTimeout == 0 {
		s.OpenTimeout = DefaultOpenTimeout
	}
	if s.MaxOpenTimeout == 0 {
		s.MaxOpenTimeout = max(DefaultMaxOpenTimeout, s.OpenTimeout)
	}
	if s.HalfOpenProbes == 0 {
		s.HalfOpenProbes = DefaultHalfOpenProbes
	}
	return s
}

// fullWindow returns the number of calls a count-based window holds when
// its buckets are full. s has its defaults.
func (s Settings) fullWindow() int {
	if s.Buckets <= 0 {
		return s.WindowCalls
	}
	return s.WindowCalls / s.Buckets * s.Buckets
}
