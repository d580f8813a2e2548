package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/textproto"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/internal/h1"
	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/ratelimit"
)

// Balancer picks the upstream for a request among the healthy ones. It
// returns nil when none fits. Implementations are safe for concurrent use;
// the ones in package balancer allocate nothing. Pick must not keep ups
// after it returns: with retries, the proxy reuses the slice.
type Balancer interface {
	Pick(r *http.Request, ups []*balancer.Upstream) *balancer.Upstream
}

// Limiter decides whether a request may go ahead. key identifies who is
// limited (a client address, an API key, a tenant) and cost is what the
// request spends, 1 for plain requests. An error means the limiter could not
// decide; a limiter that should fail open returns an allowing [ratelimit.Decision]
// and no error instead.
//
// key is valid only during the call: the Proxy builds it in a pooled
// buffer, which it reuses once Allow returns, so that a key costs no
// allocation. A Limiter that keeps the key (as the key of a map) must copy
// it first, with strings.Clone, as the limiters of package ratelimit do.
// The interface is [ratelimit.Limiter]'s, with the same rule.
type Limiter interface {
	Allow(ctx context.Context, key string, cost int64) (ratelimit.Decision, error)
}

// Breaker is a circuit breaker. Allow admits an attempt or returns an error
// that wraps [ErrCircuitOpen]; every admitted attempt is reported to Done
// with the ticket Allow gave and the attempt's [Outcome]. A Breaker that
// also has the method DoneAt(ticket uint64, o Outcome, now time.Time) is
// told through it instead, with the time the Proxy read when the attempt
// ended, so that it need not read the clock again.
type Breaker interface {
	Allow() (ticket uint64, err error)
	Done(ticket uint64, o Outcome)
}

// UpstreamBreaker keeps one circuit for each upstream. Allow admits an
// attempt at u or returns an error that wraps [ErrCircuitOpen]; every
// admitted attempt is reported to Done with u, the ticket Allow gave and the
// attempt's [Outcome]. Package breaker's PerUpstream is one. As with
// [Breaker], a method DoneAt(u, ticket, o, now time.Time) is used instead of
// Done when there is one.
type UpstreamBreaker interface {
	Allow(u *balancer.Upstream) (ticket uint64, err error)
	Done(u *balancer.Upstream, ticket uint64, o Outcome)
}

// Cache stores responses for the [Proxy]; see [cache.Store]. Package
// cache/store has one in memory and one in Redis. The Proxy decides what is
// stored and what is served, by the rules of package cache; a Cache only
// keeps entries.
type Cache = cache.Store

// LLMProvider is one LLM backend; see [llm.Provider].
type LLMProvider = llm.Provider

// Outcome is what happened in one attempt against an upstream; see
// [balancer.Outcome].
type Outcome = balancer.Outcome

// ProxyRequest is what [Proxy.Rewrite] may change: the outbound request, after
// the proxy has pointed it at the chosen upstream.
type ProxyRequest struct {
	// In is the request the proxy received. Rewrite must not modify it.
	In *http.Request
	// Out is the request that will be sent, with its URL, Host and
	// X-Forwarded headers already set; Rewrite may change anything in it.
	Out *http.Request
	// Upstream is the upstream Out is going to.
	Upstream *balancer.Upstream
}

