package balancer

import (
	"net/http"
	"sync"
	"sync/atomic"
)

// SmoothWeighted picks upstreams in proportion to their [Upstream.Weight]
// with nginx's smooth weighted round robin: weights 5:1:1 give
// a a b a c a a, not a a a a a b c, so that a heavy upstream's turns are
// spread out. Its zero value is ready to use and safe for concurrent use;
// Pick allocates nothing.
//
// The order is computed once per healthy snapshot (weights reduced by
// their greatest common divisor) and then walked with one atomic counter,
// so a pick takes no lock and constant time. When the sequence would be
// too long to keep (over 65536 turns, or over 4M steps to compute), Pick
// falls back to nginx's algorithm step by step, under a mutex, in time
// linear in the number of upstreams.
//
// A slice of upstreams that is not a pool snapshot, such as the one the
// proxy's retries pass without the upstreams already tried, has no order
// kept: Pick takes one at random by weight, in one pass over it.
type SmoothWeighted struct {
	next  atomic.Uint64
	plans perSnapshot[*swrrPlan]
}

// NewSmoothWeighted returns a smooth weighted round-robin policy.
func NewSmoothWeighted() *SmoothWeighted { return &SmoothWeighted{} }

// Limits of the precomputed sequence.
const (
	swrrMaxSeq   = 1 << 16
	swrrMaxSteps = 1 << 22
)

// swrrPlan is the schedule for one snapshot: either the whole sequence of
// turns, or the state of the step-by-step algorithm.
type swrrPlan struct {
	seq []int32 // indexes into the snapshot; nil when too long

	mu      sync.Mutex // guards current
	current []int64
	weights []int64
	total   int64
}

// Pick returns the upstream whose turn it is, or nil when ups is empty.
func (s *SmoothWeighted) Pick(_ *http.Request, ups []*Upstream) *Upstream {
	if len(ups) <= 1 {
		if len(ups) == 0 {
			return nil
		}
		return ups[0]
	}
	if !isSnapshot(ups) {
		return pickWeightedScan(ups) // no order to keep for a slice made elsewhere
	}
	p, ok := s.plans.load(ups)
	if !ok {
		p = s.plans.build(ups, newSWRRPlan)
	}
	n := s.next.Add(1) - 1
	if p.seq != nil {
		return ups[p.seq[n%uint64(len(p.seq))]]
	}
	p.mu.Lock()
	best := 0
	for i, w := range p.weights {
		p.current[i] += w
		if p.current[i] > p.current[best] {
			best = i
		}
	}
	p.current[best] -= p.total
	p.mu.Unlock()
	return ups[best]
}

func newSWRRPlan(ups []*Upstream) *swrrPlan {
	p := &swrrPlan{weights: make([]int64, len(ups)), current: make([]int64, len(ups))}
	var g int64
	for i, u := range ups {
		p.weights[i] = int64(u.Weighted())
		g = gcd(g, p.weights[i])
	}
	for i := range p.weights {
		p.weights[i] /= g
		p.total += p.weights[i]
	}
	if p.total > swrrMaxSeq || p.total*int64(len(ups)) > swrrMaxSteps {
		return p // step by step
	}
	p.seq = make([]int32, p.total)
	for k := range p.seq {
		best := 0
		for i, w := range p.weights {
			p.current[i] += w
			if p.current[i] > p.current[best] {
				best = i
			}
		}
		p.current[best] -= p.total
		p.seq[k] = int32(best)
	}
	p.current = nil
	return p
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
