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
// In a pool of up to [LeastRequestsScanMax] upstreams Pick compares them
// all. In a larger one it compares Choices of them drawn at random, as
// Envoy's least-request balancer does: the pick is then never the most
// loaded of the pool and is the least loaded of a sample, for a cost that
// does not grow with the pool.
type LeastRequests struct {
	// Choices is how many upstreams, drawn at random, Pick compares in a
	// pool of more than LeastRequestsScanMax. Zero means 4.
	Choices int
}

// LeastRequestsScanMax is the largest pool in which [LeastRequests]
// compares every upstream.
const LeastRequestsScanMax = 32

// NewLeastRequests returns a least-requests policy.
func NewLeastRequests() *LeastRequests { return &LeastRequests{} }

// Pick returns the least loaded upstream, or nil when ups is empty.
func (lr *LeastRequests) Pick(_ *http.Request, ups []*Upstream) *Upstream {
	if len(ups) <= 1 {
		if len(ups) == 0 {
			return nil
		}
		return ups[0]
	}
	if len(ups) > LeastRequestsScanMax {
		return lr.sample(ups)
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

// sample returns the least loaded of Choices upstreams drawn at random
// from ups. A draw may repeat one (rarely, in pools this large), which only
// compares it twice.
func (lr *LeastRequests) sample(ups []*Upstream) *Upstream {
	k := lr.Choices
	if k <= 0 {
		k = 4
	}
	n := uint64(len(ups))
	best := ups[rand.Uint64N(n)]
	bestLoad, bestWeight := best.Inflight()+1, int64(best.Weighted())
	for range k - 1 {
		u := ups[rand.Uint64N(n)]
		load, w := u.Inflight()+1, int64(u.Weighted())
		if load*bestWeight < bestLoad*w {
			best, bestLoad, bestWeight = u, load, w
		}
	}
	return best
}