// Proxy is an [http.Handler] that forwards each request to one of its
// upstreams and copies the answer back. Its zero value, given Upstreams,
// forwards as [net/http/httputil.ReverseProxy] does with SetURL and
// SetXForwarded, with safe timeouts. Every other field is optional.
//
// Each request goes through the pipeline in this order:
//
//  1. Limiter: a refused request gets 429 with Retry-After.
//  2. Cache lookup: a stored response that may answer the request is
//     served at once; one that must be validated makes the request
//     conditional (see [cache.Handler]).
//  3. Balancer pick among the pool's healthy upstreams: none gives 503.
//  4. Breaker admit: an open circuit gives 503. Then the UpstreamBreaker
//     admits the picked upstream; when its circuit refuses, the Balancer
//     picks again among the others (up to 8 times), and 503 comes when
//     none of them is admitted. (Package breaker's PerUpstream also takes an upstream
//     whose circuit opens out of its pool's rotation for the open time,
//     with [balancer.Upstream.Eject], so that the Balancer is offered the
//     others and a lower priority group takes over when a whole group is
//     open.)
//  5. Round trip to the upstream, within DialTimeout,
//     ResponseHeaderTimeout and Timeout.
//  6. Outcome recorded: one [Outcome] goes to the upstream's counters and
//     the breakers.
//  7. Cache store, when the response may be stored, once its body has
//     gone through.
//
// With Mirror set, a share of the requests that pass step 2 are also
// copied to a shadow pool, in the background, once the request's body has
// been read (see [Mirror]).
//
// With Retry set, steps 3 to 6 are one attempt, and a failed attempt may be
// followed by another, up to [RetryPolicy.Attempts]:
//
//   - Only a request that is safe to repeat is retried: its method is GET,
//     HEAD, OPTIONS, TRACE, PUT or DELETE, or it carries an Idempotency-Key
//     (or X-Idempotency-Key) header. Any request is retried after a failure
//     to connect that sent nothing, not one byte of its body read.
//   - Only failures that [RetryPolicy.On] accepts are retried: by default a
//     failure to connect, a timeout before the response head, and 502, 503
//     and 504 responses.
//   - The body of a request that is safe to repeat is read, up to
//     [RetryPolicy.MaxBodyBytes], before the first attempt, and each
//     attempt sends it again from that copy. A larger body is streamed to
//     one attempt, and retried only as any request is, when not one byte
//     of it was read: no upstream ever gets part of a body.
//   - Nothing is written to the client before an attempt is final. A
//     response that is retried is dropped unseen (a short body read and
//     thrown away, a longer one closed); the client sees the last
//     attempt's response or error. A 1xx response (103 Early Hints) is
//     forwarded as it comes, and makes its attempt final.
//   - A 503 or 429 response's Retry-After is honoured when it is no longer
//     than [RetryPolicy.MaxBackoff]; a longer one ends the retries, and the
//     response goes to the client.
//   - Each attempt asks the Balancer again, offered the healthy upstreams
//     not tried yet (all of them when every one has been tried), and the
//     breakers admit each one. When no upstream is picked or the breaker
//     refuses, the attempt before is final.
//   - Each attempt gets its own [Outcome], for its upstream's counters and
//     the breaker. Timeout covers all the attempts and the waits between
//     them; [RetryPolicy.PerAttemptTimeout] each attempt. When the client
//     goes away, no further attempt is made.
//   - Retries come out of a budget, a share of the requests
//     ([RetryPolicy.Budget]), so that a failing upstream does not get
//     more load.
//
// The outbound request loses the hop-by-hop headers (and those named in
// Connection) but keeps "TE: trailers"; gets X-Forwarded-For, -Host and
// -Proto; has its query cleaned of parameters that Go's parser rejects; and
// keeps the client's User-Agent, or none, and its trailers. Responses lose
// their hop-by-hop headers; trailers, 1xx responses (such as 103 Early
// Hints) and protocol upgrades (WebSocket) are forwarded; streamed
// responses (text/event-stream or of unknown length) have their head sent
// at once and their body flushed as it arrives, so full-duplex HTTP/2 and
// gRPC streams work.
//
// A Proxy must not be copied after first use.
type Proxy struct {
	// Upstreams is the pool to forward to. Nil or empty: every request gets
	// 503 with [ErrNoUpstream].
	Upstreams *balancer.Pool

	// Balancer picks among the healthy upstreams. Nil: round robin.
	Balancer Balancer

	// Limiter, when not nil, is asked before anything else, with the key
	// from LimitKey and a cost of 1. The key is valid only during the call
	// (see [Limiter]).
	Limiter Limiter
	// LimitKey builds the Limiter's key for a request (see
	// [ratelimit.KeyFunc]; [ratelimit.Compose] joins several). Nil:
	// [ratelimit.ByIP], the connection's peer address, IPv6 by /64. For
	// RateLimit headers, tiers or throttling, put [ratelimit.Middleware] in
	// front of the Proxy instead.
	LimitKey ratelimit.KeyFunc

	// Breaker, when not nil, admits each attempt and learns its outcome:
	// one circuit for everything the Proxy sends. Nil: none.
	Breaker Breaker
	// UpstreamBreaker, when not nil, keeps a circuit for each upstream.
	// When the picked upstream's circuit refuses an attempt, the Balancer
	// picks again among the others, up to 8 times; the request fails with
	// 503 when none is left or every pick was refused. Nil: none.
	UpstreamBreaker UpstreamBreaker

	// Retry, when not nil, sends a request that failed again, by the rules
	// above and the policy's own. Nil: every request gets one attempt.
	Retry *RetryPolicy

	// Mirror, when not nil, copies a share of the requests to a shadow pool
	// and throws the answers away; see [Mirror]. Nil: nothing is copied.
	Mirror *Mirror

	// Cache, when not nil, makes the Proxy an RFC 9111 shared cache that
	// keeps its responses there: it serves stored GET and HEAD responses,
	// fresh or stale where allowed, validates them with conditional
	// requests, coalesces concurrent misses, and invalidates after unsafe
	// methods, as [cache.Handler] describes. A Cache with a method
	// Purge(ctx, key) (int, error), as package cache/store's have, is
	// needed for invalidation. A miss may wait up to 5 seconds for a
	// concurrent miss of the same resource before going forward itself;
	// Timeout counts from then. [Proxy.Close] stops the background
	// revalidations. Nil: nothing is cached.
	Cache Cache
	// CachePolicy holds the choices RFC 9111 leaves to a cache
	// (CDN-Cache-Control, heuristic freshness). Its zero value is a shared
	// cache.
	CachePolicy cache.Policy
	// MaxCacheEntry is the largest body, in bytes, that is stored; larger
	// bodies stream through uncached. Zero or negative means 1 MiB.
	MaxCacheEntry int64

	// Transport sends the outbound requests. Nil: the proxy's own
	// transports, which speak HTTP/1.1 to http:// upstreams, HTTP/1.1 or
	// HTTP/2 (by ALPN) to https:// upstreams, and HTTP/2 by prior knowledge
	// to h2c:// upstreams, ignore proxy environment variables, never
	// decompress, and apply DialTimeout and ResponseHeaderTimeout. HTTP/1.1
	// goes through a transport of the Proxy's own, in which the handler's
	// goroutine writes the request (its head in one write) and reads the
	// response, with pooled keep-alive connections and no goroutine per
	// request; HTTP/2 goes through net/http's. A Transport of your own sees
	// h2c:// upstreams as http:// and must apply its own dial and
	// response-head timeouts.
	Transport http.RoundTripper

	// TLSClientConfig configures the default Transport's TLS connections
	// to https:// upstreams: RootCAs for upstreams whose certificates a
	// private CA signs, Certificates for mutual TLS, ServerName and the
	// like. The Proxy uses a clone, never the value itself; the clone's
	// NextProtos always offers "h2" and "http/1.1" by ALPN. Nil: the
	// system's roots and no client certificate. It is ignored when
	// Transport is set, and h2c:// upstreams use no TLS.
	TLSClientConfig *tls.Config

	// DialTimeout limits connecting to an upstream, TLS handshake
	// included. Zero means 10 seconds. It applies only to the default
	// Transport. Exceeding it gives 504.
	DialTimeout time.Duration
	// ResponseHeaderTimeout limits the wait for the response head once the
	// request is sent. Zero means 60 seconds; negative means no limit. It
	// applies only to the default Transport. Exceeding it gives 504.
	ResponseHeaderTimeout time.Duration
	// Timeout limits a whole request, from picking the upstream to the end
	// of the response body, every attempt and the waits between them
	// included when Retry is set. Zero means no limit, so that long streams
	// work; protocol upgrades are never limited by it. Exceeding it before
	// the response head gives 504; after, the client connection is aborted.
	Timeout time.Duration

	// TrustedProxies lists the networks of proxies in front of the gateway
	// whose Forwarded and X-Forwarded-* headers are believed. A request from
	// anywhere else has those headers removed before its own are set. Nil:
	// no one is trusted.
	TrustedProxies []netip.Prefix
	// PreserveHost, when true, sends the client's Host header to the
	// upstream. False: the upstream's host, as SetURL does.
	PreserveHost bool

	// Rewrite, when not nil, may change the outbound request after the
	// proxy has set it up. The ProxyRequest, and the outbound URL and
	// header, are reused for later requests: Rewrite must not keep them
	// after it returns.
	Rewrite func(*ProxyRequest)
	// ModifyResponse, when not nil, may change the upstream's response
	// before it is copied. An error from it gives 502. As with Rewrite,
	// the response's Request must not be kept after it returns.
	ModifyResponse func(*http.Response) error

	// FlushInterval is how often a response body is flushed to the client
	// while it is copied. Positive: nothing written, the head included,
	// waits longer than the interval before it is flushed. Zero: only at
	// the end, except that text/event-stream responses and responses of
	// unknown length have their head flushed at once and their body after
	// every write. Negative: that, for every response.
	FlushInterval time.Duration

	// ErrorHandler writes the response when a request fails before the
	// response head was sent. Nil: [WriteError].
	ErrorHandler ErrorHandler
	// Logger receives one record for each failed request. Nil:
	// [slog.Default].
	Logger *slog.Logger

	once   sync.Once
	retry  retrySettings  // Retry with its defaults; attempts is 0 without it
	mirror *mirrorState   // nil without Mirror
	cache  *cache.Handler // nil without Cache
	fwd    http.Handler   // forward, as the cache's next handler
	budget retryBudget
	rr     balancer.RoundRobin
	h1     *h1.Transport   // default transport for http:// and https:// over HTTP/1.1
	tr     *http.Transport // default transport for https:// over HTTP/2
	h2c    *http.Transport // default transport for h2c://
}

