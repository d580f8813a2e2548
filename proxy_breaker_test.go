package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
)

// fakeUpstreamBreaker refuses attempts at the upstreams marked open, admits
// the others with increasing tickets, and records Allow and Done.
type fakeUpstreamBreaker struct {
	mu      sync.Mutex // guards every field
	open    map[*balancer.Upstream]bool
	asked   []*balancer.Upstream
	issued  map[uint64]*balancer.Upstream
	done    []upstreamDone
	tickets uint64
}

type upstreamDone struct {
	u      *balancer.Upstream
	ticket uint64
	class  balancer.Class
}

var _ gateway.UpstreamBreaker = (*fakeUpstreamBreaker)(nil)

func (f *fakeUpstreamBreaker) Allow(u *balancer.Upstream) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, u)
	if f.open[u] {
		return 0, fmt.Errorf("fake breaker %s: %w", u.URL.Host, gateway.ErrCircuitOpen)
	}
	f.tickets++
	if f.issued == nil {
		f.issued = make(map[uint64]*balancer.Upstream)
	}
	f.issued[f.tickets] = u
	return f.tickets, nil
}

func (f *fakeUpstreamBreaker) Done(u *balancer.Upstream, ticket uint64, o gateway.Outcome) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = append(f.done, upstreamDone{u, ticket, o.Class})
}

// take returns what Allow was asked and what Done was told since the last
// call, and forgets it.
func (f *fakeUpstreamBreaker) take() ([]*balancer.Upstream, []upstreamDone) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, d := f.asked, f.done
	f.asked, f.done = nil, nil
	return a, d
}

// TestProxyUpstreamBreaker shows that an upstream whose circuit is open gets
// no request while another can take it, that 503 comes only when every
// circuit refuses, and that each admitted attempt gives its own upstream's
// circuit one Done with the ticket that upstream's Allow issued. (The
// Proxy learns of open circuits from Allow alone here; the shares of the
// upstreams that take the load are even only when the breaker also takes
// open upstreams out of rotation, as TestProxyPerUpstreamBreaker shows.)
func TestProxyUpstreamBreaker(t *testing.T) {
	var urls []string
	var hits []*atomic.Int64
	for range 3 {
		u, h := countingUpstream(t, okHandler)
		urls, hits = append(urls, u), append(hits, h)
	}
	pool := balancer.MustPool(urls...)
	all := pool.All()
	ub := &fakeUpstreamBreaker{open: map[*balancer.Upstream]bool{}}
	br := &fakeBreaker{}
	p := &gateway.Proxy{Upstreams: pool, Breaker: br, UpstreamBreaker: ub, Logger: discardLog}
	t.Cleanup(p.CloseIdleConnections)

	steps := []struct {
		name     string
		open     []int // indexes of All whose circuit is open during the step
		requests int
		status   int
		hits     []int64 // per upstream, during the step
	}{
		{name: "all closed", requests: 6, status: 200, hits: []int64{2, 2, 2}},
		{name: "first open", open: []int{0}, requests: 6, status: 200, hits: []int64{0, 3, 3}},
		{name: "two open", open: []int{0, 2}, requests: 4, status: 200, hits: []int64{0, 4, 0}},
		{name: "all open", open: []int{0, 1, 2}, requests: 3, status: 503, hits: []int64{0, 0, 0}},
		{name: "closed again", requests: 3, status: 200, hits: []int64{1, 1, 1}},
	}
	for _, step := range steps {
		ub.mu.Lock()
		clear(ub.open)
		for _, i := range step.open {
			ub.open[all[i]] = true
		}
		ub.mu.Unlock()
		before := make([]int64, len(hits))
		for i, h := range hits {
			before[i] = h.Load()
		}
		br.mu.Lock()
		br.done = nil
		br.mu.Unlock()
		for range step.requests {
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != step.status {
				t.Fatalf("%s: Status = %d; want %d", step.name, rec.Code, step.status)
			}
			if step.status == http.StatusServiceUnavailable {
				if got := errorBodyType(t, rec.Body.Bytes()); got != "circuit_open" {
					t.Errorf("%s: error type = %q; want circuit_open", step.name, got)
				}
			}
		}
		var total int64
		for i, h := range hits {
			got := h.Load() - before[i]
			total += got
			if (got == 0 || step.hits[i] == 0) && got != step.hits[i] {
				t.Errorf("%s: upstream %d hits = %d; want %d", step.name, i, got, step.hits[i])
			}
		}
		if want := int64(step.requests); step.status == 200 && total != want {
			t.Errorf("%s: %d requests reached upstreams; want %d", step.name, total, want)
		}

		asked, done := ub.take()
		var admitted int
		for _, u := range asked {
			if !ub.open[u] {
				admitted++
			}
		}
		if step.status == 200 && admitted != step.requests {
			t.Errorf("%s: %d attempts admitted for %d requests", step.name, admitted, step.requests)
		}
		if len(done) != admitted {
			t.Errorf("%s: %d Done calls for %d admitted attempts", step.name, len(done), admitted)
		}
		for _, d := range done {
			if ub.issued[d.ticket] != d.u {
				t.Errorf("%s: Done(%s, %d): ticket issued to %v", step.name, d.u.URL.Host, d.ticket, ub.issued[d.ticket])
			}
			if ub.open[d.u] || d.class != balancer.OK {
				t.Errorf("%s: Done(%s, %d, %v); want only closed upstreams, OK", step.name, d.u.URL.Host, d.ticket, d.class)
			}
		}
		// Every upstream refused means the Proxy's own breaker gets its
		// ticket back, as a refusal.
		br.mu.Lock()
		for _, d := range br.done {
			want := balancer.OK
			if step.status == http.StatusServiceUnavailable {
				want = balancer.Refused
			}
			if d.outcome.Class != want {
				t.Errorf("%s: Breaker.Done class %v; want %v", step.name, d.outcome.Class, want)
			}
		}
		if len(br.done) != step.requests {
			t.Errorf("%s: Breaker.Done calls = %d; want %d", step.name, len(br.done), step.requests)
		}
		br.mu.Unlock()
	}
}

