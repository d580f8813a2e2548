package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
)

// fastRetry is a retry policy whose waits do not slow tests that run in
// real time.
func fastRetry() *gateway.RetryPolicy {
	return &gateway.RetryPolicy{Backoff: time.Microsecond, MaxBackoff: time.Millisecond}
}

// bodyHit is what a flaky upstream saw of one request.
type bodyHit struct {
	method string
	n      int64
	sha    string
}

// flakyUpstream fails the first fails requests with fail and answers the
// rest with "ok". It reads every request's body whole first, and records it.
type flakyUpstream struct {
	url string

	mu   sync.Mutex // guards hits
	hits []bodyHit
}

func newFlaky(t *testing.T, fails int, fail http.HandlerFunc) *flakyUpstream {
	t.Helper()
	f := &flakyUpstream{}
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		f.mu.Lock()
		f.hits = append(f.hits, bodyHit{r.Method, n, hex.EncodeToString(h.Sum(nil))})
		k := len(f.hits)
		f.mu.Unlock()
		if k <= fails {
			fail(w, r)
			return
		}
		io.WriteString(w, "ok")
	})
	f.url = up.URL
	return f
}

func (f *flakyUpstream) seen() []bodyHit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.hits)
}

func unavailable(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusServiceUnavailable)
}

// TestProxyRetryFlaky shows that an upstream which fails the first
// attempts, with a 503 or by breaking the connection, is answered through
// retries, up to Attempts.
func TestProxyRetryFlaky(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fails      int
		fail       http.HandlerFunc
		wantStatus int
		wantHits   int
	}{
		{"503 once", 1, unavailable, http.StatusOK, 2},
		{"503 twice", 2, unavailable, http.StatusOK, 3},
		{"503 more than Attempts", 3, unavailable, http.StatusServiceUnavailable, 3},
		{"connection reset once", 1, hangUp, http.StatusOK, 2},
		{"connection reset twice", 2, hangUp, http.StatusOK, 3},
		{"connection reset more than Attempts", 3, hangUp, http.StatusBadGateway, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFlaky(t, tc.fails, tc.fail)
			p := proxyTo(t, up.url)
			p.Retry = fastRetry()
			f := newFront(t, p)
			req, _ := http.NewRequestWithContext(boundedContext(t), "GET", f.URL, nil)
			res, body := roundTrip(t, f.Client(), req)
			if res.StatusCode != tc.wantStatus {
				t.Errorf("status = %d %q; want %d", res.StatusCode, body, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusOK && string(body) != "ok" {
				t.Errorf("body = %q; want %q", body, "ok")
			}
			f.waitServed(t, 1)
			if got := len(up.seen()); got != tc.wantHits {
				t.Errorf("upstream hits = %d; want %d", got, tc.wantHits)
			}
			u := p.Upstreams.All()[0]
			if u.Requests() != uint64(tc.wantHits) || u.Inflight() != 0 {
				t.Errorf("upstream Requests, Inflight = %d, %d; want %d, 0", u.Requests(), u.Inflight(), tc.wantHits)
			}
		})
	}
}

