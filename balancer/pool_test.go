package balancer_test

import (
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/balancer"
)

func TestNewPool(t *testing.T) {
	tests := []struct {
		name    string
		urls    []string
		want    []string
		wantErr string // a part of the error; "" for none
	}{
		{name: "empty", urls: nil, want: nil},
		{name: "two", urls: []string{"http://a:1", "http://b:1"}, want: []string{"http://a:1", "http://b:1"}},
		{name: "same host, other paths", urls: []string{"http://a:1/x", "http://a:1/y"}, want: []string{"http://a:1/x", "http://a:1/y"}},
		{name: "same host, other schemes", urls: []string{"http://a:1", "h2c://a:1"}, want: []string{"http://a:1", "h2c://a:1"}},
		{name: "listed twice", urls: []string{"http://a:1", "http://b:1", "http://a:1"}, wantErr: "listed twice"},
		{name: "listed twice, scheme in capitals", urls: []string{"http://a:1", "HTTP://a:1"}, wantErr: "listed twice"},
		{name: "listed twice, host in capitals", urls: []string{"http://api.example.com", "http://API.example.com"}, wantErr: "listed twice"},
		{name: "bad URL", urls: []string{"http://a:1", "ftp://b"}, wantErr: "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := balancer.NewPool(tt.urls...)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, balancer.ErrBadUpstream) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewPool(%q) error = %v; want ErrBadUpstream mentioning %q", tt.urls, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewPool(%q) error = %v; want none", tt.urls, err)
			}
			if got := urlsOf(p.All()); !slices.Equal(got, tt.want) {
				t.Errorf("All() = %q; want %q", got, tt.want)
			}
			if got := urlsOf(p.Healthy()); !slices.Equal(got, tt.want) {
				t.Errorf("Healthy() = %q; want %q, all healthy", got, tt.want)
			}
		})
	}
}

func TestMustPoolPanics(t *testing.T) {
	defer func() {
		err, _ := recover().(error)
		if !errors.Is(err, balancer.ErrBadUpstream) {
			t.Errorf("MustPool panicked with %v; want an error wrapping ErrBadUpstream", err)
		}
	}()
	balancer.MustPool("http://a:1", "not a url")
}

func TestPoolOf(t *testing.T) {
	a, _ := balancer.NewUpstream("http://a:1")
	tests := []struct {
		name    string
		ups     []*balancer.Upstream
		wantErr bool
	}{
		{"one", []*balancer.Upstream{a}, false},
		{"nil upstream", []*balancer.Upstream{a, nil}, true},
		{"no URL", []*balancer.Upstream{{}}, true},
	}
	for _, tt := range tests {
		p, err := balancer.PoolOf(tt.ups...)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: PoolOf error = %v; want error %v", tt.name, err, tt.wantErr)
		}
		if err == nil && !slices.Equal(p.Healthy(), tt.ups) {
			t.Errorf("%s: Healthy() = %v; want %v", tt.name, p.Healthy(), tt.ups)
		}
	}
}

// TestPoolSetHealthy takes upstreams out of rotation and back, step by
// step, and checks that each snapshot Healthy returned stays as it was.
func TestPoolSetHealthy(t *testing.T) {
	p := balancer.MustPool("http://a:1", "http://b:1", "http://c:1")
	a, b, c := p.All()[0], p.All()[1], p.All()[2]
	steps := []struct {
		u    *balancer.Upstream
		ok   bool
		want []string
	}{
		{b, false, []string{"http://a:1", "http://c:1"}},
		{b, false, []string{"http://a:1", "http://c:1"}}, // again: no change
		{a, false, []string{"http://c:1"}},
		{c, false, nil},
		{b, true, []string{"http://b:1"}},
		{a, true, []string{"http://a:1", "http://b:1"}}, // in pool order, not in the order of return
		{c, true, []string{"http://a:1", "http://b:1", "http://c:1"}},
	}
	type snapshot struct {
		ups  []*balancer.Upstream
		urls []string
	}
	var snaps []snapshot
	for i, step := range steps {
		p.SetHealthy(step.u, step.ok)
		h := p.Healthy()
		if got := urlsOf(h); !slices.Equal(got, step.want) {
			t.Errorf("step %d: after SetHealthy(%s, %v), Healthy() = %q; want %q", i, step.u, step.ok, got, step.want)
		}
		if got := step.u.Healthy(); got != step.ok {
			t.Errorf("step %d: %s.Healthy() = %v; want %v", i, step.u, got, step.ok)
		}
		snaps = append(snaps, snapshot{h, urlsOf(h)})
	}
	for i, s := range snaps {
		if got := urlsOf(s.ups); !slices.Equal(got, s.urls) {
			t.Errorf("snapshot of step %d changed to %q; want %q", i, got, s.urls)
		}
	}
	if got := len(p.All()); got != 3 {
		t.Errorf("len(All()) = %d; want 3", got)
	}
}

func TestPoolHealthyAllocs(t *testing.T) {
	p := balancer.MustPool("http://a:1", "http://b:1")
	if n := testing.AllocsPerRun(100, func() { _ = p.Healthy() }); n != 0 {
		t.Errorf("Healthy allocates %v times; want 0", n)
	}
}

func TestRoundRobinPick(t *testing.T) {
	p := balancer.MustPool("http://a:1", "http://b:1", "http://c:1")
	r := httptest.NewRequest("GET", "/", nil)
	var rr balancer.RoundRobin // the zero value is ready
	steps := []struct {
		down *balancer.Upstream // taken out of rotation before the pick
		want string
	}{
		{want: "http://a:1"},
		{want: "http://b:1"},
		{want: "http://c:1"},
		{want: "http://a:1"},
		{down: p.All()[1], want: "http://a:1"}, // turn 4 of [a c]
		{want: "http://c:1"},
	}
	for i, step := range steps {
		if step.down != nil {
			p.SetHealthy(step.down, false)
		}
		if got := rr.Pick(r, p.Healthy()); got == nil || got.String() != step.want {
			t.Errorf("step %d: Pick = %v; want %s", i, got, step.want)
		}
	}
	if got := rr.Pick(r, nil); got != nil {
		t.Errorf("Pick(no upstreams) = %v; want nil", got)
	}
}

// TestRoundRobinFair shows that concurrent picks share the upstreams
// evenly.
func TestRoundRobinFair(t *testing.T) {
	ups := balancer.MustPool("http://a:1", "http://b:1", "http://c:1").Healthy()
	rr := balancer.NewRoundRobin()
	const perWorker, workers = 300, 4
	counts := make(chan map[string]int, workers)
	for range workers {
		go func() {
			m := make(map[string]int)
			for range perWorker {
				m[rr.Pick(nil, ups).String()]++
			}
			counts <- m
		}()
	}
	total := make(map[string]int)
	for range workers {
		for k, v := range <-counts {
			total[k] += v
		}
	}
	for _, u := range ups {
		if got, want := total[u.String()], perWorker*workers/len(ups); got != want {
			t.Errorf("%s picked %d times; want %d", u, got, want)
		}
	}
}

func TestRoundRobinPickAllocs(t *testing.T) {
	ups := balancer.MustPool("http://a:1", "http://b:1").Healthy()
	r := httptest.NewRequest("GET", "/", nil)
	rr := balancer.NewRoundRobin()
	if n := testing.AllocsPerRun(100, func() { _ = rr.Pick(r, ups) }); n != 0 {
		t.Errorf("Pick allocates %v times; want 0", n)
	}
}

func urlsOf(ups []*balancer.Upstream) []string {
	var s []string
	for _, u := range ups {
		s = append(s, u.String())
	}
	return s
}
