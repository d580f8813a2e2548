package balancer

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultLatencyDecay is the time constant of an upstream's latency
// average when [Upstream.LatencyDecay] is zero.
const DefaultLatencyDecay = 10 * time.Second

// Upstream is one server that a proxy forwards to. Its counters are typed
// atomics, safe for concurrent use; its exported fields are fixed once it
// is in a [Pool], whose policies build tables from them. An upstream
// belongs to one pool at a time.
type Upstream struct {
	// URL is where requests go: scheme "http", "https" or "h2c" (HTTP/2
	// without TLS, by prior knowledge), a host, and an optional path prefix
	// and query that are joined with each request's.
	URL *url.URL
	// Weight is the upstream's share for weighted policies. Zero means 1.
	Weight int
	// Priority is the upstream's group: a [Pool] sends traffic only to the
	// group with the lowest number that has a healthy member, so that
	// higher numbers are fallbacks. Zero, the default, is the first group.
	Priority int
	// LatencyDecay is the time constant of the latency average that
	// [Upstream.Latency] reports: a sample's weight falls to 1/e after
	// this long. Zero means [DefaultLatencyDecay].
	LatencyDecay time.Duration

	inflight    atomic.Int64
	requests    atomic.Uint64
	failures    atomic.Uint64
	consecutive atomic.Int64 // failures since the last success
	down        atomic.Bool
	lastNano    atomic.Int64 // latency of the last completed attempt, in ns

	// The peak-EWMA latency: ewma holds the float64 bits of the average in
	// ns as of ewmaAt (unix ns). The two are updated one after the other,
	// not together; see [Upstream.DoneAt].
	ewma   atomic.Uint64
	ewmaAt atomic.Int64

	pool     atomic.Pointer[Pool] // the pool u is a member of, for outlier ejection
	nameHash atomic.Uint64        // hashString(urlKey(u)), computed once; 0 until then

	// Outlier ejection (see eject.go); times in unix ns.
	ejectedUntil atomic.Int64 // 0 when in rotation
	ejections    atomic.Int64 // ejections in a row
	returnedAt   atomic.Int64
	winStart     atomic.Int64
	winRequests  atomic.Int64
	winFailures  atomic.Int64
}

// ErrBadUpstream is wrapped by the errors that [NewUpstream] and [NewPool]
// return for an unusable URL.
var ErrBadUpstream = errors.New("balancer: bad upstream URL")

// NewUpstream parses rawURL into an [Upstream]. The URL needs a scheme of
// http, https or h2c and a host; it may carry a path prefix and a query, but
// no fragment and no user information.
func NewUpstream(rawURL string) (*Upstream, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadUpstream, rawURL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "h2c":
		u.Scheme = strings.ToLower(u.Scheme)
	default:
		return nil, fmt.Errorf("%w %q: scheme must be http, https or h2c", ErrBadUpstream, rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w %q: no host", ErrBadUpstream, rawURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w %q: user information is not allowed", ErrBadUpstream, rawURL)
	}
	if u.Fragment != "" || u.RawFragment != "" {
		return nil, fmt.Errorf("%w %q: fragment is not allowed", ErrBadUpstream, rawURL)
	}
	return &Upstream{URL: u}, nil
}

// String returns the upstream's URL.
func (u *Upstream) String() string { return u.URL.String() }

// Inflight returns the number of attempts in progress.
func (u *Upstream) Inflight() int64 { return u.inflight.Load() }

// Requests returns the number of attempts completed.
func (u *Upstream) Requests() uint64 { return u.requests.Load() }

// Failures returns the number of completed attempts whose [Outcome] was a
// failure (see [Outcome.Failed]).
func (u *Upstream) Failures() uint64 { return u.failures.Load() }

// LastLatency returns the duration of the last completed attempt.
func (u *Upstream) LastLatency() time.Duration { return time.Duration(u.lastNano.Load()) }

// Healthy reports whether the upstream is marked healthy, by
// [Pool.SetHealthy] or the pool's health checks. A healthy upstream is
// still out of rotation while ejected ([Upstream.Ejected]), drained, or in
// a priority group after the best one; [Pool.Healthy] tells which are in.
func (u *Upstream) Healthy() bool { return !u.down.Load() }

