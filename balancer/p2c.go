package balancer

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// DefaultUnmeasuredLatency is the latency [P2C] assumes for an upstream
// that has no sample yet, when [P2C.Unmeasured] is zero.
const DefaultUnmeasuredLatency = 30 * time.Millisecond

// P2C is "the power of two random choices" on peak-EWMA latency: Pick draws
// two different upstreams at random and takes the one with the lower cost,
// its [Upstream.Latency] times one more than its requests in flight. An
// upstream that turns slow is avoided at once, since the peak EWMA jumps on
// the first slow answer, and is tried again as its average decays; a
// loaded one is avoided in proportion to its load. Weights are not used.
//
// Its zero value is ready to use and safe for concurrent use; Pick
// allocates nothing and takes no lock. The latency average's time
// constant is each upstream's [Upstream.LatencyDecay].
//
// Pick does not read the clock, which costs more than the rest of a pick on
// some virtual machines. Two averages that decay with the same time
// constant keep their ratio as time passes, so which of two upstreams is
// cheaper is the same now as at the later of their last samples, and Pick
// compares them as of then. (With different LatencyDecay values, or
// against an unmeasured upstream, this is an approximation.)
type P2C struct {
	// Unmeasured is the latency assumed for an upstream with no sample yet,
	// such as one just added. Low values send a new upstream traffic until
	// its first answers, bounded by its requests in flight; high values
	// keep it idle until the others are loaded. Zero means
	// [DefaultUnmeasuredLatency].
	Unmeasured time.Duration
}

// NewP2C returns a P2C policy with the defaults.
func NewP2C() *P2C { return &P2C{} }

// Pick returns the cheaper of two random upstreams, or nil when ups is
// empty.
func (p *P2C) Pick(_ *http.Request, ups []*Upstream) *Upstream {
	n := len(ups)
	if n <= 1 {
		if n == 0 {
			return nil
		}
		return ups[0]
	}
	i := rand.IntN(n)
	j := rand.IntN(n - 1)
	if j >= i {
		j++ // two different upstreams
	}
	a, b := ups[i], ups[j]
	at := max(a.ewmaAt.Load(), b.ewmaAt.Load()) // see the type's doc
	if p.cost(b, at) < p.cost(a, at) {
		return b
	}
	return a
}

func (p *P2C) cost(u *Upstream, now int64) float64 {
	lat := u.latencyAt(now)
	if lat == 0 {
		lat = float64(DefaultUnmeasuredLatency)
		if p.Unmeasured > 0 {
			lat = float64(p.Unmeasured)
		}
	}
	return lat * float64(u.Inflight()+1)
}