// TestProxyRetryMethods shows which requests are retried after a 503, and
// that a retried body arrives whole each time, while a body larger than
// MaxBodyBytes is sent once, whole.
func TestProxyRetryMethods(t *testing.T) {
	const maxBody = 4 << 10
	payload := func(n int) []byte { return bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n] }
	for _, tc := range []struct {
		name     string
		method   string
		key      bool   // send an Idempotency-Key
		body     []byte // nil: none
		chunked  bool   // hide the body's length
		wantHits int    // 2: retried; 1: not
	}{
		{name: "GET", method: "GET", wantHits: 2},
		{name: "DELETE", method: "DELETE", wantHits: 2},
		{name: "POST without key", method: "POST", body: payload(1 << 10), wantHits: 1},
		{name: "PATCH without key", method: "PATCH", body: payload(10), wantHits: 1},
		{name: "POST with key, 1 KiB", method: "POST", key: true, body: payload(1 << 10), wantHits: 2},
		{name: "POST with key, 1 KiB chunked", method: "POST", key: true, body: payload(1 << 10), chunked: true, wantHits: 2},
		{name: "PUT of MaxBodyBytes", method: "PUT", body: payload(maxBody), wantHits: 2},
		{name: "PUT of MaxBodyBytes chunked", method: "PUT", body: payload(maxBody), chunked: true, wantHits: 2},
		{name: "POST with key, over MaxBodyBytes", method: "POST", key: true, body: payload(maxBody + 1), wantHits: 1},
		{name: "POST with key, over MaxBodyBytes chunked", method: "POST", key: true, body: payload(maxBody + 1), chunked: true, wantHits: 1},
		{name: "PUT of 1 MiB chunked", method: "PUT", body: payload(1 << 20), chunked: true, wantHits: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newFlaky(t, 1, unavailable)
			p := proxyTo(t, up.url)
			p.Retry = fastRetry()
			p.Retry.MaxBodyBytes = maxBody
			f := newFront(t, p)

			var body io.Reader
			if tc.body != nil {
				body = bytes.NewReader(tc.body)
				if tc.chunked {
					body = io.MultiReader(body) // length unknown
				}
			}
			req, _ := http.NewRequestWithContext(boundedContext(t), tc.method, f.URL, body)
			if tc.key {
				req.Header.Set("Idempotency-Key", "k-1")
			}
			res, _ := roundTrip(t, f.Client(), req)
			f.waitServed(t, 1)

			wantStatus := http.StatusOK
			if tc.wantHits == 1 {
				wantStatus = http.StatusServiceUnavailable
			}
			if res.StatusCode != wantStatus {
				t.Errorf("status = %d; want %d", res.StatusCode, wantStatus)
			}
			sum := sha256.Sum256(tc.body)
			want := bodyHit{tc.method, int64(len(tc.body)), hex.EncodeToString(sum[:])}
			hits := up.seen()
			if len(hits) != tc.wantHits {
				t.Fatalf("upstream hits = %d; want %d", len(hits), tc.wantHits)
			}
			for i, h := range hits {
				if h != want {
					t.Errorf("attempt %d: upstream got %s of %d bytes, sha256 %.12s; want %d bytes, sha256 %.12s",
						i+1, h.method, h.n, h.sha, want.n, want.sha)
				}
			}
		})
	}
}

// TestProxyRetryConnectFailure shows that any request, a POST without
// idempotency key included, goes to the next upstream when the first
// cannot be reached, its body whole.
func TestProxyRetryConnectFailure(t *testing.T) {
	up := newFlaky(t, 0, nil)
	p := &gateway.Proxy{
		Upstreams: balancer.MustPool("http://"+closedAddr(t), up.url),
		Balancer:  &fakeBalancer{}, // the first offered: the closed one first
		Retry:     fastRetry(),
		Logger:    discardLog,
	}
	t.Cleanup(p.CloseIdleConnections)
	f := newFront(t, p)
	payload := bytes.Repeat([]byte("x"), 100<<10) // over MaxBodyBytes: not kept
	req, _ := http.NewRequestWithContext(boundedContext(t), "POST", f.URL, bytes.NewReader(payload))
	res, body := roundTrip(t, f.Client(), req)
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("response = %d %q; want 200 %q", res.StatusCode, body, "ok")
	}
	sum := sha256.Sum256(payload)
	if hits := up.seen(); len(hits) != 1 || hits[0].n != int64(len(payload)) || hits[0].sha != hex.EncodeToString(sum[:]) {
		t.Errorf("upstream saw %v; want one POST of %d bytes", hits, len(payload))
	}
}