// netHTTPOnly, set by tests, makes Proxies send everything through
// net/http's Transport.
var netHTTPOnly atomic.Bool

// The defaults of the Proxy's timeouts.
const (
	defaultDialTimeout           = 10 * time.Second
	defaultResponseHeaderTimeout = 60 * time.Second
	defaultMaxCacheEntry         = 1 << 20
)

func (p *Proxy) init() {
	p.initRetry()
	p.initCache()
	dt := p.DialTimeout
	if dt <= 0 {
		dt = defaultDialTimeout
	}
	d := &net.Dialer{Timeout: dt, KeepAlive: 30 * time.Second}
	p.initMirror(d)
	if p.Transport != nil {
		return
	}
	rht := p.ResponseHeaderTimeout
	switch {
	case rht == 0:
		rht = defaultResponseHeaderTimeout
	case rht < 0:
		rht = 0
	}
	p.tr = &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   dt,
		ResponseHeaderTimeout: rht,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	if p.TLSClientConfig != nil {
		// A clone: the transport adds to NextProtos, and the caller's
		// value must stay as it was.
		p.tr.TLSClientConfig = p.TLSClientConfig.Clone()
	}
	p.h1 = &h1.Transport{
		DialContext:           d.DialContext,
		TLSClientConfig:       p.TLSClientConfig, // h1 clones it
		TLSHandshakeTimeout:   dt,
		ResponseHeaderTimeout: rht,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
	}
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	p.h2c = &http.Transport{
		DialContext:           d.DialContext,
		Protocols:             &protos,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: rht,
		DisableCompression:    true,
	}
}

