package breaker_test

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
)

func mustUpstream(tb testing.TB, i int) *balancer.Upstream {
	tb.Helper()
	u, err := balancer.NewUpstream(fmt.Sprintf("http://10.0.%d.%d:8080", i/256, i%256))
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// TestPerUpstreamIsolation shows that each upstream has a circuit of its
// own: one that fails is refused, the others are not, and the callback
// says which upstream changed.
func TestPerUpstreamIsolation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log changeLog
		p := breaker.NewPerUpstream(breaker.Settings{Name: "users", ConsecutiveFailures: 2, OnStateChange: log.add})
		a, b := mustUpstream(t, 1), mustUpstream(t, 2)
		if p.Open(a) || p.State(a) != breaker.Closed || p.Len() != 0 {
			t.Fatalf("Open, State, Len of an upstream never called = %v, %v, %d; want false, closed, 0 (and no breaker made)", p.Open(a), p.State(a), p.Len())
		}
		for range 2 {
			ticket, err := p.Allow(a)
			if err != nil {
				t.Fatalf("Allow(a) = %v; want nil", err)
			}
			p.Done(a, ticket, fail)
			ticket, err = p.Allow(b)
			if err != nil {
				t.Fatalf("Allow(b) = %v; want nil", err)
			}
			p.Done(b, ticket, ok)
		}
		if _, err := p.Allow(a); !errors.Is(err, gateway.ErrCircuitOpen) {
			t.Errorf("Allow(a) after 2 failures = %v; want ErrCircuitOpen", err)
		}
		if _, err := p.Allow(b); err != nil {
			t.Errorf("Allow(b) = %v; want nil: a's circuit is not b's", err)
		}
		if !p.Open(a) || p.Open(b) {
			t.Errorf("Open(a), Open(b) = %v, %v; want true, false", p.Open(a), p.Open(b))
		}
		if got := p.OpenCount(); got != 1 {
			t.Errorf("OpenCount() with a open = %d; want 1", got)
		}
		if p.State(a) != breaker.Open || p.For(a).State() != breaker.Open || p.State(b) != breaker.Closed {
			t.Errorf("State(a), For(a).State(), State(b) = %v, %v, %v; want open, open, closed", p.State(a), p.For(a).State(), p.State(b))
		}
		if p.For(a) == p.For(b) || p.For(a) != p.For(a) {
			t.Errorf("For: want one breaker per upstream, the same at each call")
		}
		if got, want := p.For(a).Name(), "users http://10.0.0.1:8080"; got != want {
			t.Errorf("For(a).Name() = %q; want %q", got, want)
		}
		if got, want := log.get(), []string{"users http://10.0.0.1:8080: closed→open"}; !slices.Equal(got, want) {
			t.Errorf("OnStateChange calls = %q; want %q", got, want)
		}
		// Open follows the open time; it does not change the state.
		time.Sleep(5 * time.Second)
		if p.Open(a) || p.State(a) != breaker.Open {
			t.Errorf("after the open time: Open(a), State(a) = %v, %v; want false, open", p.Open(a), p.State(a))
		}
		ticket, err := p.Allow(a)
		if err != nil || p.State(a) != breaker.HalfOpen || !p.Open(a) || p.OpenCount() != 1 {
			t.Errorf("the probe: Allow(a), State(a), Open(a), OpenCount() = %v, %v, %v, %d; want nil, half-open, true (its one probe is out), 1", err, p.State(a), p.Open(a), p.OpenCount())
		}
		p.Done(a, ticket, ok)
		if p.State(a) != breaker.Closed || p.Open(a) || p.OpenCount() != 0 {
			t.Errorf("after the probe: State(a), Open(a), OpenCount() = %v, %v, %d; want closed, false, 0", p.State(a), p.Open(a), p.OpenCount())
		}
		p.Done(mustUpstream(t, 3), 1, fail) // an upstream never admitted: ignored
		p.DoneAt(mustUpstream(t, 4), 1, fail, time.Now())
		// DoneAt counts as Done does.
		for range 2 {
			ticket, _ := p.Allow(b)
			p.DoneAt(b, ticket, fail, time.Now())
		}
		if p.State(b) != breaker.Open || p.OpenCount() != 1 {
			t.Errorf("State(b), OpenCount() after 2 failures by DoneAt = %v, %d; want open, 1", p.State(b), p.OpenCount())
		}
		if p.Len() != 2 {
			t.Errorf("Len() = %d; want 2", p.Len())
		}
	})
}

func TestPerUpstreamUnnamed(t *testing.T) {
	p := breaker.NewPerUpstream(breaker.Settings{})
	if got, want := p.For(mustUpstream(t, 7)).Name(), "http://10.0.0.7:8080"; got != want {
		t.Errorf("For(u).Name() = %q; want %q", got, want)
	}
}