// TestProxyRetryOtherUpstream shows that a retry goes to an upstream not
// tried yet, and to the same one when it is the only one.
func TestProxyRetryOtherUpstream(t *testing.T) {
	t.Run("two upstreams", func(t *testing.T) {
		a, b := newFlaky(t, 1, unavailable), newFlaky(t, 1, unavailable)
		var offered [][]*balancer.Upstream
		bal := &fakeBalancer{pick: func(ups []*balancer.Upstream) *balancer.Upstream {
			offered = append(offered, slices.Clone(ups)) // the proxy reuses ups
			return ups[0]
		}}
		pool := balancer.MustPool(a.url, b.url)
		rp := fastRetry()
		rp.Attempts = 2
		p := &gateway.Proxy{Upstreams: pool, Balancer: bal, Retry: rp, Logger: discardLog}
		t.Cleanup(p.CloseIdleConnections)
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("status = %d; want 503 (each upstream fails once)", rec.Code)
		}
		all := pool.All()
		want := [][]*balancer.Upstream{all, all[1:]}
		if !slices.EqualFunc(offered, want, slices.Equal) {
			t.Errorf("Balancer offered %v; want %v", offered, want)
		}
		if len(a.seen()) != 1 || len(b.seen()) != 1 {
			t.Errorf("hits = %d, %d; want 1, 1", len(a.seen()), len(b.seen()))
		}
	})
	t.Run("one upstream", func(t *testing.T) {
		a := newFlaky(t, 1, unavailable)
		p := proxyTo(t, a.url)
		p.Retry = fastRetry()
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusOK || len(a.seen()) != 2 {
			t.Errorf("status = %d, hits = %d; want 200, 2", rec.Code, len(a.seen()))
		}
	})
}

// TestProxyRetryOutcomes shows that each attempt is admitted by the breaker
// and records its own Outcome there and in its upstream's counters.
func TestProxyRetryOutcomes(t *testing.T) {
	up := newFlaky(t, 2, unavailable)
	br := &fakeBreaker{}
	pool := balancer.MustPool(up.url)
	p := &gateway.Proxy{Upstreams: pool, Breaker: br, Retry: fastRetry(), Logger: discardLog}
	t.Cleanup(p.CloseIdleConnections)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200", rec.Code)
	}
	var got []gateway.Outcome
	for i, d := range br.done {
		if d.ticket != br.issued[i] {
			t.Errorf("Done %d ticket = %d; want %d", i, d.ticket, br.issued[i])
		}
		if d.outcome.Duration < d.outcome.TTFB || d.outcome.TTFB <= 0 {
			t.Errorf("Done %d: TTFB = %v, Duration = %v; want 0 < TTFB <= Duration", i, d.outcome.TTFB, d.outcome.Duration)
		}
		got = append(got, gateway.Outcome{Status: d.outcome.Status, Class: d.outcome.Class})
	}
	want := []gateway.Outcome{
		{Status: 503, Class: balancer.ServerError},
		{Status: 503, Class: balancer.ServerError},
		{Status: 200, Class: balancer.OK},
	}
	if !slices.Equal(got, want) || len(br.issued) != 3 {
		t.Errorf("Allow gave %d tickets; Done got %v; want 3 and %v", len(br.issued), got, want)
	}
	u := pool.All()[0]
	if u.Requests() != 3 || u.Failures() != 2 || u.Inflight() != 0 {
		t.Errorf("Requests, Failures, Inflight = %d, %d, %d; want 3, 2, 0", u.Requests(), u.Failures(), u.Inflight())
	}
}

// TestProxyRetry1xxIsFinal shows that an attempt that forwarded a 1xx
// response to the client is final, even when a 503 follows.
func TestProxyRetry1xxIsFinal(t *testing.T) {
	up := newFlaky(t, 1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	p := proxyTo(t, up.url)
	p.Retry = fastRetry()
	f := newFront(t, p)
	req, _ := http.NewRequestWithContext(boundedContext(t), "GET", f.URL, nil)
	res, _ := roundTrip(t, f.Client(), req)
	if res.StatusCode != http.StatusServiceUnavailable || len(up.seen()) != 1 {
		t.Errorf("status = %d, hits = %d; want 503, 1", res.StatusCode, len(up.seen()))
	}
}

// scriptTransport answers the nth request (from 0) with step(n, r), in
// memory, so that tests can run inside a synctest bubble. It counts the
// requests and the wait between them.
type scriptTransport struct {
	step func(n int, r *http.Request) (*http.Response, error)

	mu    sync.Mutex // guards times
	times []time.Time
}

func (s *scriptTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	return s.step(n, r)
}

func (s *scriptTransport) calls() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.times)
}

