package balancer_test

import (
	"testing"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

// TestP2CAvoidsSlow gives one of four upstreams a slow answer and checks
// that P2C then sends it almost nothing, and that it is tried again once
// its average has decayed.
func TestP2CAvoidsSlow(t *testing.T) {
	ups := manyUps(t, 4)
	now := time.Now()
	for _, u := range ups {
		u.Begin()
		u.DoneAt(balancer.Outcome{Duration: 5 * time.Millisecond}, now)
	}
	slow := ups[1]
	slow.Begin()
	slow.DoneAt(balancer.Outcome{Duration: 500 * time.Millisecond}, now)

	p := balancer.NewP2C()
	const n = 10000
	got := countPicks(p, nil, ups, n)
	// The slow one wins only against itself: never, as the two draws differ.
	if got[slow] != 0 {
		t.Errorf("slow upstream picked %d times of %d; want 0", got[slow], n)
	}
	for _, u := range ups {
		if u != slow && got[u] < n/4 {
			t.Errorf("%s picked %d times of %d; want about a third", u, got[u], n)
		}
	}

	// Load counts too: the fast ones, each with 200 in flight, cost
	// 5ms × 201, more than the slow one's 500ms × 1.
	for _, u := range ups {
		if u != slow {
			for range 200 {
				u.Begin()
			}
		}
	}
	if got := countPicks(p, nil, ups, n); got[slow] < n/3 {
		t.Errorf("slow but idle upstream picked %d times of %d; want at least half when drawn", got[slow], n)
	}
}

// TestP2CRetriesSlow checks that an upstream avoided for one slow answer
// gets traffic again once its average has decayed below the others'.
func TestP2CRetriesSlow(t *testing.T) {
	a, b := mustUpstream(t, "http://a:1", 0), mustUpstream(t, "http://b:1", 0)
	ups := []*balancer.Upstream{a, b}
	t0 := time.Now()
	a.Begin()
	a.DoneAt(balancer.Outcome{Duration: 500 * time.Millisecond}, t0)
	p := balancer.NewP2C()
	steps := []struct {
		bAt  time.Duration // when b's 5ms answer ends, after t0
		want *balancer.Upstream
	}{
		{time.Second, b},      // a: 500ms × e^-0.1 ≈ 452ms
		{30 * time.Second, b}, // a: 500ms × e^-3 ≈ 25ms
		{60 * time.Second, a}, // a: 500ms × e^-6 ≈ 1.2ms, below b's 5ms
	}
	for _, step := range steps {
		b.Begin()
		b.DoneAt(balancer.Outcome{Duration: 5 * time.Millisecond}, t0.Add(step.bAt))
		if got := p.Pick(nil, ups); got != step.want {
			t.Errorf("%v after a's slow answer: Pick = %s; want %s", step.bAt, got, step.want)
		}
	}
}
