package balancer

import (
	"net/http"
	"sync/atomic"
)

// RoundRobin picks the upstreams in turn. Its zero value is ready to use and
// safe for concurrent use; Pick allocates nothing.
type RoundRobin struct {
	next atomic.Uint64
}

// NewRoundRobin returns a round-robin policy.
func NewRoundRobin() *RoundRobin { return &RoundRobin{} }

// Pick returns the next upstream in turn, or nil when ups is empty.
func (rr *RoundRobin) Pick(_ *http.Request, ups []*Upstream) *Upstream {
	if len(ups) == 0 {
		return nil
	}
	n := rr.next.Add(1) - 1
	return ups[n%uint64(len(ups))]
}