// CloseIdleConnections closes the idle connections of the default
// transport, or of Transport when it has such a method, and of the
// Mirror's.
func (p *Proxy) CloseIdleConnections() {
	p.once.Do(p.init)
	if p.mirror != nil {
		p.mirror.tr.CloseIdleConnections()
		p.mirror.h2c.CloseIdleConnections()
	}
	if p.Transport != nil {
		if c, ok := p.Transport.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
		return
	}
	p.h1.CloseIdleConnections()
	p.tr.CloseIdleConnections()
	p.h2c.CloseIdleConnections()
}

// roundTrip sends out to a.u through the transport that fits: Transport
// when set, net/http's for h2c:// and for the https:// upstreams that chose
// HTTP/2, and the Proxy's own HTTP/1.1 transport for the rest.
func (a *attempt) roundTrip(out *http.Request) (*http.Response, error) {
	p := a.p
	switch {
	case p.Transport != nil:
		a.noUserAgent(out)
		return p.Transport.RoundTrip(out)
	case a.u.URL.Scheme == "h2c":
		a.noUserAgent(out)
		return p.h2c.RoundTrip(out)
	case netHTTPOnly.Load():
		a.noUserAgent(out)
		return p.tr.RoundTrip(out)
	}
	res, err := p.h1.RoundTrip(out) // adds no User-Agent of its own
	if err != nil && errors.Is(err, h1.ErrHTTP2) {
		// The upstream picked HTTP/2 by ALPN; the request was not sent.
		a.noUserAgent(out)
		return p.tr.RoundTrip(out)
	}
	return res, err
}

