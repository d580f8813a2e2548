package balancer_test

import (
	"net/http/httptest"
	"slices"
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

// TestPickReusedSlice passes what the proxy's retries pass: one slice,
// reused, holding each time the healthy upstreams not yet tried. No policy
// may answer from a table it kept for other contents at the same address.
func TestPickReusedSlice(t *testing.T) {
	all := weightedUps(t, 1, 2, 3, 1, 2)
	r := pickRequest(all)
	rest := make([]*balancer.Upstream, 0, len(all))
	for name, p := range benchPolicies(all) {
		p.Pick(r, all) // tables for the snapshot
		for skip := range all {
			for range 20 {
				rest = rest[:0]
				for i, u := range all {
					if i != skip && i != (skip+1)%len(all) {
						rest = append(rest, u)
					}
				}
				got := p.Pick(r, rest)
				if !slices.Contains(rest, got) {
					t.Fatalf("%s: Pick(%v) = %v; want one of them", name, rest, got)
				}
			}
		}
		if n := testing.AllocsPerRun(100, func() { _ = p.Pick(r, rest) }); n != 0 {
			t.Errorf("%s: Pick on a slice made elsewhere allocates %v times; want 0", name, n)
		}
	}
}

// TestPickSubsetSticksToKey checks that ConsistentHash maps a key to one
// upstream of a slice made elsewhere, and that Sticky does not return the
// upstream its cookie names when the slice leaves it out.
func TestPickSubsetSticksToKey(t *testing.T) {
	all := manyUps(t, 6)
	r := pickRequest(all) // cookie names all[3]
	rest := slices.Clone(all[:5])
	ch := balancer.NewConsistentHash(balancer.KeyHeader("X-User"))
	first := ch.Pick(r, rest)
	for range 10 {
		if got := ch.Pick(r, rest); got != first {
			t.Fatalf("ConsistentHash on a slice made elsewhere: Pick = %s, then %s; want the same", first, got)
		}
	}
	s := balancer.NewSticky("", nil)
	if got := s.Pick(r, rest); got != all[3] {
		t.Errorf("Sticky on a slice with the named upstream: Pick = %s; want %s", got, all[3])
	}
	without := slices.Delete(slices.Clone(all), 3, 4)
	for range 10 {
		if got := s.Pick(r, without); got == all[3] {
			t.Fatalf("Sticky on a slice without %s returned it", got)
		}
	}
}
