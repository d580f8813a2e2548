package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
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

// fakeOpenCircuits is a fakeUpstreamBreaker that also says which circuits
// are open.
type fakeOpenCircuits struct{ *fakeUpstreamBreaker }

var _ gateway.OpenCircuits = fakeOpenCircuits{}

func (f fakeOpenCircuits) OpenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.open)
}

func (f fakeOpenCircuits) Open(u *balancer.Upstream) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open[u]
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
// circuit one Done with the ticket that upstream's Allow issued. When the
// breaker says which circuits are open, the others share the load evenly;
// without, the Proxy learns of them from Allow and the shares are uneven.
func TestProxyUpstreamBreaker(t *testing.T) {
	t.Run("OpenCircuits", func(t *testing.T) { testProxyUpstreamBreaker(t, true) })
	t.Run("AllowOnly", func(t *testing.T) { testProxyUpstreamBreaker(t, false) })
}

func testProxyUpstreamBreaker(t *testing.T, reportsOpen bool) {
	var urls []string
	var hits []*atomic.Int64
	for range 3 {
		u, h := countingUpstream(t, okHandler)
		urls, hits = append(urls, u), append(hits, h)
	}
	pool := balancer.MustPool(urls...)
	all := pool.All()
	ub := &fakeUpstreamBreaker{open: map[*balancer.Upstream]bool{}}
	var ubi gateway.UpstreamBreaker = ub
	if reportsOpen {
		ubi = fakeOpenCircuits{ub}
	}
	br := &fakeBreaker{}
	p := &gateway.Proxy{Upstreams: pool, Breaker: br, UpstreamBreaker: ubi, Logger: discardLog}
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
				if got := errorBodyType(t, rec.Body.Bytes()); got != "unavailable" {
					t.Errorf("%s: error type = %q; want unavailable", step.name, got)
				}
			}
		}
		var total int64
		for i, h := range hits {
			got := h.Load() - before[i]
			total += got
			if (reportsOpen || got == 0 || step.hits[i] == 0) && got != step.hits[i] {
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
