package balancer_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

// benchPolicies returns each policy set up as a user would, for ups.
func benchPolicies(ups []*balancer.Upstream) map[string]picker {
	return map[string]picker{
		"RoundRobin":     balancer.NewRoundRobin(),
		"SmoothWeighted": balancer.NewSmoothWeighted(),
		"Random":         balancer.NewRandom(),
		"LeastRequests":  balancer.NewLeastRequests(),
		"P2C":            balancer.NewP2C(),
		"ConsistentHash": balancer.NewConsistentHash(balancer.KeyHeader("X-User")),
		"Sticky":         balancer.NewSticky("", balancer.NewP2C()),
	}
}

var benchOrder = []string{"RoundRobin", "SmoothWeighted", "Random", "LeastRequests", "P2C", "ConsistentHash", "Sticky"}

// pickRequest is a request with a user header for ConsistentHash and a
// cookie that names ups[len/2] for Sticky.
func pickRequest(ups []*balancer.Upstream) *http.Request {
	r := httptest.NewRequest("GET", "/v1/users/42", nil)
	r.Header.Set("X-User", "user-42")
	h := http.Header{}
	balancer.NewSticky("", nil).SetCookie(h, ups[len(ups)/2])
	r.Header.Set("Cookie", "theme=dark; "+h.Get("Set-Cookie"))
	return r
}

// BenchmarkPick measures one Pick over a pool snapshot of n upstreams of
// weights 1, 2 and 3 in turn, with a few requests in flight on each and a
// latency sample on each: the per-request cost of the policy alone, after
// its per-snapshot tables are built. The parallel variant picks from all
// CPUs at once on one policy, the case of shared counters.
func BenchmarkPick(b *testing.B) {
	for _, name := range benchOrder {
		b.Run(name, func(b *testing.B) {
			for _, n := range []int{10, 100, 1000} {
				ups := benchUps(b, n)
				p := benchPolicies(ups)[name]
				r := pickRequest(ups)
				p.Pick(r, ups) // builds what is kept per snapshot, outside the timing
				b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						p.Pick(r, ups)
					}
				})
				if n != 100 {
					continue
				}
				b.Run("n=100/parallel", func(b *testing.B) {
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							p.Pick(r, ups)
						}
					})
				})
			}
		})
	}
}

func benchUps(b *testing.B, n int) []*balancer.Upstream {
	urls := urlsN(n)
	ups := make([]*balancer.Upstream, n)
	for i, raw := range urls {
		u, err := balancer.NewUpstream(raw)
		if err != nil {
			b.Fatal(err)
		}
		u.Weight = 1 + i%3
		for range i % 4 {
			u.Begin()
		}
		ups[i] = u
	}
	p, err := balancer.PoolOf(ups...)
	if err != nil {
		b.Fatal(err)
	}
	for i, u := range p.Healthy() {
		u.Begin()
		u.Done(balancer.Outcome{Duration: time.Duration(1+i%5) * time.Millisecond})
	}
	return p.Healthy()
}

// BenchmarkDone measures the bookkeeping of one attempt, Begin and Done,
// on an upstream of a pool with outlier ejection on: what the proxy adds
// per request besides the pick. DoneAt is Done without its clock read.
func BenchmarkDone(b *testing.B) {
	pool := balancer.MustPool(urlsN(10)...)
	if err := pool.EjectOutliers(balancer.Ejector{}); err != nil {
		b.Fatal(err)
	}
	u := pool.All()[0]
	o := balancer.Outcome{Status: 200, Duration: time.Millisecond}
	b.Run("Done", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u.Begin()
			u.Done(o)
		}
	})
	b.Run("DoneAt", func(b *testing.B) {
		b.ReportAllocs()
		now := time.Now()
		for b.Loop() {
			u.Begin()
			u.DoneAt(o, now)
		}
	})
}
