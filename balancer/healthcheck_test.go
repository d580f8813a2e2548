package balancer_test

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

// fakeUpstreams is an in-memory transport: each host answers with the
// status set for it, 0 meaning a connection error, and every request is
// logged.
type fakeUpstreams struct {
	mu     sync.Mutex // guards status and log
	status map[string]int
	log    []string // "host path" of each check
}

func (f *fakeUpstreams) set(host string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[host] = status
}

func (f *fakeUpstreams) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	st := f.status[r.URL.Host]
	f.log = append(f.log, r.URL.Host+" "+r.URL.Path)
	f.mu.Unlock()
	if st == 0 {
		return nil, errors.New("connection refused")
	}
	if st < 0 { // hangs until the check's timeout
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return &http.Response{StatusCode: st, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
}

func TestHealthCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := balancer.MustPool("http://a:1", "http://b:1/base", "h2c://c:1")
		fake := &fakeUpstreams{status: map[string]int{"a:1": 200, "b:1": 200, "c:1": 204}}
		hc := balancer.HealthCheck{Path: "/healthz", Interval: 10 * time.Second, Timeout: time.Second, Rise: 2, Fall: 2, Transport: fake}
		if err := pool.CheckHealth(hc); err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		if err := pool.CheckHealth(hc); !errors.Is(err, balancer.ErrChecking) {
			t.Errorf("CheckHealth while running = %v; want ErrChecking", err)
		}

		steps := []struct {
			name string
			set  map[string]int // statuses set before the round
			want []string       // in rotation after the round
		}{
			{"all pass", nil, []string{"http://a:1", "http://b:1/base", "h2c://c:1"}},
			{"b answers 503 once", map[string]int{"b:1": 503}, []string{"http://a:1", "http://b:1/base", "h2c://c:1"}},
			{"b fails twice: down", map[string]int{"b:1": 0}, []string{"http://a:1", "h2c://c:1"}},
			{"c hangs once", map[string]int{"c:1": -1, "b:1": 200}, []string{"http://a:1", "h2c://c:1"}},
			{"c hangs twice: down; b passes twice: back", nil, []string{"http://a:1", "http://b:1/base"}},
			{"c answers 204", map[string]int{"c:1": 204}, []string{"http://a:1", "http://b:1/base"}},
			{"c passes twice: back", nil, []string{"http://a:1", "http://b:1/base", "h2c://c:1"}},
		}
		// Rounds start at 0s, 10s, 20s, ...; each step looks 2s into its
		// round, when even a check that hangs has timed out.
		for i, step := range steps {
			for h, st := range step.set {
				fake.set(h, st)
			}
			if i == 0 {
				time.Sleep(2 * time.Second)
			} else {
				time.Sleep(hc.Interval)
			}
			synctest.Wait()
			if got := urlsOf(pool.Healthy()); !slices.Equal(got, step.want) {
				t.Errorf("%s: Healthy() = %q; want %q", step.name, got, step.want)
			}
		}

		fake.mu.Lock()
		first := slices.Sorted(slices.Values(fake.log[:3]))
		n := len(fake.log)
		fake.mu.Unlock()
		if want := []string{"a:1 /healthz", "b:1 /base/healthz", "c:1 /healthz"}; !slices.Equal(first, want) {
			t.Errorf("first round checked %q; want %q", first, want)
		}
		if want := 3 * len(steps); n != want {
			t.Errorf("%d checks in %d rounds; want %d", n, len(steps), want)
		}

		// Close stops the checks: no more rounds.
		if err := pool.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		fake.mu.Lock()
		after := len(fake.log)
		fake.mu.Unlock()
		if after != n {
			t.Errorf("%d checks after Close; want none", after-n)
		}
	})
}

func TestHealthCheckBad(t *testing.T) {
	pool := balancer.MustPool("http://a:1")
	for _, hc := range []balancer.HealthCheck{
		{Path: "healthz"},
		{Interval: -time.Second},
		{Fall: -1},
	} {
		if err := pool.CheckHealth(hc); !errors.Is(err, balancer.ErrBadHealthCheck) {
			t.Errorf("CheckHealth(%+v) = %v; want ErrBadHealthCheck", hc, err)
		}
	}
	if err := pool.Close(); err != nil {
		t.Errorf("Close with no checks running = %v; want nil", err)
	}
}

// TestHealthCheckJitter checks that rounds start between Interval and
// Interval+Jitter apart, and not all at the same offset.
func TestHealthCheckJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var starts []time.Time
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
		})
		pool := balancer.MustPool("http://a:1")
		if err := pool.CheckHealth(balancer.HealthCheck{Interval: 10 * time.Second, Jitter: 5 * time.Second, Transport: rt}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		pool.Close()
		mu.Lock()
		defer mu.Unlock()
		gaps := map[time.Duration]bool{}
		for i := 1; i < len(starts); i++ {
			gap := starts[i].Sub(starts[i-1])
			if gap < 10*time.Second || gap >= 15*time.Second {
				t.Errorf("round %d started %v after the one before; want in [10s, 15s)", i, gap)
			}
			gaps[gap] = true
		}
		if len(starts) < 40 || len(gaps) < 10 {
			t.Errorf("%d rounds with %d distinct gaps in 10 minutes; want 40 to 60 rounds, gaps that vary", len(starts), len(gaps))
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
