package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/ratelimit"
)

// callLog records, in order, which policy the pipeline called. It is
// shared by the fakes of one test.
type callLog struct {
	mu    sync.Mutex // guards calls
	calls []string
}

func (l *callLog) add(call string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.calls = append(l.calls, call)
	l.mu.Unlock()
}

// take returns the calls recorded so far and forgets them.
func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

// fakeLimiter answers every request with decision and err, and records the
// keys and costs it was asked about.
type fakeLimiter struct {
	log      *callLog
	decision ratelimit.Decision
	err      error

	mu    sync.Mutex // guards keys and costs
	keys  []string
	costs []int64
}

var _ gateway.Limiter = (*fakeLimiter)(nil)

func (f *fakeLimiter) Allow(_ context.Context, key string, cost int64) (ratelimit.Decision, error) {
	f.log.add("limiter")
	f.mu.Lock()
	f.keys = append(f.keys, strings.Clone(key)) // key lives for the call alone
	f.costs = append(f.costs, cost)
	f.mu.Unlock()
	return f.decision, f.err
}

// fakeBreaker admits attempts with increasing tickets unless open, and
// records what Done is told.
type fakeBreaker struct {
	log  *callLog
	open bool

	mu      sync.Mutex // guards issued and done
	issued  []uint64
	done    []breakerDone
	tickets uint64
}

type breakerDone struct {
	ticket  uint64
	outcome gateway.Outcome
}

var _ gateway.Breaker = (*fakeBreaker)(nil)