// noUserAgent keeps net/http's transports from inventing a User-Agent when
// the client sent none: an empty value makes them send no such field.
func (a *attempt) noUserAgent(out *http.Request) {
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = a.value("")
	}
}

// ServeHTTP forwards r through the pipeline described on [Proxy].
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.once.Do(p.init)

	if p.Limiter != nil {
		if err := p.limit(r); err != nil {
			p.fail(w, r, err)
			return
		}
	}

	if p.cache != nil {
		p.cache.Serve(w, r, p.fwd)
		return
	}
	p.forward(w, r)
}

// initCache builds the cache layer when the Proxy has a Cache.
func (p *Proxy) initCache() {
	if p.Cache == nil {
		return
	}
	maxBody := p.MaxCacheEntry
	if maxBody <= 0 {
		maxBody = defaultMaxCacheEntry
	}
	cfg := cache.Config{Store: p.Cache, Policy: p.CachePolicy, MaxBody: maxBody, Logger: p.Logger}
	if len(p.TrustedProxies) > 0 {
		// The upstream is told the scheme and host a trusted proxy in
		// front says (setForwarded): the cache keys by them too.
		cfg.Origin = p.cacheOrigin
	}
	c, err := cache.New(cfg)
	if err != nil {
		panic("gateway: " + err.Error()) // cannot happen: Store is set and the bounds are positive
	}
	p.cache, p.fwd = c, http.HandlerFunc(p.forward)
}

// cacheOrigin returns the scheme and host the upstream is told r is for:
// those of X-Forwarded-Proto and X-Forwarded-Host when r comes from a
// trusted proxy, r's own otherwise, as setForwarded sends them.
func (p *Proxy) cacheOrigin(r *http.Request) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if p.trusted(remoteIP(r.RemoteAddr)) {
		if v := r.Header["X-Forwarded-Proto"]; len(v) > 0 {
			scheme = v[0]
		}
		if v := r.Header["X-Forwarded-Host"]; len(v) > 0 {
			host = v[0]
		}
	}
	return scheme, host
}

// Close stops the Proxy's background work: the background revalidations
// of its Cache (waiting for those in flight to end), and its idle
// connections. Requests are still served afterwards, without starting
// background revalidations.
func (p *Proxy) Close() {
	p.once.Do(p.init)
	if p.cache != nil {
		p.cache.Close()
	}
	p.CloseIdleConnections()
}

// forward sends r on through the pipeline's steps after the cache lookup.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	if p.mirror != nil {
		var c *mirrorCopy
		if r, c = p.mirror.start(r); c != nil {
			// Deferred, so that it runs once the primary is over, its body
			// read, even when the copy aborts the handler.
			defer p.mirror.send(c, p)
		}
	}

	if p.retry.attempts > 1 {
		p.serveRetry(w, r)
		return
	}

	u, tickets, err := p.admit(r, nil)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	a := newAttempt(p, u)
	u.Begin()
	// Deferred so that the outcome is recorded even when the copy aborts
	// the handler with http.ErrAbortHandler. The cache store comes after
	// it, once forward returns, as the pipeline's order says.
	defer p.finish(a, tickets)
	a.serve(w, r)
}

// admission holds the tickets of the breakers that admitted an attempt, to
// be given back with its outcome.
type admission struct {
	proxy, upstream uint64
}

