package balancer

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Upstream is one server that a proxy forwards to. Its counters are safe for
// concurrent use; its URL and Weight are fixed once it is in a [Pool].
type Upstream struct {
	// URL is where requests go: scheme "http", "https" or "h2c" (HTTP/2
	// without TLS, by prior knowledge), a host, and an optional path prefix
	// and query that are joined with each request's.
	URL *url.URL
	// Weight is the upstream's share for weighted policies. Zero means 1.
	Weight int

	inflight atomic.Int64
	requests atomic.Uint64
	failures atomic.Uint64
	down     atomic.Bool
	lastNano atomic.Int64 // latency of the last completed attempt, in ns
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

// Healthy reports whether the upstream is in rotation.
func (u *Upstream) Healthy() bool { return !u.down.Load() }

// Begin records the start of an attempt. Every Begin is followed by one
// [Upstream.Done].
func (u *Upstream) Begin() { u.inflight.Add(1) }

// Done records the end of an attempt that [Upstream.Begin] started.
func (u *Upstream) Done(o Outcome) {
	u.inflight.Add(-1)
	u.requests.Add(1)
	if o.Failed() {
		u.failures.Add(1)
	}
	u.lastNano.Store(int64(o.Duration))
}

// Weighted returns the upstream's weight, 1 when Weight is zero or less.
func (u *Upstream) Weighted() int {
	if u.Weight <= 0 {
		return 1
	}
	return u.Weight
}