// TestProxyUpstreamBreakerRetry shows that a retry skips an upstream whose
// circuit opened after the first attempt, and that the two attempts are
// reported to their own upstreams' circuits.
func TestProxyUpstreamBreakerRetry(t *testing.T) {
	bad, badHits := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	good, goodHits := countingUpstream(t, okHandler)
	third, thirdHits := countingUpstream(t, okHandler)
	pool := balancer.MustPool(bad, good, third)
	all := pool.All()
	ub := &fakeUpstreamBreaker{open: map[*balancer.Upstream]bool{all[1]: true}}
	pickFirst := &fakeBalancer{} // the first offered: bad, then good (open), then third
	p := &gateway.Proxy{Upstreams: pool, Balancer: pickFirst, UpstreamBreaker: ub, Retry: &gateway.RetryPolicy{Attempts: 2}, Logger: discardLog}
	t.Cleanup(p.CloseIdleConnections)

	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 {
		t.Fatalf("Status = %d; want 200", rec.Code)
	}
	if b, g, th := badHits.Load(), goodHits.Load(), thirdHits.Load(); b != 1 || g != 0 || th != 1 {
		t.Errorf("hits bad, good (open), third = %d, %d, %d; want 1, 0, 1", b, g, th)
	}
	asked, done := ub.take()
	if want := []*balancer.Upstream{all[0], all[1], all[2]}; !slices.Equal(asked, want) {
		t.Errorf("Allow asked %v; want %v", asked, want)
	}
	want := []upstreamDone{{all[0], 1, balancer.ServerError}, {all[2], 2, balancer.OK}}
	if !slices.Equal(done, want) {
		t.Errorf("Done = %v; want %v", done, want)
	}
}

