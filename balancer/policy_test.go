package balancer_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/balancer"
)

// picker is what every policy here is.
type picker = balancer.Picker

// weightedUps returns upstreams a, b, c, ... with the given weights.
func weightedUps(t testing.TB, weights ...int) []*balancer.Upstream {
	t.Helper()
	ups := make([]*balancer.Upstream, len(weights))
	for i, w := range weights {
		ups[i] = mustUpstream(t, fmt.Sprintf("http://%c:1", 'a'+i), 0)
		ups[i].Weight = w
	}
	p, err := balancer.PoolOf(ups...)
	if err != nil {
		t.Fatal(err)
	}
	return p.Healthy()
}

// manyUps returns n upstreams of weight 1, in a pool's snapshot.
func manyUps(t testing.TB, n int) []*balancer.Upstream {
	t.Helper()
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://10.0.%d.%d:8080", i/256, i%256)
	}
	return balancer.MustPool(urls...).Healthy()
}

func urlsN(n int) []string {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://10.0.%d.%d:8080", i/256, i%256)
	}
	return urls
}

// countPicks picks n times and counts the picks of each upstream.
func countPicks(p picker, r *http.Request, ups []*balancer.Upstream, n int) map[*balancer.Upstream]int {
	got := make(map[*balancer.Upstream]int)
	for range n {
		got[p.Pick(r, ups)]++
	}
	return got
}

// checkShares fails when an upstream's share of the picks is off its
// weight's share by more than tol, relative.
func checkShares(t *testing.T, name string, got map[*balancer.Upstream]int, ups []*balancer.Upstream, n int, tol float64) {
	t.Helper()
	var total int
	for _, u := range ups {
		total += u.Weighted()
	}
	for _, u := range ups {
		want := float64(n) * float64(u.Weighted()) / float64(total)
		if d := math.Abs(float64(got[u])-want) / want; d > tol {
			t.Errorf("%s: %s (weight %d) picked %d times of %d; want %.0f ± %.0f%%", name, u, u.Weighted(), got[u], n, want, tol*100)
		}
	}
}

// TestSmoothWeightedOrder checks nginx's order: the heavy upstream's turns
// are spread out.
func TestSmoothWeightedOrder(t *testing.T) {
	tests := []struct {
		weights []int
		want    string // the first picks, by letter
	}{
		{[]int{5, 1, 1}, "aabacaa" + "aabacaa"},
		{[]int{1, 1, 1}, "abcabc"},
		{[]int{2, 4, 6}, "cbacbc" + "cbacbc"}, // as 1:2:3
		{[]int{0, -1, 2}, "cabc" + "cabc"},    // zero and negative are 1
	}
	r := httptest.NewRequest("GET", "/", nil)
	for _, tt := range tests {
		ups := weightedUps(t, tt.weights...)
		var s balancer.SmoothWeighted // the zero value is ready
		var got strings.Builder
		for range len(tt.want) {
			got.WriteByte(s.Pick(r, ups).URL.Host[0])
		}
		if got.String() != tt.want {
			t.Errorf("weights %v: picks = %s; want %s", tt.weights, got.String(), tt.want)
		}
	}
}

// TestSmoothWeightedLongSequence uses weights whose sequence is too long to
// keep, so that Pick steps nginx's algorithm under its mutex.
func TestSmoothWeightedLongSequence(t *testing.T) {
	ups := weightedUps(t, 100000, 200001, 300000)
	s := balancer.NewSmoothWeighted()
	const n = 60000
	got := countPicks(s, nil, ups, n)
	checkShares(t, "SmoothWeighted", got, ups, n, 0.01)
}

func TestWeightedShares(t *testing.T) {
	ups := weightedUps(t, 1, 2, 3)
	const n = 120000
	tests := []struct {
		name string
		p    picker
		tol  float64
	}{
		{"SmoothWeighted", balancer.NewSmoothWeighted(), 0},
		// Binomial: the standard deviation of the smallest share is
		// sqrt(n·p·(1-p)) ≈ 129 of 20000, 0.65%; 5% is more than 7σ.
		{"Random", balancer.NewRandom(), 0.05},
	}
	for _, tt := range tests {
		got := countPicks(tt.p, nil, ups, n)
		checkShares(t, tt.name, got, ups, n, tt.tol)
	}
	// Equal weights take Random's one-draw path.
	eq := weightedUps(t, 1, 1, 1, 1)
	checkShares(t, "Random, equal weights", countPicks(balancer.NewRandom(), nil, eq, n), eq, n, 0.05)
}
