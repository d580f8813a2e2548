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
		// The tie between a and b is broken at random, both get a share.
		if got[a] < 300 || got[b] < 300 || got[c] != 0 {
			t.Errorf("step %d: picks = a %d, b %d, c %d; want a and b about half each", i, got[a], got[b], got[c])
		}
	}
}
