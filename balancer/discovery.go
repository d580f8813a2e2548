package balancer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Source tells which upstreams a [Pool] should hold. Resolve returns
// their URLs as [NewUpstream] accepts them. A user's own registry (Consul,
// Kubernetes endpoints, a file) implements it; [Static], [DNS] and [SRV]
// are provided.
type Source interface {
	Resolve(ctx context.Context) ([]string, error)
}

// UpstreamSource is a [Source] that can also return whole upstreams, with
// their Weight and Priority set. A [Discoverer] uses it when its Source
// implements it; only the URL, Weight and Priority of each are taken.
type UpstreamSource interface {
	ResolveUpstreams(ctx context.Context) ([]*Upstream, error)
}

// Static is a [Source] of a fixed list of URLs.
type Static []string

// Resolve returns a copy of the list.
func (s Static) Resolve(context.Context) ([]string, error) { return slices.Clone(s), nil }

// DNS is a [Source] of one upstream per address (A and AAAA records) of a
// host name, as "scheme://ip:port", sorted.
type DNS struct {
	// Name is the host name looked up.
	Name string
	// Port is the upstreams' port. Zero means the scheme's default.
	Port int
	// Scheme is the upstreams' scheme: http, https or h2c. Empty means
	// http.
	Scheme string
	// Resolver looks the name up. Nil means [net.DefaultResolver].
	Resolver *net.Resolver
}

// Resolve looks up d.Name's addresses.
func (d DNS) Resolve(ctx context.Context) ([]string, error) {
	ips, err := resolver(d.Resolver).LookupNetIP(ctx, "ip", d.Name)
	if err != nil {
		return nil, err
	}
	urls := make([]string, 0, len(ips))
	for _, ip := range ips {
		urls = append(urls, joinURL(d.Scheme, ip.Unmap().String(), d.Port))
	}
	slices.Sort(urls) // answers come in any order; the pool's should not churn
	return slices.Compact(urls), nil
}

// SRV is a [Source] of one upstream per SRV record of
// "_Service._Proto.Name", as "scheme://target:port", with the record's
// weight as [Upstream.Weight] and its priority as [Upstream.Priority].
// A weight of 0, which RFC 2782 reserves for records seldom chosen,
// counts as 1.
type SRV struct {
	// Service and Proto name the service, as "http" and "tcp". When both
	// are empty, Name is looked up as it is.
	Service, Proto string
	// Name is the domain the service is in.
	Name string
	// Scheme is the upstreams' scheme: http, https or h2c. Empty means
	// http.
	Scheme string
	// Resolver looks the records up. Nil means [net.DefaultResolver].
	Resolver *net.Resolver
}

// Resolve looks up s's records and returns their URLs, sorted.
func (s SRV) Resolve(ctx context.Context) ([]string, error) {
	ups, err := s.ResolveUpstreams(ctx)
	if err != nil {
		return nil, err
	}
	urls := make([]string, len(ups))
	for i, u := range ups {
		urls[i] = u.URL.String()
	}
	return urls, nil
}

// ResolveUpstreams looks up s's records and returns one upstream for each,
// sorted by URL. A record that makes no valid URL is an error.
func (s SRV) ResolveUpstreams(ctx context.Context) ([]*Upstream, error) {
	_, addrs, err := resolver(s.Resolver).LookupSRV(ctx, s.Service, s.Proto, s.Name)
	if err != nil {
		return nil, err
	}
	ups := make([]*Upstream, 0, len(addrs))
	for _, a := range addrs {
		u, err := NewUpstream(joinURL(s.Scheme, strings.TrimSuffix(a.Target, "."), int(a.Port)))
		if err != nil {
			return nil, err
		}
		u.Weight, u.Priority = int(a.Weight), int(a.Priority)
		ups = append(ups, u)
	}
	slices.SortFunc(ups, func(a, b *Upstream) int { return strings.Compare(a.URL.String(), b.URL.String()) })
	return ups, nil
}

func resolver(r *net.Resolver) *net.Resolver {
	if r == nil {
		return net.DefaultResolver
	}
	return r
}