// TestProxyPerUpstreamBreaker runs a Proxy with package breaker's
// PerUpstream over three upstreams, one of which fails: its circuit opens
// after the consecutive failures, the others take all the load meanwhile,
// one probe goes to it after the open time, and its circuit stays closed
// once it has recovered.
func TestProxyPerUpstreamBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var healed atomic.Bool
		var mu sync.Mutex
		hits := map[string]int{}
		tr := &scriptTransport{step: func(_ int, r *http.Request) (*http.Response, error) {
			mu.Lock()
			hits[r.URL.Host]++
			mu.Unlock()
			if r.URL.Host == "10.0.0.1:8080" && !healed.Load() {
				return statusResponse(r, http.StatusInternalServerError), nil
			}
			return statusResponse(r, http.StatusOK), nil
		}}
		var changes []string
		ub := breaker.NewPerUpstream(breaker.Settings{
			ConsecutiveFailures: 3,
			OpenTimeout:         5 * time.Second,
			OnStateChange: func(name string, from, to breaker.State) {
				changes = append(changes, name+" "+from.String()+"→"+to.String())
			},
		})
		p := &gateway.Proxy{
			Upstreams:       balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080"),
			Transport:       tr,
			UpstreamBreaker: ub,
			Logger:          discardLog,
		}
		serve := func(n int) (failed int) {
			for range n {
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				if rec.Code != http.StatusOK {
					failed++
				}
			}
			return failed
		}
		take := func() map[string]int {
			mu.Lock()
			defer mu.Unlock()
			h := maps.Clone(hits)
			clear(hits)
			return h
		}

		if failed := serve(30); failed != 3 {
			t.Errorf("while the circuit opens: %d of 30 requests failed; want 3", failed)
		}
		if h := take(); h["10.0.0.1:8080"] != 3 || h["10.0.0.2:8080"]+h["10.0.0.3:8080"] != 27 {
			t.Errorf("hits while the circuit opens = %v; want 3 on the failing upstream, 27 on the others", h)
		}
		time.Sleep(4 * time.Second) // still open
		if failed := serve(10); failed != 0 {
			t.Errorf("while open: %d of 10 requests failed; want 0", failed)
		}
		if h := take(); h["10.0.0.1:8080"] != 0 || h["10.0.0.2:8080"] != 5 || h["10.0.0.3:8080"] != 5 {
			t.Errorf("hits while open = %v; want none on the failing upstream, the others sharing evenly", h)
		}
		time.Sleep(time.Second) // the open time is over: one probe, which fails
		serve(9)
		if h := take(); h["10.0.0.1:8080"] != 1 {
			t.Errorf("hits after the open time = %v; want one probe on the failing upstream", h)
		}
		healed.Store(true)
		time.Sleep(10 * time.Second) // twice the open time after the second trip
		if failed := serve(30); failed != 0 {
			t.Errorf("after recovery: %d of 30 requests failed; want 0", failed)
		}
		if h := take(); h["10.0.0.1:8080"] != 10 {
			t.Errorf("hits after recovery = %v; want a third on the healed upstream", h)
		}
		want := []string{
			"http://10.0.0.1:8080 closed→open",
			"http://10.0.0.1:8080 open→half-open",
			"http://10.0.0.1:8080 half-open→open",
			"http://10.0.0.1:8080 open→half-open",
			"http://10.0.0.1:8080 half-open→closed",
		}
		if !slices.Equal(changes, want) {
			t.Errorf("state changes = %q; want %q", changes, want)
		}
	})
}

// doneAtBreaker is a Breaker with the optional DoneAt, which records the
// times it is given.
type doneAtBreaker struct {
	fakeBreaker
	times []time.Time
}

func (b *doneAtBreaker) DoneAt(ticket uint64, o gateway.Outcome, now time.Time) {
	b.times = append(b.times, now)
}

// TestProxyBreakerDoneAt shows that a Breaker with DoneAt is told through
// it, with the time the attempt ended, and not through Done.
func TestProxyBreakerDoneAt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &scriptTransport{step: func(_ int, r *http.Request) (*http.Response, error) {
			time.Sleep(time.Second)
			return statusResponse(r, http.StatusOK), nil
		}}
		br := &doneAtBreaker{}
		p := &gateway.Proxy{Upstreams: balancer.MustPool("http://10.0.0.1:8080"), Transport: tr, Breaker: br}
		start := time.Now()
		p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		if len(br.done) != 0 || len(br.times) != 1 || !br.times[0].Equal(start.Add(time.Second)) {
			t.Errorf("Done calls %d, DoneAt times %v; want none, and one at %v", len(br.done), br.times, start.Add(time.Second))
		}
	})
}

// panicHandler is a slog.Handler that panics on the message msg.
type panicHandler struct{ msg string }

func (h panicHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h panicHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		panic("log handler: " + r.Message)
	}
	return nil
}
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicHandler) WithGroup(string) slog.Handler      { return h }