// admit picks the upstream for the next attempt at r among ups (nil: the
// pool's healthy upstreams) and has the breakers admit the attempt.
func (p *Proxy) admit(r *http.Request, ups []*balancer.Upstream) (*balancer.Upstream, admission, error) {
	if ups == nil && p.Upstreams != nil {
		ups = p.Upstreams.Healthy()
	}
	u := p.pick(r, ups)
	if u == nil {
		return nil, admission{}, &Error{Op: "balance", Err: ErrNoUpstream}
	}
	var t admission
	if p.Breaker == nil && p.UpstreamBreaker == nil {
		return u, t, nil
	}
	if p.Breaker != nil {
		var err error
		if t.proxy, err = p.Breaker.Allow(); err != nil {
			return nil, admission{}, &Error{Op: "breaker", Upstream: u.URL.Host, Err: err}
		}
	}
	if p.UpstreamBreaker == nil {
		return u, t, nil
	}
	// Should the UpstreamBreaker or the Balancer panic from here on, the
	// Breaker gets its ticket back, or a probe of its could be lost.
	admitted := false
	defer func() {
		if !admitted && p.Breaker != nil {
			p.Breaker.Done(t.proxy, Outcome{Class: balancer.Refused})
		}
	}()
	var err error
	if t.upstream, err = p.UpstreamBreaker.Allow(u); err != nil {
		if u, t.upstream, err = p.admitOther(r, ups, u, err); err != nil {
			return nil, admission{}, err
		}
	}
	admitted = true
	return u, t, nil
}

// pick has the Balancer, or round robin, choose among ups.
func (p *Proxy) pick(r *http.Request, ups []*balancer.Upstream) *balancer.Upstream {
	if p.Balancer != nil {
		return p.Balancer.Pick(r, ups)
	}
	return p.rr.Pick(r, ups)
}

// maxRepicks bounds how many times admitOther asks the Balancer again,
// so that a request costs a few picks, not one per upstream, when most
// circuits refuse.
const maxRepicks = 8

// admitOther picks again among ups without refused, whose circuit turned
// the attempt away with err, and without each upstream refused after it,
// until an upstream's circuit admits the attempt, none is left, or
// maxRepicks picks were refused. The candidates are copied to a pooled
// slice: a refusal costs no allocation.
func (p *Proxy) admitOther(r *http.Request, ups []*balancer.Upstream, refused *balancer.Upstream, err error) (*balancer.Upstream, uint64, error) {
	sp := upstreamSlices.Get().(*[]*balancer.Upstream)
	defer releaseUpstreams(sp)
	rest := append((*sp)[:0], ups...)
	defer func() { *sp = rest }() // keeps what append grew, for the pool
	for range maxRepicks {
		i := slices.Index(rest, refused)
		if i < 0 {
			break // a Balancer that picks outside the list: no other choice
		}
		rest = slices.Delete(rest, i, i+1)
		var u *balancer.Upstream
		if len(rest) > 0 {
			u = p.pick(r, rest)
		}
		if u == nil {
			break
		}
		t, e := p.UpstreamBreaker.Allow(u)
		if e == nil {
			return u, t, nil
		}
		refused, err = u, e
	}
	return nil, 0, &Error{Op: "breaker", Upstream: refused.URL.Host, Err: err}
}

// upstreamSlices holds scratch lists of upstreams for admitOther, so that
// a refusal costs no allocation.
var upstreamSlices = sync.Pool{New: func() any {
	s := make([]*balancer.Upstream, 0, 8)
	return &s
}}

func releaseUpstreams(s *[]*balancer.Upstream) {
	clear((*s)[:cap(*s)])
	*s = (*s)[:0]
	upstreamSlices.Put(s)
}

// finish records the outcome of a, an attempt admitted with tickets, and
// releases a.
func (p *Proxy) finish(a *attempt, t admission) {
	now := time.Now() // one clock read for both
	a.o.Duration = now.Sub(a.start)
	a.u.DoneAt(a.o, now)
	p.breakersDone(a.u, t, a.o, now)
	a.release()
}

// breakersDone gives the breakers that admitted an attempt at u with t its
// outcome o, which ended at now.
func (p *Proxy) breakersDone(u *balancer.Upstream, t admission, o Outcome, now time.Time) {
	if b, ok := p.Breaker.(breakerDoneAt); ok {
		b.DoneAt(t.proxy, o, now)
	} else if p.Breaker != nil {
		p.Breaker.Done(t.proxy, o)
	}
	if b, ok := p.UpstreamBreaker.(upstreamBreakerDoneAt); ok {
		b.DoneAt(u, t.upstream, o, now)
	} else if p.UpstreamBreaker != nil {
		p.UpstreamBreaker.Done(u, t.upstream, o)
	}
}

// The optional DoneAt of Breaker and UpstreamBreaker.
type (
	breakerDoneAt interface {
		DoneAt(ticket uint64, o Outcome, now time.Time)
	}
	upstreamBreakerDoneAt interface {
		DoneAt(u *balancer.Upstream, ticket uint64, o Outcome, now time.Time)
	}
)