func (f *fakeBreaker) Allow() (uint64, error) {
	f.log.add("breaker.Allow")
	if f.open {
		return 0, fmt.Errorf("fake breaker: %w", gateway.ErrCircuitOpen)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tickets++
	f.issued = append(f.issued, f.tickets)
	return f.tickets, nil
}

func (f *fakeBreaker) Done(ticket uint64, o gateway.Outcome) {
	f.log.add("breaker.Done")
	f.mu.Lock()
	f.done = append(f.done, breakerDone{ticket, o})
	f.mu.Unlock()
}

// fakeCache keeps entries in a map and counts what it is asked.
type fakeCache struct {
	log *callLog

	mu      sync.Mutex // guards entries, gets and sets
	entries map[string]*cache.Entry
	gets    int
	sets    int
}

var _ gateway.Cache = (*fakeCache)(nil)

func (f *fakeCache) Get(_ context.Context, key string) (*cache.Entry, bool) {
	f.log.add("cache.Get")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	e, ok := f.entries[key]
	return e, ok
}

func (f *fakeCache) Set(_ context.Context, key string, e *cache.Entry) {
	f.log.add("cache.Set")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	if f.entries == nil {
		f.entries = make(map[string]*cache.Entry)
	}
	f.entries[key] = e
}

// fakeBalancer records the upstreams it is offered and picks with pick, or
// the first one when pick is nil.
type fakeBalancer struct {
	log  *callLog
	pick func([]*balancer.Upstream) *balancer.Upstream

	mu      sync.Mutex // guards offered
	offered [][]*balancer.Upstream
}

var _ gateway.Balancer = (*fakeBalancer)(nil)

func (f *fakeBalancer) Pick(_ *http.Request, ups []*balancer.Upstream) *balancer.Upstream {
	f.log.add("balancer")
	f.mu.Lock()
	f.offered = append(f.offered, ups)
	f.mu.Unlock()
	if f.pick != nil {
		return f.pick(ups)
	}
	if len(ups) == 0 {
		return nil
	}
	return ups[0]
}

// countingUpstream serves h and counts the requests that reach it.
func countingUpstream(t *testing.T, h http.HandlerFunc) (string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &hits
}

func okHandler(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }

// errorBodyType returns the "type" of a JSON error body, or "" with a
// test error when body is not one.
func errorBodyType(t *testing.T, body []byte) string {
	t.Helper()
	var v struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Error.Type == "" || v.Error.Message == "" {
		t.Errorf("body %q is not a JSON error (%v)", body, err)
	}
	return v.Error.Type
}

// TestProxyPolicyLimiter shows what the Proxy does with each answer of its
// Limiter: allowed goes on, refused is 429 with Retry-After in whole
// seconds rounded up, an error is 503, and the upstream sees neither.
func TestProxyPolicyLimiter(t *testing.T) {
	tests := []struct {
		name           string
		decision       ratelimit.Decision
		err            error
		wantStatus     int
		wantRetryAfter string
		wantType       string
		wantHits       int64
	}{
		{"allowed", ratelimit.Decision{Allowed: true}, nil, http.StatusOK, "", "", 1},
		{"refused, 1.5s", ratelimit.Decision{RetryAfter: 1500 * time.Millisecond}, nil, http.StatusTooManyRequests, "2", "rate_limited", 0},
		{"refused, 3s", ratelimit.Decision{RetryAfter: 3 * time.Second}, nil, http.StatusTooManyRequests, "3", "rate_limited", 0},
		{"refused, 1ns", ratelimit.Decision{RetryAfter: 1}, nil, http.StatusTooManyRequests, "1", "rate_limited", 0},
		{"refused, no retry time", ratelimit.Decision{}, nil, http.StatusTooManyRequests, "", "rate_limited", 0},
		{"limiter error", ratelimit.Decision{}, fmt.Errorf("store unreachable"), http.StatusServiceUnavailable, "", "unavailable", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, hits := countingUpstream(t, okHandler)
			lim := &fakeLimiter{decision: tt.decision, err: tt.err}
			p := &gateway.Proxy{Upstreams: balancer.MustPool(url), Limiter: lim, Logger: discardLog}
			t.Cleanup(p.CloseIdleConnections)

			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("Status = %d; want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("Retry-After = %q; want %q", got, tt.wantRetryAfter)
			}
			if tt.wantType != "" {
				if got := errorBodyType(t, rec.Body.Bytes()); got != tt.wantType {
					t.Errorf("error type = %q; want %q", got, tt.wantType)
				}
				if got := rec.Header().Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q; want application/json", got)
				}
			}
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("upstream hits = %d; want %d", got, tt.wantHits)
			}
			if len(lim.costs) != 1 || lim.costs[0] != 1 {
				t.Errorf("Allow costs = %v; want [1]", lim.costs)
			}
		})
	}
}

// TestProxyPolicyLimitKey shows which key the Limiter gets: the client's
// address without its port (IPv6 by /64), never a forwarding header, or
// what LimitKey builds.
func TestProxyPolicyLimitKey(t *testing.T) {
	tests := []struct {
		name       string
		remoteAddr string
		limitKey   ratelimit.KeyFunc
		want       string
	}{
		{"IPv4 address", "192.0.2.7:4321", nil, "192.0.2.7"},
		{"IPv6 address", "[2001:db8::1]:4321", nil, "2001:db8::/64"},
		{"LimitKey", "192.0.2.7:4321", ratelimit.ByHeader("X-Api-Key"), "k-123"},
		{"composite", "192.0.2.7:4321", ratelimit.Compose(ratelimit.ByHeader("X-Api-Key"), ratelimit.ByIP), "k-123\x00192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := &fakeLimiter{decision: ratelimit.Decision{Allowed: false}}
			p := &gateway.Proxy{Upstreams: balancer.MustPool("http://192.0.2.1"), Limiter: lim, LimitKey: tt.limitKey, Logger: discardLog}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remoteAddr
			r.Header.Set("X-Api-Key", "k-123")
			r.Header.Set("X-Forwarded-For", "198.51.100.1")
			p.ServeHTTP(httptest.NewRecorder(), r)
			if len(lim.keys) != 1 || lim.keys[0] != tt.want {
				t.Errorf("Allow keys = %q; want [%q]", lim.keys, tt.want)
			}
		})
	}
}