// statusResponse is an in-memory response with status and header kv pairs.
func statusResponse(r *http.Request, status int, kv ...string) *http.Response {
	h := http.Header{"Content-Length": {"0"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return &http.Response{StatusCode: status, ProtoMajor: 1, ProtoMinor: 1, Header: h,
		Body: http.NoBody, ContentLength: 0, Request: r}
}

// failThen answers the first fails requests with status (and header kv)
// and the rest with 200.
func failThen(fails, status int, kv ...string) func(int, *http.Request) (*http.Response, error) {
	return func(n int, r *http.Request) (*http.Response, error) {
		if n < fails {
			return statusResponse(r, status, kv...), nil
		}
		return statusResponse(r, http.StatusOK), nil
	}
}

func scriptProxy(tr http.RoundTripper, rp *gateway.RetryPolicy) *gateway.Proxy {
	return &gateway.Proxy{
		Upstreams: balancer.MustPool("http://10.0.0.1:8080"),
		Transport: tr,
		Retry:     rp,
		Logger:    discardLog,
	}
}

// TestProxyRetryAfter shows that a Retry-After within MaxBackoff sets the
// wait before the retry, and that a longer one ends the retries.
func TestProxyRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter string
		wantStatus int
		wantWait   time.Duration // between the two attempts; 0: no retry
	}{
		{"503 with Retry-After 2", 503, "2", 200, 2 * time.Second},
		{"503 with Retry-After as a date", 503, time.Date(2000, 1, 1, 0, 0, 3, 0, time.UTC).Format(http.TimeFormat), 200, 3 * time.Second},
		{"503 with Retry-After over MaxBackoff", 503, "10", 503, 0},
		{"429 with Retry-After, not in On", 429, "1", 429, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := &scriptTransport{step: failThen(1, tc.status, "Retry-After", tc.retryAfter)}
				p := scriptProxy(tr, &gateway.RetryPolicy{MaxBackoff: 5 * time.Second})
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				if rec.Code != tc.wantStatus {
					t.Errorf("status = %d; want %d", rec.Code, tc.wantStatus)
				}
				calls := tr.calls()
				if tc.wantWait == 0 {
					if len(calls) != 1 {
						t.Errorf("attempts = %d; want 1", len(calls))
					}
					if rec.Header().Get("Retry-After") != tc.retryAfter {
						t.Errorf("Retry-After = %q; want the upstream's %q", rec.Header().Get("Retry-After"), tc.retryAfter)
					}
					return
				}
				if len(calls) != 2 {
					t.Fatalf("attempts = %d; want 2", len(calls))
				}
				if got := calls[1].Sub(calls[0]); got != tc.wantWait {
					t.Errorf("wait before the retry = %v; want %v", got, tc.wantWait)
				}
			})
		})
	}
}

// TestProxyRetryBackoff shows that the wait before retry n is at most
// Backoff·2ⁿ⁻¹, capped at MaxBackoff.
func TestProxyRetryBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &scriptTransport{step: failThen(1000, 503)}
		p := scriptProxy(tr, &gateway.RetryPolicy{
			Attempts:   6,
			Backoff:    100 * time.Millisecond,
			MaxBackoff: 300 * time.Millisecond,
		})
		for range 20 {
			p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			time.Sleep(time.Second) // a fresh second of budget
		}
		calls := tr.calls()
		if len(calls) != 20*6 {
			t.Fatalf("attempts = %d; want %d", len(calls), 20*6)
		}
		ceil := []time.Duration{100, 200, 300, 300, 300}
		for i := 0; i < len(calls); i += 6 {
			for n := 1; n < 6; n++ {
				if w := calls[i+n].Sub(calls[i+n-1]); w < 0 || w > ceil[n-1]*time.Millisecond {
					t.Errorf("wait before retry %d = %v; want within [0, %vms]", n, w, ceil[n-1])
				}
			}
		}
	})
}

// TestProxyRetryLongBackoff shows that the wait before a late retry stays
// within MaxBackoff when Backoff·2ⁿ⁻¹ would overflow.
func TestProxyRetryLongBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &scriptTransport{step: failThen(1<<30, 503)}
		p := scriptProxy(tr, &gateway.RetryPolicy{Attempts: 70, Backoff: time.Hour, MaxBackoff: 2 * time.Hour, MinRetriesPerSecond: 100})
		p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		calls := tr.calls()
		if len(calls) != 70 {
			t.Fatalf("attempts = %d; want 70", len(calls))
		}
		for n := 1; n < len(calls); n++ {
			if w := calls[n].Sub(calls[n-1]); w < 0 || w > 2*time.Hour {
				t.Errorf("wait before retry %d = %v; want within [0, 2h]", n, w)
			}
		}
	})
}