// ConsecutiveFailures returns the number of failed attempts (see
// [Outcome.Failed]) since the last successful one. Attempts that neither
// failed nor succeeded, as [Canceled] and [Refused], leave it as it is.
func (u *Upstream) ConsecutiveFailures() int64 { return u.consecutive.Load() }

// Latency returns the upstream's peak-EWMA latency as of now: the average
// jumps at once to a sample slower than itself, follows faster samples
// with the time constant [Upstream.LatencyDecay], and between samples
// decays toward zero, so that an upstream left alone because it was slow
// is tried again after a while. It is zero before the first sample.
func (u *Upstream) Latency(now time.Time) time.Duration {
	return time.Duration(u.latencyAt(now.UnixNano()))
}

// latencyAt is [Upstream.Latency] in ns, for policies that read the clock
// once per pick rather than once per upstream.
func (u *Upstream) latencyAt(now int64) float64 {
	v := math.Float64frombits(u.ewma.Load())
	if v == 0 {
		return 0
	}
	if dt := now - u.ewmaAt.Load(); dt > 0 {
		v *= math.Exp(-float64(dt) / float64(u.decay()))
	}
	return v
}

func (u *Upstream) decay() time.Duration {
	if u.LatencyDecay <= 0 {
		return DefaultLatencyDecay
	}
	return u.LatencyDecay
}

// Begin records the start of an attempt. Every Begin is followed by one
// [Upstream.Done] or [Upstream.DoneAt].
func (u *Upstream) Begin() { u.inflight.Add(1) }

// Done records the end of an attempt that [Upstream.Begin] started, at the
// current time. It is [Upstream.DoneAt] with time.Now().
func (u *Upstream) Done(o Outcome) { u.DoneAt(o, time.Now()) }

// DoneAt records the end of an attempt that [Upstream.Begin] started, at
// now, for a caller that already holds the time. It allocates nothing.
//
// The latency average is held in two atomics, not under a lock: when two
// attempts end at the same moment, both samples count but one decay step
// may be applied from a slightly older time. The error is far below what
// the average is for.
func (u *Upstream) DoneAt(o Outcome, now time.Time) {
	u.inflight.Add(-1)
	u.requests.Add(1)
	switch {
	case o.Failed():
		u.failures.Add(1)
		u.consecutive.Add(1)
	case o.Class == OK:
		u.consecutive.Store(0)
	}
	u.lastNano.Store(int64(o.Duration))
	t := now.UnixNano()
	if o.Class != Canceled && o.Class != Refused { // else the upstream's speed was not measured
		u.observe(float64(o.Duration), t)
	}
	if p := u.pool.Load(); p != nil {
		if due := p.nextReturn.Load(); due != 0 && t >= due {
			p.returnDue(t) // the ejections that have ended, by an Ejector or by Eject
		}
		if e := p.ejector.Load(); e != nil {
			p.judge(e, u, o, t)
		}
	}
}

// observe folds one latency sample, in ns, into the peak EWMA.
func (u *Upstream) observe(sample float64, now int64) {
	if sample <= 0 {
		sample = 1 // a zero average means "no sample yet"
	}
	for {
		old := u.ewma.Load()
		v := math.Float64frombits(old)
		at := u.ewmaAt.Load()
		switch {
		case sample > v:
			v = sample // the peak: a slow sample counts in full at once
		default:
			w := 1.0
			if dt := now - at; dt > 0 {
				w = math.Exp(-float64(dt) / float64(u.decay()))
			}
			v = v*w + sample*(1-w)
		}
		if u.ewma.CompareAndSwap(old, math.Float64bits(v)) {
			if now > at {
				u.ewmaAt.Store(now)
			}
			return
		}
	}
}

// hashedName returns the fixed hash of u's URL that hash rings and sticky
// cookies name it by. It allocates only the first time.
func (u *Upstream) hashedName() uint64 {
	if h := u.nameHash.Load(); h != 0 {
		return h
	}
	h := hashString(urlKey(u)) | 1 // never 0, which means "not yet"
	u.nameHash.Store(h)
	return h
}

// Weighted returns the upstream's weight, 1 when Weight is zero or less.
func (u *Upstream) Weighted() int {
	if u.Weight <= 0 {
		return 1
	}
	return u.Weight
}