// TestProxyPolicyBreakerOpen shows that an open circuit answers 503 without
// reaching the upstream, and that Done is not called for an attempt that
// was never admitted.
func TestProxyPolicyBreakerOpen(t *testing.T) {
	url, hits := countingUpstream(t, okHandler)
	br := &fakeBreaker{open: true}
	p := &gateway.Proxy{Upstreams: balancer.MustPool(url), Breaker: br, Logger: discardLog}
	t.Cleanup(p.CloseIdleConnections)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("Status = %d; want %d", rec.Code, http.StatusServiceUnavailable)
	}
	if got := errorBodyType(t, rec.Body.Bytes()); got != "circuit_open" {
		t.Errorf("error type = %q; want circuit_open", got)
	}
	if got := hits.Load(); got != 0 {
		t.Errorf("upstream hits = %d; want 0", got)
	}
	if len(br.done) != 0 {
		t.Errorf("Done calls = %v; want none", br.done)
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestProxyPolicyOutcome shows that each admitted attempt gives the
// breaker exactly one Done, with its own ticket and an Outcome whose Status
// and Class say what happened, and that the upstream's counters agree.
func TestProxyPolicyOutcome(t *testing.T) {
	arrived := make(chan struct{}, 1)
	tests := []struct {
		name string
		// upstream returns the upstream's URL.
		upstream func(t *testing.T) string
		// cancel cancels the client's request once the upstream has it.
		cancel     bool
		timeout    time.Duration // Proxy.ResponseHeaderTimeout
		wantStatus int           // the client's; 0 when nothing is written
		want       gateway.Outcome
		wantFailed bool
	}{
		{
			name:       "2xx",
			upstream:   func(t *testing.T) string { u, _ := countingUpstream(t, okHandler); return u },
			wantStatus: http.StatusOK,
			want:       gateway.Outcome{Status: http.StatusOK, Class: balancer.OK},
		},
		{
			name: "4xx",
			upstream: func(t *testing.T) string {
				u, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
				return u
			},
			wantStatus: http.StatusNotFound,
			want:       gateway.Outcome{Status: http.StatusNotFound, Class: balancer.OK},
		},
		{
			name: "5xx",
			upstream: func(t *testing.T) string {
				u, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
				return u
			},
			wantStatus: http.StatusServiceUnavailable,
			want:       gateway.Outcome{Status: http.StatusServiceUnavailable, Class: balancer.ServerError},
			wantFailed: true,
		},
		{
			name:       "connection refused",
			upstream:   func(t *testing.T) string { return "http://" + closedAddr(t) },
			wantStatus: http.StatusBadGateway,
			want:       gateway.Outcome{Class: balancer.ConnectionError},
			wantFailed: true,
		},
		{
			name: "response head too late",
			upstream: func(t *testing.T) string {
				u, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
				return u
			},
			timeout:    50 * time.Millisecond,
			wantStatus: http.StatusGatewayTimeout,
			want:       gateway.Outcome{Class: balancer.Timeout},
			wantFailed: true,
		},
		{
			name: "body cut short",
			upstream: func(t *testing.T) string {
				u, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "100")
					io.WriteString(w, "only part")
					http.NewResponseController(w).Flush()
					panic(http.ErrAbortHandler) // breaks the connection
				})
				return u
			},
			wantStatus: http.StatusOK, // the head was out before the body broke
			want:       gateway.Outcome{Status: http.StatusOK, Class: balancer.ConnectionError},
			wantFailed: true,
		},
		{
			name: "client cancel",
			upstream: func(t *testing.T) string {
				u, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
					arrived <- struct{}{}
					<-r.Context().Done()
				})
				return u
			},
			cancel:     true,
			wantStatus: 0,
			want:       gateway.Outcome{Class: balancer.Canceled},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := &fakeBreaker{}
			pool := balancer.MustPool(tt.upstream(t))
			p := &gateway.Proxy{Upstreams: pool, Breaker: br, ResponseHeaderTimeout: tt.timeout, Logger: discardLog}
			t.Cleanup(p.CloseIdleConnections)

			r := httptest.NewRequest("GET", "/", nil)
			if tt.cancel {
				ctx, cancel := context.WithCancel(r.Context())
				defer cancel()
				r = r.WithContext(ctx)
				go func() {
					<-arrived
					cancel()
				}()
			}
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, r)

			gotStatus := 0
			if rec.Flushed || rec.Body.Len() > 0 || len(rec.Header()) > 0 {
				gotStatus = rec.Code
			}
			if gotStatus != tt.wantStatus {
				t.Errorf("client Status = %d; want %d", gotStatus, tt.wantStatus)
			}
			if len(br.issued) != 1 || len(br.done) != 1 {
				t.Fatalf("Allow gave %d tickets and Done got %d outcomes; want 1 and 1", len(br.issued), len(br.done))
			}
			d := br.done[0]
			if d.ticket != br.issued[0] {
				t.Errorf("Done ticket = %d; want %d", d.ticket, br.issued[0])
			}
			if d.outcome.Status != tt.want.Status || d.outcome.Class != tt.want.Class {
				t.Errorf("Outcome = {Status: %d, Class: %v}; want {Status: %d, Class: %v}",
					d.outcome.Status, d.outcome.Class, tt.want.Status, tt.want.Class)
			}
			if d.outcome.Duration <= 0 || d.outcome.Duration < d.outcome.TTFB {
				t.Errorf("Outcome TTFB = %v, Duration = %v; want 0 < TTFB <= Duration", d.outcome.TTFB, d.outcome.Duration)
			}
			u := pool.All()[0]
			wantFailures := uint64(0)
			if tt.wantFailed {
				wantFailures = 1
			}
			if u.Requests() != 1 || u.Failures() != wantFailures || u.Inflight() != 0 {
				t.Errorf("upstream Requests, Failures, Inflight = %d, %d, %d; want 1, %d, 0",
					u.Requests(), u.Failures(), u.Inflight(), wantFailures)
			}
		})
	}
}

