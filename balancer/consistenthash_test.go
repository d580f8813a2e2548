package balancer_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/balancer"
)

func TestConsistentHashSameKey(t *testing.T) {
	ups := manyUps(t, 10)
	ch := balancer.NewConsistentHash(balancer.KeyHeader("x-user"))
	other := balancer.NewConsistentHash(balancer.KeyHeader("X-User")) // a second replica
	for i := range 1000 {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-User", fmt.Sprint("user-", i))
		first := ch.Pick(r, ups)
		for range 3 {
			if got := ch.Pick(r, ups); got != first {
				t.Fatalf("key user-%d: Pick = %s, then %s; want the same", i, first, got)
			}
		}
		if got := other.Pick(r, ups); got != first {
			t.Fatalf("key user-%d: another ConsistentHash picks %s; want %s", i, got, first)
		}
	}
}

// TestConsistentHashMoves removes one of 10 upstreams and counts the keys
// that move: ideally only the removed one's tenth.
func TestConsistentHashMoves(t *testing.T) {
	pool := balancer.MustPool(urlsN(10)...)
	before := pool.Healthy()
	ch := balancer.NewConsistentHash(balancer.KeyPath)
	const keys = 10000
	owner := make([]*balancer.Upstream, keys)
	perUpstream := make(map[*balancer.Upstream]int)
	r := httptest.NewRequest("GET", "/", nil)
	for i := range owner {
		r.URL.Path = fmt.Sprint("/k/", i)
		owner[i] = ch.Pick(r, before)
		perUpstream[owner[i]]++
	}
	for _, u := range before {
		if c := perUpstream[u]; c < keys/10/2 || c > keys/10*2 {
			t.Errorf("%s owns %d keys of %d; want about a tenth", u, c, keys)
		}
	}
	gone := before[3]
	if err := pool.Remove(gone); err != nil {
		t.Fatal(err)
	}
	after := pool.Healthy()
	moved := 0
	for i := range owner {
		r.URL.Path = fmt.Sprint("/k/", i)
		got := ch.Pick(r, after)
		if got == gone {
			t.Fatalf("key %d went to the removed upstream", i)
		}
		if got != owner[i] {
			moved++
			if owner[i] != gone {
				t.Errorf("key %d moved from %s, which stayed, to %s", i, owner[i], got)
			}
		}
	}
	t.Logf("%d of %d keys moved (%.1f%%)", moved, keys, 100*float64(moved)/keys)
	if moved > keys/5 {
		t.Errorf("%d of %d keys moved; want under 20%%", moved, keys)
	}
}

// TestConsistentHashBoundedLoad makes the owner of a hot key busy and checks
// that the key spills to the next upstream, and comes back when the owner
// is idle.
func TestConsistentHashBoundedLoad(t *testing.T) {
	ups := manyUps(t, 5)
	ch := balancer.NewConsistentHash(balancer.KeyPath)
	r := httptest.NewRequest("GET", "/hot", nil)
	owner := ch.Pick(r, ups)
	// Picking and starting 100 attempts of the hot key: with c = 1.25 no
	// upstream may hold more than ceil(1.25 × 100 / 5) = 25.
	for range 100 {
		ch.Pick(r, ups).Begin()
	}
	busiest := int64(0)
	for _, u := range ups {
		busiest = max(busiest, u.Inflight())
	}
	if busiest > 25 {
		t.Errorf("busiest upstream has %d in flight; want at most 25", busiest)
	}
	if owner.Inflight() == 0 {
		t.Errorf("owner %s has nothing in flight; want its share", owner)
	}
	// The bound turned off: all on the owner.
	free := &balancer.ConsistentHash{Key: balancer.KeyPath, Balance: -1}
	if got := free.Pick(r, ups); got != owner {
		t.Errorf("with no bound, Pick = %s; want the owner %s", got, owner)
	}
	for _, u := range ups {
		for u.Inflight() > 0 {
			u.Done(balancer.Outcome{})
		}
	}
	if got := ch.Pick(r, ups); got != owner {
		t.Errorf("once idle again, Pick = %s; want the owner %s", got, owner)
	}
}

func TestKeys(t *testing.T) {
	r := httptest.NewRequest("GET", "/a/b?x=1", nil)
	r.RemoteAddr = "[2001:db8::1]:5555"
	r.Header.Set("X-Tenant", "acme")
	r.Header.Add("Cookie", "a=1; session=\"s1\"")
	r.Header.Add("Cookie", "session=s2")
	tests := []struct {
		name string
		key  func(*http.Request) string
		want string
	}{
		{"KeyClientIP", balancer.KeyClientIP, "2001:db8::1"},
		{"KeyPath", balancer.KeyPath, "/a/b"},
		{"KeyHeader", balancer.KeyHeader("x-tenant"), "acme"},
		{"KeyHeader, absent", balancer.KeyHeader("X-Other"), ""},
		{"KeyCookie", balancer.KeyCookie("session"), "s1"},
		{"KeyCookie, first", balancer.KeyCookie("a"), "1"},
		{"KeyCookie, absent", balancer.KeyCookie("sess"), ""},
	}
	for _, tt := range tests {
		if got := tt.key(r); got != tt.want {
			t.Errorf("%s(r) = %q; want %q", tt.name, got, tt.want)
		}
		if n := testing.AllocsPerRun(100, func() { _ = tt.key(r) }); n != 0 {
			t.Errorf("%s allocates %v times; want 0", tt.name, n)
		}
	}
	r.RemoteAddr = "pipe"
	if got := balancer.KeyClientIP(r); got != "pipe" {
		t.Errorf("KeyClientIP with RemoteAddr %q = %q; want it whole", r.RemoteAddr, got)
	}
}