// TestPerUpstreamBounded shows that breakers of upstreams that are gone do
// not pile up: once the garbage collector has reclaimed them, the next
// breaker added drops their entries, and those of live upstreams stay.
func TestPerUpstreamBounded(t *testing.T) {
	p := breaker.NewPerUpstream(breaker.Settings{ConsecutiveFailures: 1})
	keep := mustUpstream(t, 9999)
	ticket, _ := p.Allow(keep)
	p.Done(keep, ticket, fail) // keep's circuit is open: its state must survive the pruning
	for round := range 5 {
		func() {
			ups := make([]*balancer.Upstream, 1000)
			for i := range ups {
				ups[i] = mustUpstream(t, i)
				ticket, err := p.Allow(ups[i])
				if err != nil {
					t.Fatalf("Allow(u) = %v; want nil", err)
				}
				o := ok
				if i < 10 {
					o = fail // ten circuits open, counted until they are dropped
				}
				p.Done(ups[i], ticket, o)
			}
			if got := p.OpenCount(); got != 11 {
				t.Fatalf("round %d: OpenCount() = %d; want 11", round, got)
			}
			runtime.GC() // the upstreams are alive: nothing is dropped
			p.For(mustUpstream(t, 6000))
			if got := p.Len(); got < 1001 {
				t.Fatalf("round %d: Len() = %d with 1000 upstreams alive; want at least 1001", round, got)
			}
			runtime.KeepAlive(ups)
		}()
		runtime.GC()
		runtime.GC()
		u := mustUpstream(t, 5000+round)
		p.For(u)
		if got := p.Len(); got > 10 {
			t.Fatalf("round %d: Len() after the upstreams were reclaimed = %d; want them dropped", round, got)
		}
		if got := p.OpenCount(); got != 1 {
			t.Fatalf("round %d: OpenCount() after the upstreams were reclaimed = %d; want 1, keep's", round, got)
		}
		runtime.KeepAlive(u)
	}
	if p.State(keep) != breaker.Open {
		t.Errorf("State(keep) = %v; want open: a live upstream's breaker must be kept", p.State(keep))
	}
	runtime.KeepAlive(keep)
}

// TestPerUpstreamConcurrent has many goroutines make the breakers of the
// same upstreams at once: each upstream gets one breaker.
func TestPerUpstreamConcurrent(t *testing.T) {
	p := breaker.NewPerUpstream(breaker.Settings{})
	ups := make([]*balancer.Upstream, 50)
	for i := range ups {
		ups[i] = mustUpstream(t, i)
	}
	seen := make([][]*breaker.Breaker, 8)
	var wg sync.WaitGroup
	for g := range seen {
		wg.Go(func() {
			for i, u := range ups {
				seen[g] = append(seen[g], p.For(u))
				ticket, err := p.Allow(ups[(i+g)%len(ups)])
				if err == nil {
					p.Done(ups[(i+g)%len(ups)], ticket, ok)
				}
			}
		})
	}
	wg.Wait()
	for g := range seen {
		if !slices.Equal(seen[g], seen[0]) {
			t.Fatalf("goroutine %d saw other breakers than goroutine 0", g)
		}
	}
	if p.Len() != len(ups) {
		t.Errorf("Len() = %d; want %d", p.Len(), len(ups))
	}
}

// TestPerUpstreamAllocs holds the claim that finding an upstream's
// breaker, once made, allocates nothing.
func TestPerUpstreamAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	p := breaker.NewPerUpstream(breaker.Settings{})
	u := mustUpstream(t, 1)
	p.For(u)
	got := testing.AllocsPerRun(1000, func() {
		ticket, err := p.Allow(u)
		if err == nil {
			p.Done(u, ticket, ok)
		}
		_ = p.Open(u)
		_ = p.State(u)
		if ticket, err := p.Allow(u); err == nil {
			p.DoneAt(u, ticket, ok, time.Now())
		}
	})
	if got != 0 {
		t.Errorf("PerUpstream Allow, Done, Open and State allocate %v times; want 0", got)
	}
}

// TestPerUpstreamEjects shows that an upstream whose circuit opens leaves
// its pool's rotation for the open time, on the first trip and on each
// failed probe, and comes back with the pool's first outcome after it;
// with or without an OnStateChange.
func TestPerUpstreamEjects(t *testing.T) {
	for _, name := range []string{"no callback", "callback"} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second}
				var log changeLog
				if name == "callback" {
					s.OnStateChange = log.add
				}
				p := breaker.NewPerUpstream(s)
				pool, err := balancer.NewPool("http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080")
				if err != nil {
					t.Fatal(err)
				}
				a, other := pool.All()[0], pool.All()[1]
				// outcome records one outcome on the pool, at another
				// member, and reports whether a is in rotation after it.
				outcome := func() bool {
					other.Begin()
					other.Done(ok)
					return slices.Contains(pool.Healthy(), a)
				}
				attempt := func(o balancer.Outcome) {
					t.Helper()
					ticket, err := p.Allow(a)
					if err != nil {
						t.Fatalf("Allow(a) = %v; want admitted", err)
					}
					a.Begin()
					a.Done(o)
					p.Done(a, ticket, o)
				}
				attempt(fail)
				if slices.Contains(pool.Healthy(), a) {
					t.Fatalf("Healthy() after a's circuit opened = %v; want a out", pool.Healthy())
				}
				time.Sleep(999 * time.Millisecond)
				if outcome() {
					t.Fatalf("a in rotation 999ms after its circuit opened for 1s; want out")
				}
				time.Sleep(time.Millisecond)
				if !outcome() {
					t.Fatalf("a out of rotation after its open time and an outcome; want back")
				}
				attempt(fail) // the probe fails: open again, for 2s
				if slices.Contains(pool.Healthy(), a) {
					t.Fatalf("Healthy() after a's probe failed = %v; want a out", pool.Healthy())
				}
				time.Sleep(1999 * time.Millisecond)
				if outcome() {
					t.Fatalf("a in rotation 1.999s after its circuit opened again for 2s; want out")
				}
				time.Sleep(time.Millisecond)
				if !outcome() {
					t.Fatalf("a out of rotation after its second open time and an outcome; want back")
				}
				attempt(ok) // the probe closes the circuit
				if !outcome() || p.State(a) != breaker.Closed {
					t.Fatalf("a in rotation, State(a) = %v, %v after a successful probe; want true, closed", slices.Contains(pool.Healthy(), a), p.State(a))
				}
				if name == "callback" && len(log.get()) != 5 {
					t.Errorf("OnStateChange calls = %q; want 5", log.get())
				}
			})
		})
	}
}
