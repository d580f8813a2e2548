package balancer

import (
	"math/rand/v2"
	"net/http"
)

// LeastRequests picks the upstream with the fewest attempts in flight
// ([Upstream.Inflight]) for its [Upstream.Weight]: it compares
// (in flight + 1) / weight, so a with 4 in flight and weight 2 counts as
// less loaded than b with 3 in flight and weight 1, and among idle
// upstreams the heaviest wins. Ties are broken uniformly at random. Its
// zero value is ready to use and safe for concurrent use; Pick allocates
// nothing and takes no lock.
//
// Pick looks at every upstream, so its cost grows with their number; for
// hundreds of upstreams [P2C] gives much the same balance for the cost of
// two.
type LeastRequests struct{}

// NewLeastRequests returns a least-requests policy.
func NewLeastRequests() *LeastRequests { return &LeastRequests{} }

// Pick returns the least loaded upstream, or nil when ups is empty.
func (*LeastRequests) Pick(_ *http.Request, ups []*Upstream) *Upstream {
	if len(ups) <= 1 {
		if len(ups) == 0 {
			return nil
		}
		return ups[0]
	}
	// Ties are kept by reservoir sampling: the k-th tie replaces the best
	// with chance 1/k. Its random numbers come from a xorshift seeded once
	// per pick, as one draw from math/rand/v2 per tie would cost more than
	// the scan when all are idle.
	x := rand.Uint64() | 1
	best := ups[0]
	bestLoad, bestWeight := best.Inflight()+1, int64(best.Weighted())
	ties := uint64(1)
	for _, u := range ups[1:] {
		load, w := u.Inflight()+1, int64(u.Weighted())
		// load/w against bestLoad/bestWeight, without division
		switch l, r := load*bestWeight, bestLoad*w; {
		case l < r:
			best, bestLoad, bestWeight, ties = u, load, w, 1
		case l == r:
			ties++
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			if (x>>32)*ties>>32 == 0 { // x>>32 scaled to [0, ties)
				best, bestLoad, bestWeight = u, load, w
			}
		}
	}
	return best
}