// TestProxyBreakerTicketsComeBack shows that every ticket a breaker issues
// comes back to its Done exactly once: when the retry budget refuses the
// attempt it was issued for, when user code panics between the admission
// of a retry and its start, and when the UpstreamBreaker panics after the
// Breaker admitted.
func TestProxyBreakerTicketsComeBack(t *testing.T) {
	type upstreamBreakerFunc = func(u *balancer.Upstream) (uint64, error)
	tests := []struct {
		name      string
		retry     *gateway.RetryPolicy
		logger    *slog.Logger
		upAllow   upstreamBreakerFunc
		wantPanic bool
		wantLast  balancer.Class // the class of the last ticket's Done
	}{
		{name: "budget refuses the retry",
			retry:    &gateway.RetryPolicy{Attempts: 3, Budget: -1, MinRetriesPerSecond: -1},
			logger:   discardLog,
			wantLast: balancer.Canceled},
		{name: "log handler panics before the retry starts",
			retry:     &gateway.RetryPolicy{Attempts: 3},
			logger:    slog.New(panicHandler{msg: "proxy: attempt retried"}),
			wantPanic: true, wantLast: balancer.Canceled},
		{name: "upstream breaker panics",
			logger:    discardLog,
			upAllow:   func(*balancer.Upstream) (uint64, error) { panic("upstream breaker") },
			wantPanic: true, wantLast: balancer.Refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := &scriptTransport{step: failThen(10, http.StatusServiceUnavailable)}
				br := &fakeBreaker{}
				p := &gateway.Proxy{
					Upstreams: balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080"),
					Transport: tr, Breaker: br, Retry: tt.retry, Logger: tt.logger,
				}
				if tt.upAllow != nil {
					p.UpstreamBreaker = upstreamBreakerOf(tt.upAllow)
				}
				panicked := func() (panicked bool) {
					defer func() { panicked = recover() != nil }()
					p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
					return false
				}()
				if panicked != tt.wantPanic {
					t.Fatalf("panicked = %v; want %v", panicked, tt.wantPanic)
				}
				br.mu.Lock()
				defer br.mu.Unlock()
				var done []uint64
				var lastClass balancer.Class
				for _, d := range br.done {
					done = append(done, d.ticket)
					if d.ticket == br.issued[len(br.issued)-1] {
						lastClass = d.outcome.Class
					}
				}
				slices.Sort(done)
				if !slices.Equal(done, br.issued) {
					t.Errorf("tickets issued %v, given back %v; want each back once", br.issued, done)
				}
				if lastClass != tt.wantLast {
					t.Errorf("Done calls %v; want the last ticket's %v", br.done, tt.wantLast)
				}
			})
		})
	}
}

// upstreamBreakerOf is an UpstreamBreaker whose Allow is allow.
type upstreamBreakerOf func(u *balancer.Upstream) (uint64, error)

func (f upstreamBreakerOf) Allow(u *balancer.Upstream) (uint64, error)       { return f(u) }
func (f upstreamBreakerOf) Done(*balancer.Upstream, uint64, gateway.Outcome) {}

// TestProxyUpstreamBreakerRepicks shows that the picks after a refusal are
// bounded: with twenty upstreams whose circuits all refuse, a request
// costs nine picks and answers 503, and a Balancer that picks outside the
// list it is offered ends the re-picks at once.
func TestProxyUpstreamBreakerRepicks(t *testing.T) {
	var urls []string
	for i := range 20 {
		urls = append(urls, fmt.Sprintf("http://10.0.1.%d:8080", i+1))
	}
	pool := balancer.MustPool(urls...)
	outsider := balancer.MustPool("http://10.0.2.1:8080").All()[0]
	tests := []struct {
		name      string
		bal       *fakeBalancer
		wantAsked int
	}{
		{"all refuse", &fakeBalancer{}, 9},
		{"balancer picks outside the list", &fakeBalancer{pick: func([]*balancer.Upstream) *balancer.Upstream { return outsider }}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ub := &fakeUpstreamBreaker{open: map[*balancer.Upstream]bool{outsider: true}}
			for _, u := range pool.All() {
				ub.open[u] = true
			}
			p := &gateway.Proxy{Upstreams: pool, Balancer: tt.bal, UpstreamBreaker: ub, Logger: discardLog}
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != http.StatusServiceUnavailable {
				t.Errorf("Status = %d; want 503", rec.Code)
			}
			if asked, _ := ub.take(); len(asked) != tt.wantAsked {
				t.Errorf("Allow asked %d times; want %d", len(asked), tt.wantAsked)
			}
		})
	}
}