// TestProxyPolicyOutcomePerAttempt shows that over many requests Done is
// called once for each ticket Allow gave, each ticket once.
func TestProxyPolicyOutcomePerAttempt(t *testing.T) {
	url, hits := countingUpstream(t, okHandler)
	br := &fakeBreaker{}
	p := &gateway.Proxy{Upstreams: balancer.MustPool(url), Breaker: br}
	t.Cleanup(p.CloseIdleConnections)
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		})
	}
	wg.Wait()
	if hits.Load() != n {
		t.Fatalf("upstream hits = %d; want %d", hits.Load(), n)
	}
	var got []uint64
	for _, d := range br.done {
		got = append(got, d.ticket)
	}
	slices.Sort(got)
	if !slices.Equal(got, br.issued) {
		t.Errorf("Done tickets = %v; want each of %v once", got, br.issued)
	}
}

// TestProxyPolicyCache shows which responses the Proxy stores and serves
// from its Cache: a second identical GET is answered from the cache only
// when the first response was one that a shared cache may keep and is
// still fresh. A response that varies is stored as a variant, with an
// index beside it (two Sets).
func TestProxyPolicyCache(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		reqHeader  http.Header
		resHeader  http.Header
		body       string
		streamed   bool  // the upstream sends no Content-Length
		maxEntry   int64 // Proxy.MaxCacheEntry
		wantStored bool
		wantSets   int // Cache.Set calls, when not 1 for a stored response and 0 for the rest
	}{
		{name: "max-age", resHeader: http.Header{"Cache-Control": {"max-age=60"}}, wantStored: true},
		{name: "s-maxage", resHeader: http.Header{"Cache-Control": {"public, s-maxage=60"}}, wantStored: true},
		{name: "streamed", resHeader: http.Header{"Cache-Control": {"max-age=60"}}, streamed: true, wantStored: true},
		{name: "no lifetime", resHeader: http.Header{}},
		{name: "max-age=0", resHeader: http.Header{"Cache-Control": {"max-age=0"}}},
		{name: "no-store", resHeader: http.Header{"Cache-Control": {"max-age=60, no-store"}}},
		{name: "private", resHeader: http.Header{"Cache-Control": {"private, max-age=60"}}},
		{name: "Set-Cookie", resHeader: http.Header{"Cache-Control": {"max-age=60"}, "Set-Cookie": {"session=1"}}},
		{name: "Vary", resHeader: http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept-Encoding"}}, wantStored: true, wantSets: 2},
		{name: "Authorization", reqHeader: http.Header{"Authorization": {"Bearer t"}}, resHeader: http.Header{"Cache-Control": {"max-age=60"}}},
		// Stored each time, but never served to a request that asks for
		// the origin's answer (RFC 9111 5.2.1.4).
		{name: "request no-cache", reqHeader: http.Header{"Cache-Control": {"no-cache"}}, resHeader: http.Header{"Cache-Control": {"max-age=60"}}, wantSets: 2},
		{name: "POST", method: "POST", resHeader: http.Header{"Cache-Control": {"max-age=60"}}},
		{name: "body at MaxCacheEntry", resHeader: http.Header{"Cache-Control": {"max-age=60"}}, body: strings.Repeat("a", 16), maxEntry: 16, wantStored: true},
		{name: "body over MaxCacheEntry", resHeader: http.Header{"Cache-Control": {"max-age=60"}}, body: strings.Repeat("a", 17), maxEntry: 16},
		{name: "streamed body over MaxCacheEntry", resHeader: http.Header{"Cache-Control": {"max-age=60"}}, body: strings.Repeat("a", 17), streamed: true, maxEntry: 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = "cached body"
			}
			url, hits := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				for k, vs := range tt.resHeader {
					w.Header()[k] = vs
				}
				if tt.streamed {
					w.WriteHeader(http.StatusOK)
					for i := range body {
						io.WriteString(w, body[i:i+1])
						http.NewResponseController(w).Flush()
					}
					return
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				io.WriteString(w, body)
			})
			c := &fakeCache{}
			p := &gateway.Proxy{Upstreams: balancer.MustPool(url), Cache: c, MaxCacheEntry: tt.maxEntry}
			t.Cleanup(p.CloseIdleConnections)

			method := tt.method
			if method == "" {
				method = "GET"
			}
			var second *httptest.ResponseRecorder
			for range 2 {
				r := httptest.NewRequest(method, "/thing?x=1", nil)
				for k, vs := range tt.reqHeader {
					r.Header[k] = vs
				}
				second = httptest.NewRecorder()
				p.ServeHTTP(second, r)
				if second.Code != http.StatusOK || second.Body.String() != body {
					t.Fatalf("Status = %d, body %.20q; want %d, %.20q", second.Code, second.Body, http.StatusOK, body)
				}
			}

			wantHits, wantSets := int64(2), 0
			if tt.wantStored {
				wantHits, wantSets = 1, 1
			}
			if tt.wantSets != 0 {
				wantSets = tt.wantSets
			}
			if got := hits.Load(); got != wantHits {
				t.Errorf("upstream hits = %d; want %d", got, wantHits)
			}
			if c.sets != wantSets {
				t.Errorf("Cache.Set calls = %d; want %d", c.sets, wantSets)
			}
			age, status := second.Header().Get("Age"), second.Header().Get("Cache-Status")
			if tt.wantStored {
				if n, err := strconv.Atoi(age); err != nil || n < 0 || n > 1 {
					t.Errorf("second response Age = %q; want 0 or 1", age)
				}
				if status != "gateway; hit" {
					t.Errorf("second response Cache-Status = %q; want %q", status, "gateway; hit")
				}
			} else if age != "" || !strings.HasPrefix(status, "gateway; fwd=") {
				t.Errorf("second response Age = %q, Cache-Status = %q; want no Age and a forwarded status", age, status)
			}
		})
	}
}

