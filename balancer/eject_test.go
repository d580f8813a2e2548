package balancer_test

import (
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

// attempt runs one attempt against u that ends with class after d.
func attempt(u *balancer.Upstream, class balancer.Class, d time.Duration) {
	u.Begin()
	time.Sleep(d)
	o := balancer.Outcome{Class: class, Duration: d}
	if class == balancer.ServerError {
		o.Status = 503
	}
	u.Done(o)
}

// TestEjectConsecutive steps through ejections, returns, a growing
// ejection time and the cap on how many may be out, on the fake clock.
func TestEjectConsecutive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := balancer.MustPool(urlsN(5)...)
		if err := pool.EjectOutliers(balancer.Ejector{Consecutive: 3, BaseEjection: 10 * time.Second, MaxEjection: 25 * time.Second}); err != nil {
			t.Fatal(err)
		}
		ups := pool.All()
		a, b, c := ups[0], ups[1], ups[2]
		steps := []struct {
			name      string
			do        func()
			wantOut   []*balancer.Upstream
			wantInRot int
		}{
			{"a fails twice", func() {
				attempt(a, balancer.ServerError, time.Millisecond)
				attempt(a, balancer.Timeout, time.Millisecond)
			}, nil, 5},
			{"a succeeds: the count restarts", func() { attempt(a, balancer.OK, time.Millisecond) }, nil, 5},
			{"a fails twice, a client gives up", func() {
				attempt(a, balancer.ConnectionError, time.Millisecond)
				attempt(a, balancer.ServerError, time.Millisecond)
				attempt(a, balancer.Canceled, time.Millisecond)
			}, nil, 5},
			{"a fails a third time: out", func() { attempt(a, balancer.ServerError, time.Millisecond) }, []*balancer.Upstream{a}, 4},
			{"b fails 3 times: 10% of 5 is below one, so one may be out, and a is", func() {
				for range 3 {
					attempt(b, balancer.ServerError, time.Millisecond)
				}
			}, []*balancer.Upstream{a}, 4},
			{"9s on, c answers: a is not due yet", func() { time.Sleep(9 * time.Second); attempt(c, balancer.OK, time.Millisecond) }, []*balancer.Upstream{a}, 4},
			{"1s on, c answers: a is back", func() { time.Sleep(time.Second); attempt(c, balancer.OK, time.Millisecond) }, nil, 5},
			{"a fails 3 times again: out for 20s", func() {
				for range 3 {
					attempt(a, balancer.ServerError, time.Millisecond)
				}
			}, []*balancer.Upstream{a}, 4},
			{"19s on: still out", func() { time.Sleep(19 * time.Second); attempt(c, balancer.OK, time.Millisecond) }, []*balancer.Upstream{a}, 4},
			{"1s on: back", func() { time.Sleep(time.Second); attempt(c, balancer.OK, time.Millisecond) }, nil, 5},
			{"third time: 30s capped at 25s", func() {
				for range 3 {
					attempt(a, balancer.ServerError, time.Millisecond)
				}
				time.Sleep(25 * time.Second)
				attempt(c, balancer.OK, time.Millisecond)
			}, nil, 5},
			{"25s in rotation: forgiven, 10s again", func() {
				time.Sleep(25 * time.Second)
				for range 3 {
					attempt(a, balancer.ServerError, time.Millisecond)
				}
				time.Sleep(10 * time.Second)
				attempt(c, balancer.OK, time.Millisecond)
			}, nil, 5},
		}
		for _, step := range steps {
			step.do()
			var out []*balancer.Upstream
			for _, u := range ups {
				if u.Ejected() {
					out = append(out, u)
				}
			}
			if !slices.Equal(out, step.wantOut) {
				t.Errorf("%s: ejected %v; want %v", step.name, out, step.wantOut)
			}
			if got := len(pool.Healthy()); got != step.wantInRot {
				t.Errorf("%s: %d in rotation; want %d", step.name, got, step.wantInRot)
			}
			for _, u := range out {
				if slices.Contains(pool.Healthy(), u) {
					t.Errorf("%s: ejected %s still in Healthy()", step.name, u)
				}
			}
		}
	})
}

// TestEjectErrorRate ejects on the share of failures in a window, once
// the window holds enough attempts.
func TestEjectErrorRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := balancer.MustPool(urlsN(2)...)
		err := pool.EjectOutliers(balancer.Ejector{Consecutive: -1, ErrorRate: 0.5, MinRequests: 10, Window: 10 * time.Second, MaxEjectedPercent: 100})
		if err != nil {
			t.Fatal(err)
		}
		a := pool.All()[0]
		// Alternating: half fail, but only 8 attempts in the window.
		for range 4 {
			attempt(a, balancer.OK, time.Millisecond)
			attempt(a, balancer.ServerError, time.Millisecond)
		}
		if a.Ejected() {
			t.Fatal("ejected after 8 attempts; want MinRequests 10 to hold")
		}
		// A new window: the old failures no longer count.
		time.Sleep(10 * time.Second)
		for range 6 {
			attempt(a, balancer.OK, time.Millisecond)
		}
		for range 4 {
			attempt(a, balancer.ServerError, time.Millisecond)
		}
		if a.Ejected() {
			t.Fatal("ejected at 4 failures of 10; want 50%")
		}
		attempt(a, balancer.ServerError, time.Millisecond) // 5 of 11
		attempt(a, balancer.ServerError, time.Millisecond) // 6 of 12
		if !a.Ejected() {
			t.Error("not ejected at 6 failures of 12; want ejected at 50%")
		}
	})
}

