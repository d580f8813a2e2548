package balancer

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// HealthCheck configures active health checks for a [Pool]: every
// Interval, each member is sent a GET for Path, and is taken out of
// rotation after Fall failed checks in a row, and back after Rise passed
// ones. Start them with [Pool.CheckHealth]; stop them with [Pool.Close].
// Its zero value checks "/" every 10s with a 2s timeout, expects a 2xx
// status, and takes 3 failures to go down and 2 passes to come back.
type HealthCheck struct {
	// Path is the path checked, joined to each upstream's URL path as a
	// request's would be. Empty means "/".
	Path string
	// Interval is the time between the starts of two rounds of checks.
	// Zero means 10s.
	Interval time.Duration
	// Timeout bounds each check. Zero means 2s; it is cut to Interval when
	// longer.
	Timeout time.Duration
	// Expect is the status a check must get to pass. Zero means any 2xx.
	Expect int
	// Rise is how many passed checks in a row bring an upstream that is
	// down back. Zero means 2.
	Rise int
	// Fall is how many failed checks in a row take an upstream down. Zero
	// means 3.
	Fall int
	// Jitter adds a random delay of up to this much to each interval, so
	// that many gateways started together do not check in step. Zero
	// means none.
	Jitter time.Duration
	// Transport sends the checks. Nil means [http.DefaultTransport]. An
	// upstream of scheme h2c is checked with "http": give a Transport that
	// speaks HTTP/2 without TLS when it does not also speak HTTP/1.1.
	Transport http.RoundTripper
}

// ErrBadHealthCheck is returned by [Pool.CheckHealth] for a [HealthCheck]
// with a negative duration or count, or a Path that does not begin with /.
var ErrBadHealthCheck = errors.New("balancer: bad health check settings")

// ErrChecking is returned by [Pool.CheckHealth] when the pool's checks are
// already running.
var ErrChecking = errors.New("balancer: health checks already running")

func (hc HealthCheck) resolve() (HealthCheck, error) {
	if hc.Interval < 0 || hc.Timeout < 0 || hc.Rise < 0 || hc.Fall < 0 || hc.Jitter < 0 || hc.Expect < 0 ||
		(hc.Path != "" && !strings.HasPrefix(hc.Path, "/")) {
		return hc, ErrBadHealthCheck
	}
	if hc.Path == "" {
		hc.Path = "/"
	}
	if hc.Interval == 0 {
		hc.Interval = 10 * time.Second
	}
	if hc.Timeout == 0 {
		hc.Timeout = 2 * time.Second
	}
	hc.Timeout = min(hc.Timeout, hc.Interval)
	if hc.Rise == 0 {
		hc.Rise = 2
	}
	if hc.Fall == 0 {
		hc.Fall = 3
	}
	if hc.Transport == nil {
		hc.Transport = http.DefaultTransport
	}
	return hc, nil
}

// checker is the state of a pool's running health checks.
type checker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// CheckHealth starts active health checks of the pool's members with the
// settings hc (a copy: later changes to hc are not seen). One goroutine
// runs them until [Pool.Close]; each round checks all members at once, in
// goroutines that end with the round, and the next round starts an
// Interval (plus jitter) after the last one started, or when it ends if
// it took longer. Members added later are checked from the next round.
//
// A member taken down by the checks comes back only by passing them; one
// taken out by [Pool.SetHealthy] is checked as any other and may be
// brought back.
func (p *Pool) CheckHealth(hc HealthCheck) error {
	hc, err := hc.resolve()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.checker != nil {
		return ErrChecking
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &checker{cancel: cancel, done: make(chan struct{})}
	p.checker = c
	go func() {
		defer close(c.done)
		p.checkLoop(ctx, hc)
	}()
	return nil
}

// Close stops the pool's health checks, if they run, and waits until the
// goroutine has ended. It returns nil; the pool stays usable, and
// [Pool.CheckHealth] may start the checks again.
func (p *Pool) Close() error {
	p.mu.Lock()
	c := p.checker
	p.checker = nil
	p.mu.Unlock()
	if c != nil {
		c.cancel()
		<-c.done
	}
	return nil
}

// probeState counts one upstream's checks in a row, owned by checkLoop.
type probeState struct{ passes, fails int }

func (p *Pool) checkLoop(ctx context.Context, hc HealthCheck) {
	state := make(map[*Upstream]*probeState)
	timer := time.NewTimer(0) // the first round at once
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		ups := p.All()
		results := make([]bool, len(ups)) // per round, not per request
		var wg sync.WaitGroup
		for i, u := range ups {
			wg.Go(func() { results[i] = probe(ctx, hc, u) })
		}
		wg.Wait()
		if ctx.Err() != nil {
			return // the results of a canceled round mean nothing
		}
		seen := make(map[*Upstream]bool, len(ups))
		for i, u := range ups {
			seen[u] = true
			s := state[u]
			if s == nil {
				s = &probeState{}
				state[u] = s
			}
			if results[i] {
				s.passes, s.fails = s.passes+1, 0
				if !u.Healthy() && s.passes >= hc.Rise {
					p.SetHealthy(u, true)
				}
			} else {
				s.passes, s.fails = 0, s.fails+1
				if u.Healthy() && s.fails >= hc.Fall {
					p.SetHealthy(u, false)
				}
			}
		}
		for u := range state {
			if !seen[u] {
				delete(state, u) // removed from the pool
			}
		}
		wait := hc.Interval - time.Since(start)
		if hc.Jitter > 0 {
			wait += rand.N(hc.Jitter)
		}
		timer.Reset(max(wait, 0))
	}
}

// probe sends one check to u and reports whether it passed.
func probe(ctx context.Context, hc HealthCheck, u *Upstream) bool {
	ctx, cancel := context.WithTimeout(ctx, hc.Timeout)
	defer cancel()
	target := &url.URL{Scheme: u.URL.Scheme, Host: u.URL.Host, Path: singleJoin(u.URL.Path, hc.Path), RawQuery: u.URL.RawQuery}
	if target.Scheme == "h2c" {
		target.Scheme = "http"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", "gateway-health-check")
	res, err := hc.Transport.RoundTrip(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // so the connection may be reused
	res.Body.Close()
	if hc.Expect != 0 {
		return res.StatusCode == hc.Expect
	}
	return res.StatusCode >= 200 && res.StatusCode < 300
}

// singleJoin joins two URL paths with one slash between them.
func singleJoin(a, b string) string {
	switch as, bs := strings.HasSuffix(a, "/"), strings.HasPrefix(b, "/"); {
	case as && bs:
		return a + b[1:]
	case !as && !bs:
		return a + "/" + b
	}
	return a + b
}