// limit asks the Limiter about r.
func (p *Proxy) limit(r *http.Request) error {
	d, err := ratelimit.AllowRequest(r, p.Limiter, p.LimitKey, 1)
	if err != nil {
		return &Error{Op: "limit", Status: http.StatusServiceUnavailable, Err: err}
	}
	if !d.Allowed {
		return &Error{Op: "limit", RetryAfter: d.RetryAfter, Err: ErrRateLimited}
	}
	return nil
}

// fail logs err and writes the error response.
func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.log(r, StatusOf(r, err), err)
	h := p.ErrorHandler
	if h == nil {
		h = WriteError
	}
	h(w, r, err)
}

// log records a failed request, at Warn for 5xx statuses and at Debug for
// the rest (429, 499 and the like).
func (p *Proxy) log(r *http.Request, status int, err error) {
	lg := p.Logger
	if lg == nil {
		lg = slog.Default()
	}
	level := slog.LevelWarn
	if status < 500 {
		level = slog.LevelDebug
	}
	if lg.Enabled(r.Context(), level) {
		lg.LogAttrs(r.Context(), level, "proxy: request failed",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.String("error", err.Error()))
	}
}

// attempt is one forwarding of a request to one upstream. Attempts are
// pooled, with the parts of the outbound request they hold, so that a
// request costs no allocation for its URL, its header map and values, or
// its 1xx hook; see [newAttempt] and [attempt.release].
type attempt struct {
	p     *Proxy
	u     *balancer.Upstream
	start time.Time
	o     Outcome

	w             http.ResponseWriter // where the 1xx hook writes
	mu1xx         sync.Mutex          // guards roundTripDone, forwarded1xx, wrote and, until roundTripDone, w
	roundTripDone bool                // RoundTrip has returned: 1xx reports are dropped
	forwarded1xx  bool                // a 1xx went to w: the attempt is final
	wrote         bool                // the transport has written all of the request

	// Reused from request to request.
	trace  httptrace.ClientTrace // hooks bound to a once, never written again
	url    url.URL               // the outbound URL
	header http.Header           // the outbound header, cleared between uses
	vals   []string              // backing array of header's values
	pr     ProxyRequest          // what Rewrite gets

	// reusable is set when the whole response went through. The attempt
	// goes back to the pool only if the transport also said it had written
	// the whole request: until then it may still read the URL and header
	// (net/http's HTTP/2 transport does, after an early response).
	reusable bool
}

var attempts = sync.Pool{New: func() any {
	a := &attempt{header: make(http.Header)}
	// Method values bound once, not closures per request.
	a.trace.Got1xxResponse = a.got1xx
	a.trace.WroteRequest = a.wroteRequest
	return a
}}

// newAttempt returns an attempt at r against u, from the pool.
func newAttempt(p *Proxy, u *balancer.Upstream) *attempt {
	a := attempts.Get().(*attempt)
	a.p, a.u, a.start = p, u, time.Now()
	return a
}

// release returns a to the pool when nothing outside it can reach it any
// more, and otherwise leaves it to the garbage collector.
func (a *attempt) release() {
	a.mu1xx.Lock()
	done := a.reusable && a.wrote
	a.mu1xx.Unlock()
	if !done {
		return
	}
	clear(a.vals) // no stale strings kept alive
	a.vals = a.vals[:0]
	clear(a.header)
	a.p, a.u, a.start = nil, nil, time.Time{}
	a.o, a.w = Outcome{}, nil
	a.roundTripDone, a.forwarded1xx, a.wrote, a.reusable = false, false, false, false
	a.url, a.pr = url.URL{}, ProxyRequest{}
	attempts.Put(a)
}

// wroteRequest learns that the transport is done with the request.
func (a *attempt) wroteRequest(httptrace.WroteRequestInfo) {
	a.mu1xx.Lock()
	a.wrote = true
	a.mu1xx.Unlock()
}