func TestEjectorBad(t *testing.T) {
	pool := balancer.MustPool("http://a:1")
	for _, e := range []balancer.Ejector{
		{ErrorRate: 1.5},
		{ErrorRate: -0.1},
		{Window: -time.Second},
		{MaxEjectedPercent: 101},
		{BaseEjection: -1},
	} {
		if err := pool.EjectOutliers(e); !errors.Is(err, balancer.ErrBadEjector) {
			t.Errorf("EjectOutliers(%+v) = %v; want ErrBadEjector", e, err)
		}
	}
}

func TestEjectDoneAllocs(t *testing.T) {
	pool := balancer.MustPool(urlsN(3)...)
	if err := pool.EjectOutliers(balancer.Ejector{}); err != nil {
		t.Fatal(err)
	}
	u := pool.All()[0]
	o := balancer.Outcome{Status: 200, Duration: time.Millisecond}
	if n := testing.AllocsPerRun(100, func() { u.Begin(); u.Done(o) }); n != 0 {
		t.Errorf("Done with ejection on allocates %v times; want 0", n)
	}
}

// TestEjectedServeWhenNoneElse shows that when every member that is not
// ejected is down, the ejected ones stay in rotation rather than leave the
// pool with none, and that the traffic they then get lets them back.
func TestEjectedServeWhenNoneElse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := balancer.MustPool(urlsN(3)...)
		if err := pool.EjectOutliers(balancer.Ejector{Consecutive: 1, BaseEjection: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
		ups := pool.All()
		a := ups[0]
		attempt(a, balancer.ServerError, time.Millisecond)
		if !a.Ejected() || len(pool.Healthy()) != 2 {
			t.Fatalf("after a failed: ejected %v, %d in rotation; want true, 2", a.Ejected(), len(pool.Healthy()))
		}
		pool.SetHealthy(ups[1], false)
		pool.SetHealthy(ups[2], false)
		if h := pool.Healthy(); len(h) != 1 || h[0] != a {
			t.Fatalf("with the others down, in rotation %v; want [%v]", h, a)
		}
		time.Sleep(11 * time.Second)
		attempt(a, balancer.OK, time.Millisecond)
		if a.Ejected() {
			t.Error("a still ejected after its ejection ended and it answered")
		}
		pool.SetHealthy(ups[1], true)
		if n := len(pool.Healthy()); n != 2 {
			t.Errorf("after b came back, %d in rotation; want 2", n)
		}
	})
}

// TestEject shows Eject, for a policy outside the pool, in a pool without
// an Ejector: the upstream leaves the snapshot at once, a later deadline
// extends the ejection and a sooner one does not shorten it, it comes back
// with the first outcome recorded after its deadline, a lower priority
// group takes over when the whole best group is out, and an upstream in no
// pool is left alone.
func TestEject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var members []*balancer.Upstream
		for _, raw := range append(urlsN(3), "http://10.9.9.9:8080") {
			u, err := balancer.NewUpstream(raw)
			if err != nil {
				t.Fatal(err)
			}
			members = append(members, u)
		}
		backup := members[3]
		backup.Priority = 1
		pool, err := balancer.PoolOf(members...)
		if err != nil {
			t.Fatal(err)
		}
		ups := pool.All()
		a, b, c := ups[0], ups[1], ups[2]
		check := func(step string, want ...*balancer.Upstream) {
			t.Helper()
			if got := pool.Healthy(); !slices.Equal(got, want) {
				t.Errorf("%s: Healthy() = %v; want %v", step, got, want)
			}
		}
		check("start", a, b, c)

		a.Eject(time.Now().Add(10 * time.Second))
		check("a ejected", b, c)
		a.Eject(time.Now().Add(5 * time.Second)) // sooner: no change
		a.Eject(time.Now().Add(20 * time.Second))
		time.Sleep(15 * time.Second)
		attempt(b, balancer.OK, time.Millisecond)
		check("after the first deadline, extended", b, c)
		time.Sleep(5 * time.Second)
		check("deadline passed, no outcome yet", b, c)
		attempt(b, balancer.OK, time.Millisecond)
		check("returned with the next outcome", a, b, c)

		for _, u := range []*balancer.Upstream{a, b, c} {
			u.Eject(time.Now().Add(10 * time.Second))
		}
		check("the best group out: the backup group serves", backup)
		time.Sleep(10 * time.Second)
		attempt(backup, balancer.OK, time.Millisecond)
		check("the best group back", a, b, c)

		loose, _ := balancer.NewUpstream("http://10.8.8.8:8080")
		loose.Eject(time.Now().Add(time.Hour))
		if loose.Ejected() {
			t.Errorf("an upstream in no pool was ejected")
		}
	})
}