// TestProxyPolicyCacheEntry shows how stored entries are served: a fresh
// one with its age in the Age header, a stale one not at all.
func TestProxyPolicyCacheEntry(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name       string
		arrivedAge string // the Age header stored with the entry
		stored     time.Time
		expires    time.Time
		wantHit    bool
		wantAge    string
		wantBody   string
	}{
		{"fresh, stored 30s ago", "", now.Add(-30 * time.Second), now.Add(30 * time.Second), true, "30", "from cache"},
		{"fresh, arrived 20s old", "20", now.Add(-30 * time.Second), now.Add(10 * time.Second), true, "50", "from cache"},
		{"stale", "", now.Add(-90 * time.Second), now.Add(-30 * time.Second), false, "", "from upstream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, hits := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from upstream") })
			r := httptest.NewRequest("GET", "/thing", nil)
			c := &fakeCache{entries: map[string]*cache.Entry{
				cache.Key(r): {
					Status:  http.StatusOK,
					Header:  http.Header{"Content-Type": {"text/plain"}, "Cache-Control": {"max-age=60"}},
					Body:    []byte("from cache"),
					Stored:  tt.stored,
					Expires: tt.expires,
				},
			}}
			p := &gateway.Proxy{Upstreams: balancer.MustPool(url), Cache: c}
			t.Cleanup(p.CloseIdleConnections)
			if tt.arrivedAge != "" {
				c.entries[cache.Key(r)].Header.Set("Age", tt.arrivedAge)
			}
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, r)
			if rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q; want %q", rec.Body, tt.wantBody)
			}
			wantHits := int64(1)
			if tt.wantHit {
				wantHits = 0
			}
			if hits.Load() != wantHits {
				t.Errorf("upstream hits = %d; want %d", hits.Load(), wantHits)
			}
			// Age is whole seconds; the request takes well under one.
			if got := rec.Header().Get("Age"); got != tt.wantAge {
				t.Errorf("Age = %q; want %q", got, tt.wantAge)
			}
		})
	}
}