// got1xx forwards a 1xx response (103 Early Hints and the like) to the
// client as it comes.
func (a *attempt) got1xx(code int, header textproto.MIMEHeader) error {
	a.mu1xx.Lock()
	defer a.mu1xx.Unlock()
	if a.roundTripDone {
		// The transport may report a 1xx after RoundTrip returned (on an
		// error); w then belongs to the rest of serve.
		return nil
	}
	h := a.w.Header()
	before := maps.Clone(h) // set in front of the proxy, for the final response
	for k, vs := range header {
		h[k] = vs
	}
	a.w.WriteHeader(code)
	a.forwarded1xx = true
	// The informational headers must not leak into the final response, and
	// what was there before must stay.
	clear(h)
	maps.Copy(h, before)
	return nil
}

// serve sends r to a.u and copies the response to w, filling a.o.
func (a *attempt) serve(w http.ResponseWriter, r *http.Request) {
	upType := upgradeType(r.Header)
	ctx := r.Context()
	if a.p.Timeout > 0 && upType == "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.p.Timeout)
		defer cancel()
	}
	res, out, err := a.send(ctx, w, r, upType, nil)
	if out != nil && out.Body != nil {
		// The transport closes the body, but not on every error path.
		defer out.Body.Close()
	}
	a.deliver(w, r, res, err, upType)
}

// send sends r to a.u within ctx, its body from rp when rp is not nil, and
// returns the response head, or the failure as an [*Error], with a.o's
// Status, Class and TTFB filled. It writes nothing to w, which the 1xx
// hook gets. out is the outbound request, nil when it could not be built.
func (a *attempt) send(ctx context.Context, w http.ResponseWriter, r *http.Request, upType string, rp *replay) (res *http.Response, out *http.Request, err error) {
	a.w = w
	if httptrace.ContextClientTrace(ctx) == nil {
		ctx = httptrace.WithClientTrace(ctx, &a.trace)
	} else {
		// WithClientTrace composes the hooks already in ctx into the trace
		// it is given: a copy for this request, so that the pooled hooks
		// never call another request's.
		t := a.trace
		ctx = httptrace.WithClientTrace(ctx, &t)
	}

	out, err = a.outbound(ctx, r, upType, rp)
	if err != nil {
		a.o.Class = balancer.Refused
		return nil, nil, &Error{Op: "rewrite", Upstream: a.u.URL.Host, Err: err}
	}

	res, err = a.roundTrip(out)
	a.mu1xx.Lock()
	a.roundTripDone = true
	a.mu1xx.Unlock()
	a.o.TTFB = time.Since(a.start)
	if err != nil {
		return nil, out, a.roundTripError(r, ctx, err)
	}
	a.o.Status = res.StatusCode
	if res.StatusCode >= 500 {
		a.o.Class = balancer.ServerError
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		removeHopByHop(res.Header) // a 101 keeps its Upgrade for the tunnel to check
	}
	return res, out, nil
}

// deliver writes to w what send gave, the response res or the error err.
func (a *attempt) deliver(w http.ResponseWriter, r *http.Request, res *http.Response, err error, upType string) {
	p := a.p
	if err != nil {
		p.fail(w, r, err)
		return
	}
	upgraded := res.StatusCode == http.StatusSwitchingProtocols
	if p.ModifyResponse != nil {
		if err := p.ModifyResponse(res); err != nil {
			res.Body.Close()
			p.fail(w, r, &Error{Op: "modify response", Upstream: a.u.URL.Host, Status: http.StatusBadGateway, Err: err})
			return
		}
	}
	if upgraded {
		if err := a.tunnel(w, r, res, upType); err != nil {
			p.fail(w, r, err)
		}
		return
	}
	// Once the response is all through and its body closed, no transport
	// may still hold out's URL and header (RoundTripper's contract).
	a.reusable = a.respond(w, r, res)
}

// roundTripError classifies a failed round trip and records its class.
func (a *attempt) roundTripError(r *http.Request, ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case r.Context().Err() != nil:
		a.o.Class = balancer.Canceled
		err = fmt.Errorf("%w: %w", ErrClientGone, err)
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		a.o.Class = balancer.Timeout
		err = fmt.Errorf("%w: %w", ErrUpstreamTimeout, err)
	default:
		a.o.Class = balancer.ConnectionError
		err = fmt.Errorf("%w: %w", ErrUpstreamConnection, err)
	}
	return &Error{Op: "round trip", Upstream: a.u.URL.Host, Err: err}
}

// remoteIP returns the address part of a RemoteAddr without allocating.
func remoteIP(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}