// joinURL makes "scheme://host:port", brackets around an IPv6 host
// included; port 0 is left out.
func joinURL(scheme, host string, port int) string {
	if scheme == "" {
		scheme = "http"
	}
	if port != 0 {
		host = net.JoinHostPort(host, strconv.Itoa(port))
	} else if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() {
		host = "[" + host + "]"
	}
	return (&url.URL{Scheme: scheme, Host: host}).String()
}

// Discovery configures a [Discoverer]: which [Source] it follows, how
// often, and what it does with errors. Its zero value, but for Source,
// re-resolves every 30s and drains vanished upstreams for up to 30s.
type Discovery struct {
	// Source tells the upstreams. It is required.
	Source Source
	// Interval is the time between the starts of two resolutions by
	// [Discoverer.Start]. Zero means 30s.
	Interval time.Duration
	// DrainTimeout bounds the wait for a vanished upstream's requests in
	// flight; after it the upstream is removed regardless. Zero means 30s.
	DrainTimeout time.Duration
	// OnError is called, from the Discoverer's goroutine and with no lock
	// held, with each error of a periodic resolution: the Source's
	// failure, [ErrNoUpstreams], or an unusable or repeated URL (wrapping
	// [ErrBadUpstream]). Nil means errors are dropped. [Discoverer.Refresh]
	// returns its errors instead.
	OnError func(error)
}

// ErrBadDiscovery is returned by [NewDiscoverer] for a nil pool or Source,
// or a negative duration.
var ErrBadDiscovery = errors.New("balancer: bad discovery settings")

// ErrNoUpstreams is reported when a [Source] returns no usable URL; the
// pool then keeps its members.
var ErrNoUpstreams = errors.New("balancer: discovery found no upstreams")

// ErrDiscovering is returned by [Discoverer.Start] when it already runs.
var ErrDiscovering = errors.New("balancer: discovery already running")

// Discoverer keeps a [Pool]'s members in step with a [Source]: the Source
// owns the pool's membership. Each resolution adds the URLs that are new
// and drains ([Pool.Drain]) then removes the members whose URL is gone;
// a member being drained by someone else is left alone. A resolution that
// fails, or finds no usable URL, changes nothing: a pool is never emptied
// because a lookup failed. An unusable or repeated URL is reported and
// skipped; the others are applied.
//
// A member keeps the Weight and Priority it joined with: when a Source
// changes them for a URL already in the pool, the change is not applied.
//
// Resolutions are serialized; one pool should have one Discoverer. The
// Source is called with no pool lock held, but while the Discoverer's own
// resolution is in progress: it must not call [Discoverer.Refresh].
type Discoverer struct {
	pool *Pool
	d    Discovery // defaults applied

	pass sync.Mutex // serializes resolutions; guards nothing else

	mu     sync.Mutex // guards cancel and done
	cancel context.CancelFunc
	done   chan struct{}
}

// NewDiscoverer returns a Discoverer of p's members from the settings d (a
// copy). It resolves nothing yet: call [Discoverer.Refresh] for one
// resolution, or [Discoverer.Start] for periodic ones.
func NewDiscoverer(p *Pool, d Discovery) (*Discoverer, error) {
	if p == nil || d.Source == nil || d.Interval < 0 || d.DrainTimeout < 0 {
		return nil, ErrBadDiscovery
	}
	if d.Interval == 0 {
		d.Interval = 30 * time.Second
	}
	if d.DrainTimeout == 0 {
		d.DrainTimeout = 30 * time.Second
	}
	return &Discoverer{pool: p, d: d}, nil
}

// Refresh resolves the Source once and applies the result to the pool.
// It returns when vanished members are removed, at most DrainTimeout
// later, or when ctx ends, the members still draining then being removed
// at once. It returns every error met, joined (see [errors.Join]); the
// valid URLs are applied even then.
func (d *Discoverer) Refresh(ctx context.Context) error {
	return errors.Join(d.refresh(ctx)...)
}