// TestProxyPolicyOrder shows the order in which the pipeline calls its
// policies: limiter, cache lookup, balancer, breaker admit, the upstream,
// the outcome to the breaker, and last the cache store; and that a cache
// hit stops after the lookup.
func TestProxyPolicyOrder(t *testing.T) {
	calls := &callLog{}
	url, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		calls.add("upstream")
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello")
	})
	p := &gateway.Proxy{
		Upstreams: balancer.MustPool(url),
		Limiter:   &fakeLimiter{log: calls, decision: ratelimit.Decision{Allowed: true}},
		Cache:     &fakeCache{log: calls},
		Balancer:  &fakeBalancer{log: calls},
		Breaker:   &fakeBreaker{log: calls},
	}
	t.Cleanup(p.CloseIdleConnections)

	steps := []struct {
		name string
		want []string
	}{
		{"miss", []string{"limiter", "cache.Get", "balancer", "breaker.Allow", "upstream", "breaker.Done", "cache.Set"}},
		{"hit", []string{"limiter", "cache.Get"}},
	}
	for _, step := range steps {
		p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		if got := calls.take(); !slices.Equal(got, step.want) {
			t.Errorf("%s: calls = %q; want %q", step.name, got, step.want)
		}
	}
}

// TestProxyPolicyBalancer shows that a Balancer is offered only the
// healthy upstreams, and that when it picks none the answer is 503 and
// nothing further is asked.
func TestProxyPolicyBalancer(t *testing.T) {
	pool := balancer.MustPool("http://192.0.2.1", "http://192.0.2.2", "http://192.0.2.3")
	all := pool.All()
	never := func([]*balancer.Upstream) *balancer.Upstream { return nil }

	steps := []struct {
		name string
		down []int // indexes of All to take out of rotation before the step
		up   []int // and back into it
		want []*balancer.Upstream
	}{
		{name: "all healthy", want: all},
		{name: "one down", down: []int{1}, want: []*balancer.Upstream{all[0], all[2]}},
		{name: "all down", down: []int{0, 2}, want: []*balancer.Upstream{}},
		{name: "one back", up: []int{2}, want: []*balancer.Upstream{all[2]}},
	}
	calls := &callLog{}
	bal := &fakeBalancer{log: calls, pick: never}
	br := &fakeBreaker{log: calls}
	p := &gateway.Proxy{Upstreams: pool, Balancer: bal, Breaker: br, Logger: discardLog}
	for i, step := range steps {
		for _, j := range step.down {
			pool.SetHealthy(all[j], false)
		}
		for _, j := range step.up {
			pool.SetHealthy(all[j], true)
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: Status = %d; want %d", step.name, rec.Code, http.StatusServiceUnavailable)
		}
		if got := bal.offered[i]; !slices.Equal(got, step.want) {
			t.Errorf("%s: offered %v; want %v", step.name, got, step.want)
		}
		if got := calls.take(); !slices.Equal(got, []string{"balancer"}) {
			t.Errorf("%s: calls = %q; want only the balancer", step.name, got)
		}
	}
}

