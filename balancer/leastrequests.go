package balancer

import (
	"math/rand/v2"
	"net/http"
)

// LeastRequests picks the upstream with the fewest attempts in flight
// ([Upstream.Inflight]) for its [Upstream.Weight]: a with 4 in flight and
// weight 2 counts as less loaded than b with 3 in flight and weight 1.
// Ties are broken at random: the scan starts at a random upstream and
// keeps the first of the least loaded. Its zero value is ready to use and
// safe for concurrent use; Pick allocates nothing and takes no lock.
//
// Pick looks at every upstream, so its cost grows with their number; for
// hundreds of upstreams [P2C] gives much the same balance for the cost of
// two.
type LeastRequests struct{}

// NewLeastRequests returns a least-requests policy.
func NewLeastRequests() *LeastRequests { return &LeastRequests{} }

// Pick returns the least loaded upstream, or nil when ups is empty.
func (*LeastRequests) Pick(_ *http.Request, ups []*Upstream) *Upstream {
	n := len(ups)
	if n <= 1 {
		if n == 0 {
			return nil
		}
		return ups[0]
	}
	start := rand.IntN(n)
	best := ups[start]
	bestLoad, bestWeight := best.Inflight()+1, int64(best.Weighted())
	for k := 1; k < n; k++ {
		i := start + k
		if i >= n {
			i -= n
		}
		u := ups[i]
		load, w := u.Inflight()+1, int64(u.Weighted())
		// load/w < bestLoad/bestWeight, without division
		if load*bestWeight < bestLoad*w {
			best, bestLoad, bestWeight = u, load, w
		}
	}
	return best
}
