package balancer_test

import (
	"testing"

	"github.com/vivremotion/gateway/balancer"
)

// TestLeastRequests steps the in-flight counts and checks which upstream
// is least loaded.
func TestLeastRequests(t *testing.T) {
	ups := weightedUps(t, 1, 1, 2)
	a, b, c := ups[0], ups[1], ups[2]
	var lr balancer.LeastRequests
	steps := []struct {
		begin []*balancer.Upstream // attempts started before the picks
		want  *balancer.Upstream
	}{
		{nil, c},                          // all idle: weight 2 wins
		{[]*balancer.Upstream{c, c}, nil}, // c: 3/2, a and b: 1; a tie
		{[]*balancer.Upstream{a}, b},      // a: 2, b: 1, c: 1.5
		{[]*balancer.Upstream{b, b}, c},   // a: 2, b: 3, c: 1.5
	}
	for i, step := range steps {
		for _, u := range step.begin {
			u.Begin()
		}
		got := countPicks(&lr, nil, ups, 1000)
		if step.want != nil {
			if got[step.want] != 1000 {
				t.Errorf("step %d: Pick = %v; want %s every time", i, got, step.want)
			}
			continue
		}
		// The tie between a and b is broken at random: each gets half,
		// 500 ± 16 (one standard deviation).
		if got[a] < 400 || got[b] < 400 || got[c] != 0 {
			t.Errorf("step %d: picks = a %d, b %d, c %d; want a and b about half each", i, got[a], got[b], got[c])
		}
	}
}

// TestLeastRequestsTiesUniform checks that ties among many idle upstreams
// go to each about equally, wherever it stands in the pool.
func TestLeastRequestsTiesUniform(t *testing.T) {
	ups := manyUps(t, 10)
	ups[4].Begin() // a busy one must not favour its neighbour
	const n = 90000
	got := countPicks(balancer.NewLeastRequests(), nil, ups, n)
	for i, u := range ups {
		want := n / 9 // 10000 ± 95 (one standard deviation)
		if i == 4 {
			want = 0
		}
		if d := got[u] - want; d < -500 || d > 500 {
			t.Errorf("%s picked %d times of %d; want %d ± 500", u, got[u], n, want)
		}
	}
}

// TestLeastRequestsLargePool checks the sampled pick of a pool too large
// to scan: with half the upstreams busy, a pick of the least loaded of 4
// finds an idle one unless all 4 draws are busy (1 in 16), and never
// picks the busiest upstream while it is the only one that busy.
func TestLeastRequestsLargePool(t *testing.T) {
	ups := manyUps(t, 2*balancer.LeastRequestsScanMax)
	for i, u := range ups {
		if i%2 == 1 {
			u.Begin()
		}
	}
	busiest := ups[1]
	for range 5 {
		busiest.Begin()
	}
	const n = 20000
	got := countPicks(balancer.NewLeastRequests(), nil, ups, n)
	idle := 0
	for i, u := range ups {
		if i%2 == 0 {
			idle += got[u]
		}
	}
	// 1 in 16 picks have no idle draw: 1250 of 20000, ± about 34.
	if busy := n - idle; busy > 1500 {
		t.Errorf("%d of %d picks went to a busy upstream; want about %d", busy, n, n/16)
	}
	if got[busiest] != 0 {
		t.Errorf("the busiest upstream was picked %d times; want 0", got[busiest])
	}
}