// TestProxyPolicyBalancerPick shows that the upstream the Balancer picks is
// the one that gets the request.
func TestProxyPolicyBalancerPick(t *testing.T) {
	var urls []string
	for i := range 3 {
		u, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, i) })
		urls = append(urls, u)
	}
	pool := balancer.MustPool(urls...)
	last := func(ups []*balancer.Upstream) *balancer.Upstream { return ups[len(ups)-1] }
	p := &gateway.Proxy{Upstreams: pool, Balancer: &fakeBalancer{pick: last}}
	t.Cleanup(p.CloseIdleConnections)
	for _, want := range []string{"2", "2"} {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Body.String() != want {
			t.Errorf("answered by upstream %q; want %q", rec.Body, want)
		}
	}
}

// TestProxyPolicyCacheHead shows that a HEAD is answered from the stored
// GET of the same resource, with its header and no body, and that a HEAD
// that finds nothing is forwarded and stores nothing.
func TestProxyPolicyCacheHead(t *testing.T) {
	url, hits := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "body")
	})
	c := &fakeCache{}
	p := &gateway.Proxy{Upstreams: balancer.MustPool(url), Cache: c}
	t.Cleanup(p.CloseIdleConnections)
	serve := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}

	if rec := serve("HEAD", "/a"); rec.Code != 200 || hits.Load() != 1 || c.sets != 0 {
		t.Fatalf("HEAD /a with nothing stored: status %d, upstream hits %d, Cache.Set calls %d; want 200, 1, 0", rec.Code, hits.Load(), c.sets)
	}
	serve("GET", "/a")
	if hits.Load() != 2 || c.sets != 1 {
		t.Fatalf("GET /a: upstream hits %d, Cache.Set calls %d; want 2, 1", hits.Load(), c.sets)
	}
	rec := serve("HEAD", "/a")
	if rec.Code != 200 || hits.Load() != 2 || rec.Body.Len() != 0 ||
		rec.Header().Get("Content-Type") != "text/plain" || rec.Header().Get("Cache-Status") == "" {
		t.Errorf("HEAD /a after the GET: status %d, upstream hits %d, body %q, Content-Type %q, Cache-Status %q; want 200 from the cache, no body",
			rec.Code, hits.Load(), rec.Body, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Status"))
	}
}
