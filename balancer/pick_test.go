package balancer_test

import (
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/balancer"
)

func TestPickEmpty(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	for name, p := range allPolicies() {
		if got := p.Pick(r, nil); got != nil {
			t.Errorf("%s: Pick(no upstreams) = %v; want nil", name, got)
		}
		one := manyUps(t, 1)
		if got := p.Pick(r, one); got != one[0] {
			t.Errorf("%s: Pick(one upstream) = %v; want %v", name, got, one[0])
		}
	}
}

func allPolicies() map[string]picker {
	return map[string]picker{
		"RoundRobin":     balancer.NewRoundRobin(),
		"SmoothWeighted": balancer.NewSmoothWeighted(),
		"Random":         balancer.NewRandom(),
		"LeastRequests":  balancer.NewLeastRequests(),
		"P2C":            balancer.NewP2C(),
		"ConsistentHash": balancer.NewConsistentHash(nil),
		"Sticky":         balancer.NewSticky("", nil),
	}
}

// TestPickAllocs is the zero-allocation claim of every policy, with a
// request that carries each key and a sticky cookie.
func TestPickAllocs(t *testing.T) {
	ups := manyUps(t, 10)
	r := pickRequest(ups)
	for name, p := range benchPolicies(ups) {
		p.Pick(r, ups) // builds what is kept per snapshot
		if n := testing.AllocsPerRun(1000, func() { _ = p.Pick(r, ups) }); n != 0 {
			t.Errorf("%s: Pick allocates %v times; want 0", name, n)
		}
	}
	// Under load ConsistentHash walks the ring: still nothing.
	ch := balancer.NewConsistentHash(balancer.KeyPath)
	for _, u := range ups {
		u.Begin()
	}
	if n := testing.AllocsPerRun(1000, func() { _ = ch.Pick(r, ups) }); n != 0 {
		t.Errorf("ConsistentHash under load: Pick allocates %v times; want 0", n)
	}
}