// TestProxyRetryBudget shows that retries stop when the budget is spent:
// a share of the requests over the window, with a floor per second.
func TestProxyRetryBudget(t *testing.T) {
	for _, tc := range []struct {
		name        string
		budget      float64
		minPerSec   int
		requests    int
		wantRetries int
	}{
		{"share only", 0.1, -1, 100, 10},
		{"floor only", -1, 3, 100, 3},
		{"defaults", 0, 0, 100, 20}, // 10 from the floor first, then up to 20% in all
		{"share below floor", 0.2, 10, 20, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := &scriptTransport{step: failThen(1<<30, 503)}
				p := scriptProxy(tr, &gateway.RetryPolicy{
					Attempts: 2, Backoff: time.Nanosecond, MaxBackoff: time.Nanosecond,
					Budget: tc.budget, MinRetriesPerSecond: tc.minPerSec,
				})
				for range tc.requests {
					p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				}
				if got := len(tr.calls()) - tc.requests; got != tc.wantRetries {
					t.Errorf("retries = %d; want %d", got, tc.wantRetries)
				}
			})
		})
	}

	t.Run("window", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tr := &scriptTransport{step: failThen(1<<30, 503)}
			p := scriptProxy(tr, &gateway.RetryPolicy{
				Attempts: 2, Backoff: time.Nanosecond, MaxBackoff: time.Nanosecond,
				Budget: -1, MinRetriesPerSecond: 2,
			})
			serve := func(n int) int {
				before := len(tr.calls())
				for range n {
					p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				}
				return len(tr.calls()) - before - n
			}
			if got := serve(5); got != 2 {
				t.Errorf("retries in the first second = %d; want 2", got)
			}
			time.Sleep(time.Second)
			if got := serve(5); got != 2 {
				t.Errorf("retries in the next second = %d; want 2", got)
			}
		})
	})
}

// TestProxyRetryPerAttemptTimeout shows that an attempt that passes
// PerAttemptTimeout before its response head is retried, within Timeout.
func TestProxyRetryPerAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &scriptTransport{step: func(n int, r *http.Request) (*http.Response, error) {
			if n == 0 {
				<-r.Context().Done()
				return nil, r.Context().Err()
			}
			return statusResponse(r, http.StatusOK), nil
		}}
		p := scriptProxy(tr, &gateway.RetryPolicy{PerAttemptTimeout: time.Second})
		p.Timeout = 10 * time.Second
		rec := httptest.NewRecorder()
		start := time.Now()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusOK || len(tr.calls()) != 2 {
			t.Errorf("status = %d, attempts = %d; want 200, 2", rec.Code, len(tr.calls()))
		}
		if d := time.Since(start); d < time.Second || d > time.Second+defaultMaxWait {
			t.Errorf("served in %v; want about 1s", d)
		}
	})
}

// defaultMaxWait is RetryPolicy's default MaxBackoff.
const defaultMaxWait = time.Second

// TestProxyRetryTimeoutCoversAttempts shows that Proxy.Timeout bounds all
// the attempts together.
func TestProxyRetryTimeoutCoversAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &scriptTransport{step: func(n int, r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		}}
		p := scriptProxy(tr, &gateway.RetryPolicy{Attempts: 10, PerAttemptTimeout: time.Second})
		p.Timeout = 2500 * time.Millisecond
		rec := httptest.NewRecorder()
		start := time.Now()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusGatewayTimeout {
			t.Errorf("status = %d; want 504", rec.Code)
		}
		if d := time.Since(start); d > 2500*time.Millisecond {
			t.Errorf("served in %v; want at most Timeout, 2.5s", d)
		}
		if n := len(tr.calls()); n < 2 || n > 3 {
			t.Errorf("attempts = %d; want 2 or 3 in 2.5s of 1s attempts", n)
		}
	})
}