func (d *Discoverer) refresh(ctx context.Context) []error {
	d.pass.Lock()
	defer d.pass.Unlock()

	ups, errs := d.resolve(ctx)
	if len(ups) == 0 {
		if !isResolveErr(errs) { // an empty answer, or none usable
			errs = append(errs, ErrNoUpstreams)
		}
		return errs // and the pool keeps its members
	}

	want := make(map[string]bool, len(ups))
	for _, u := range ups {
		want[urlKey(u)] = true
	}
	p := d.pool
	p.mu.Lock()
	present := make(map[string]bool, len(p.all))
	var gone []*Upstream
	for _, m := range p.all {
		key := urlKey(m)
		present[key] = true
		if !want[key] && !p.draining[m] {
			gone = append(gone, m)
		}
	}
	p.mu.Unlock()

	for _, u := range ups {
		if present[urlKey(u)] {
			continue
		}
		if err := p.Add(u); err != nil {
			errs = append(errs, err) // added by someone else meanwhile
		}
	}

	if len(gone) > 0 {
		dctx, cancel := context.WithTimeout(ctx, d.d.DrainTimeout)
		var wg sync.WaitGroup // drains in parallel: one slow upstream does not hold the others
		for _, u := range gone {
			wg.Go(func() {
				if p.Drain(dctx, u) != nil {
					p.Remove(u) // timed out, or stopped: the Source says it is gone
				}
			})
		}
		wg.Wait()
		cancel()
	}
	return errs
}

// resolveError marks the Source's own failure among a resolution's errors.
type resolveError struct{ err error }

func (e resolveError) Error() string { return "balancer: resolving upstreams: " + e.err.Error() }
func (e resolveError) Unwrap() error { return e.err }

func isResolveErr(errs []error) bool {
	var re resolveError
	return len(errs) == 1 && errors.As(errs[0], &re)
}

// resolve asks the Source and returns the usable upstreams, in its order
// and each URL once, with the errors met.
func (d *Discoverer) resolve(ctx context.Context) ([]*Upstream, []error) {
	var ups []*Upstream
	var errs []error
	if us, ok := d.d.Source.(UpstreamSource); ok {
		got, err := us.ResolveUpstreams(ctx)
		if err != nil {
			return nil, []error{resolveError{err}}
		}
		for _, g := range got {
			if g == nil || g.URL == nil {
				errs = append(errs, fmt.Errorf("%w: nil upstream or upstream without URL", ErrBadUpstream))
				continue
			}
			u, err := NewUpstream(g.URL.String())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			u.Weight, u.Priority = g.Weight, g.Priority // a fresh upstream: the Source's may be reused
			ups = append(ups, u)
		}
	} else {
		urls, err := d.d.Source.Resolve(ctx)
		if err != nil {
			return nil, []error{resolveError{err}}
		}
		for _, raw := range urls {
			u, err := NewUpstream(raw)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ups = append(ups, u)
		}
	}
	seen := make(map[string]bool, len(ups))
	uniq := ups[:0]
	for _, u := range ups {
		key := urlKey(u)
		if seen[key] {
			errs = append(errs, fmt.Errorf("%w %q: listed twice", ErrBadUpstream, u))
			continue
		}
		seen[key] = true
		uniq = append(uniq, u)
	}
	return uniq, errs
}

// Start runs resolutions in one goroutine, the first at once and the next
// every Interval after the last one started (or when it ends, if it took
// longer), until ctx ends or [Discoverer.Close] is called. Errors go to
// OnError; none is reported for a resolution cut short by the stop. It
// returns [ErrDiscovering] when the goroutine already runs.
func (d *Discoverer) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done != nil {
		select {
		case <-d.done: // ended with its context: it may start again
		default:
			return ErrDiscovering
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	d.cancel, d.done = cancel, done
	go func() {
		defer close(done)
		d.loop(ctx)
	}()
	return nil
}

// Close stops the goroutine that [Discoverer.Start] began, if it runs, and
// waits until it has ended; upstreams it was draining are removed at once.
// It returns nil. The Discoverer may be started again.
func (d *Discoverer) Close() error {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.cancel, d.done = nil, nil
	d.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

func (d *Discoverer) loop(ctx context.Context) {
	timer := time.NewTimer(0) // the first resolution at once
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		errs := d.refresh(ctx)
		if ctx.Err() != nil {
			return
		}
		if d.d.OnError != nil {
			for _, err := range errs {
				d.d.OnError(err)
			}
		}
		timer.Reset(max(d.d.Interval-time.Since(start), 0))
	}
}
