package balancer

import "math/rand/v2"

// pickWeightedScan picks one of ups, which is not empty, at random by
// weight, in one pass and with no table: the way the weighted policies
// pick from a slice that is not a pool snapshot.
func pickWeightedScan(ups []*Upstream) *Upstream {
	var total uint64
	for _, u := range ups {
		total += uint64(u.Weighted())
	}
	x := rand.Uint64N(total)
	for _, u := range ups {
		w := uint64(u.Weighted())
		if x < w {
			return u
		}
		x -= w
	}
	return ups[len(ups)-1] // not reached
}