// TestProxyRetryClientCancel shows that no attempt follows once the client
// has gone, whether it goes during an attempt or during the wait after it.
func TestProxyRetryClientCancel(t *testing.T) {
	t.Run("during an attempt", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			tr := &scriptTransport{step: func(n int, r *http.Request) (*http.Response, error) {
				cancel()
				return nil, r.Context().Err()
			}}
			br := &fakeBreaker{}
			p := scriptProxy(tr, &gateway.RetryPolicy{})
			p.Breaker = br
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/", nil))
			if n := len(tr.calls()); n != 1 {
				t.Errorf("attempts = %d; want 1", n)
			}
			if len(br.done) != 1 || br.done[0].outcome.Class != balancer.Canceled {
				t.Errorf("breaker Done = %v; want one Canceled", br.done)
			}
		})
	})
	t.Run("during the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			tr := &scriptTransport{step: failThen(1<<30, 503, "Retry-After", "1")}
			br := &fakeBreaker{}
			p := scriptProxy(tr, &gateway.RetryPolicy{MaxBackoff: 5 * time.Second})
			p.Breaker = br
			time.AfterFunc(500*time.Millisecond, cancel)
			var got error
			p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { got = err }
			start := time.Now()
			p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, "GET", "/", nil))
			if d := time.Since(start); d != 500*time.Millisecond {
				t.Errorf("returned after %v; want 500ms, when the client left", d)
			}
			if n := len(tr.calls()); n != 1 {
				t.Errorf("attempts = %d; want 1", n)
			}
			if !errors.Is(got, gateway.ErrClientGone) {
				t.Errorf("error = %v; want %v", got, gateway.ErrClientGone)
			}
			// The next attempt was admitted before the wait: it is reported,
			// as canceled.
			var classes []balancer.Class
			for _, d := range br.done {
				classes = append(classes, d.outcome.Class)
			}
			if want := []balancer.Class{balancer.ServerError, balancer.Canceled}; !slices.Equal(classes, want) || len(br.issued) != 2 {
				t.Errorf("breaker issued %d tickets, Done classes %v; want 2, %v", len(br.issued), classes, want)
			}
		})
	})
}

// TestProxyRetryServeAllocs guards the allocations of a request that
// succeeds at once on a Proxy with a RetryPolicy: no more than without.
func TestProxyRetryServeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers at random")
	}
	tr := &memTransport{body: bytes.Repeat([]byte("x"), 1024)}
	measure := func(p *gateway.Proxy) float64 {
		r := benchRequest()
		w := &discardWriter{h: http.Header{}}
		return testing.AllocsPerRun(200, func() {
			w.reset()
			p.ServeHTTP(w, r)
		})
	}
	without := measure(&gateway.Proxy{Upstreams: balancer.MustPool("http://10.0.0.1:8080"), Transport: tr})
	with := measure(&gateway.Proxy{Upstreams: balancer.MustPool("http://10.0.0.1:8080"), Transport: tr, Retry: &gateway.RetryPolicy{}})
	if with > without {
		t.Errorf("allocations per request with Retry = %v, without = %v; want no more", with, without)
	}
}

// admitOnce is a Breaker that admits the first attempt and refuses the
// rest.
type admitOnce struct {
	admitted atomic.Bool
	done     atomic.Int32
}

func (b *admitOnce) Allow() (uint64, error) {
	if b.admitted.Swap(true) {
		return 0, gateway.ErrCircuitOpen
	}
	return 1, nil
}

func (b *admitOnce) Done(uint64, gateway.Outcome) { b.done.Add(1) }

// TestProxyRetryRefusedIsFinal shows that when the breaker refuses the
// next attempt, the attempt before is final and reaches the client as the
// upstream sent it.
func TestProxyRetryRefusedIsFinal(t *testing.T) {
	up := newFlaky(t, 1, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream says no", http.StatusServiceUnavailable)
	})
	br := &admitOnce{}
	p := proxyTo(t, up.url)
	p.Retry = fastRetry()
	p.Breaker = br
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "upstream says no\n" {
		t.Errorf("client got %d %q; want the upstream's 503", rec.Code, rec.Body)
	}
	if len(up.seen()) != 1 || br.done.Load() != 1 {
		t.Errorf("hits, breaker Done calls = %d, %d; want 1, 1", len(up.seen()), br.done.Load())
	}
}

