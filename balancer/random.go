package balancer

import (
	"math/rand/v2"
	"net/http"
)

// Random picks an upstream at random, each with a chance in proportion to
// its [Upstream.Weight]. Its zero value is ready to use and safe for
// concurrent use; Pick allocates nothing and takes no lock.
//
// The random numbers come from math/rand/v2's top-level functions, which
// draw from a per-thread generator in the runtime rather than from a
// source under a global lock. The running totals of the weights are built
// once per healthy snapshot; a pick is a binary search over them, or one
// draw when all weights are equal. A slice that is not a pool snapshot,
// such as the one the proxy's retries pass, is picked from in one pass over
// it, with no table.
type Random struct {
	tables perSnapshot[*weightTable]
}

// NewRandom returns a weighted random policy.
func NewRandom() *Random { return &Random{} }

// weightTable holds the running totals of one snapshot's weights.
type weightTable struct {
	cum   []uint64 // cum[i]: the sum of the weights of ups[0..i]; nil when all are equal
	total uint64
}

// Pick returns a random upstream, or nil when ups is empty.
func (rp *Random) Pick(_ *http.Request, ups []*Upstream) *Upstream {
	if len(ups) <= 1 {
		if len(ups) == 0 {
			return nil
		}
		return ups[0]
	}
	if !isSnapshot(ups) {
		return pickWeightedScan(ups)
	}
	t, ok := rp.tables.load(ups)
	if !ok {
		t = rp.tables.build(ups, newWeightTable)
	}
	if t.cum == nil {
		return ups[rand.IntN(len(ups))]
	}
	x := rand.Uint64N(t.total)
	lo, hi := 0, len(t.cum)-1 // the first i with x < cum[i]
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if x < t.cum[m] {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return ups[lo]
}

func newWeightTable(ups []*Upstream) *weightTable {
	t := &weightTable{}
	equal := true
	cum := make([]uint64, len(ups))
	for i, u := range ups {
		t.total += uint64(u.Weighted())
		cum[i] = t.total
		equal = equal && u.Weighted() == ups[0].Weighted()
	}
	if !equal {
		t.cum = cum
	}
	return t
}