// flipTransport answers 503 and 200 in turn, in memory, and tells a
// ClientTrace that the request was written, as memTransport does.
type flipTransport struct {
	n    atomic.Int64
	body []byte
}

func (t *flipTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if trace := httptrace.ContextClientTrace(r.Context()); trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
	status := http.StatusOK
	if t.n.Add(1)%2 == 1 {
		status = http.StatusServiceUnavailable
	}
	return &http.Response{
		StatusCode:    status,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Length": {strconv.Itoa(len(t.body))}},
		ContentLength: int64(len(t.body)),
		Body:          io.NopCloser(bytes.NewReader(t.body)),
		Request:       r,
	}, nil
}

// BenchmarkProxyRetry measures one forwarded GET with a 1 KiB answer over
// an in-memory transport: without Retry, with Retry and a first attempt
// that succeeds, and with Retry and a 503 retried once (no wait, no budget
// limit), to show what the retry path itself costs.
func BenchmarkProxyRetry(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	ups := "http://10.0.0.1:8080"
	noWait := func() *gateway.RetryPolicy {
		return &gateway.RetryPolicy{Backoff: time.Nanosecond, MaxBackoff: time.Nanosecond, MinRetriesPerSecond: 1 << 30}
	}
	for _, bc := range []struct {
		name string
		p    *gateway.Proxy
	}{
		{"no Retry", &gateway.Proxy{Upstreams: balancer.MustPool(ups), Transport: &memTransport{body: body}}},
		{"Retry, first attempt ok", &gateway.Proxy{Upstreams: balancer.MustPool(ups), Transport: &memTransport{body: body}, Retry: noWait()}},
		{"Retry, one 503 retried", &gateway.Proxy{Upstreams: balancer.MustPool(ups, "http://10.0.0.2:8080"), Transport: &flipTransport{body: body}, Retry: noWait()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := benchRequest()
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				bc.p.ServeHTTP(w, r)
			}
		})
	}
}

// TestProxyRetryInflightDuringWait shows that the upstream admitted for a
// retry counts it in flight during the wait before it, so that Drain waits
// for it and the policies see the load; and that a client gone during the
// wait leaves nothing in flight.
func TestProxyRetryInflightDuringWait(t *testing.T) {
	for _, cancelDuringWait := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			tr := &scriptTransport{step: failThen(1, 503, "Retry-After", "2")}
			p := scriptProxy(tr, &gateway.RetryPolicy{MaxBackoff: 5 * time.Second})
			p.Upstreams = balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080")
			p.Balancer = &fakeBalancer{pick: func(ups []*balancer.Upstream) *balancer.Upstream { return ups[0] }}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan int)
			go func() {
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil).WithContext(ctx))
				done <- rec.Code
			}()
			time.Sleep(time.Second) // within the 2s wait
			synctest.Wait()
			second := p.Upstreams.All()[1]
			if n := second.Inflight(); n != 1 {
				t.Errorf("during the wait, the next upstream has %d in flight; want 1", n)
			}
			if cancelDuringWait {
				cancel()
			}
			code := <-done
			for _, u := range p.Upstreams.All() {
				if n := u.Inflight(); n != 0 {
					t.Errorf("%s: %d in flight after the request; want 0", u, n)
				}
			}
			if !cancelDuringWait && code != http.StatusOK {
				t.Errorf("status = %d; want 200 from the retry", code)
			}
		})
	}
}

// TestProxyRetryPanicRecordsAttempt shows that a panic in user code (here
// Rewrite) leaves no attempt counted in flight, with or without retries.
func TestProxyRetryPanicRecordsAttempt(t *testing.T) {
	for _, retry := range []bool{false, true} {
		p := scriptProxy(&scriptTransport{step: failThen(0, 200)}, nil)
		p.Rewrite = func(*gateway.ProxyRequest) { panic("boom") }
		if retry {
			p.Retry = &gateway.RetryPolicy{}
		}
		func() {
			defer func() { recover() }()
			p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}()
		if n := p.Upstreams.All()[0].Inflight(); n != 0 {
			t.Errorf("retry %v: %d in flight after a panicking Rewrite; want 0", retry, n)
		}
	}
}
