package balancer_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/balancer"
)

func TestSticky(t *testing.T) {
	pool := balancer.MustPool(urlsN(3)...)
	a, b, c := pool.All()[0], pool.All()[1], pool.All()[2]
	s := balancer.NewSticky("", balancer.NewRoundRobin())

	// What the cookie of each upstream looks like, as SetCookie makes it.
	cookieOf := func(u *balancer.Upstream) string {
		h := http.Header{}
		s.SetCookie(h, u)
		v := h.Get("Set-Cookie")
		if !strings.HasPrefix(v, "gw_upstream=") || !strings.Contains(v, "HttpOnly") || !strings.Contains(v, "SameSite=Lax") {
			t.Fatalf("SetCookie wrote %q; want gw_upstream=..., HttpOnly, SameSite=Lax", v)
		}
		name, _, _ := strings.Cut(v, ";")
		return name
	}
	steps := []struct {
		cookie string
		down   *balancer.Upstream
		want   *balancer.Upstream // nil: not sticky, any
	}{
		{cookie: cookieOf(b), want: b},
		{cookie: "other=1; " + cookieOf(c), want: c},
		{cookie: "gw_upstream=0123456789abcdef"}, // names none
		{cookie: "gw_upstream=zz"},
		{cookie: cookieOf(b), down: b}, // b is down: the client moves
	}
	for i, step := range steps {
		if step.down != nil {
			pool.SetHealthy(step.down, false)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", step.cookie)
		for range 3 {
			got := s.Pick(r, pool.Healthy())
			if step.want != nil && got != step.want {
				t.Errorf("step %d: Pick with Cookie %q = %s; want %s", i, step.cookie, got, step.want)
			}
			if got == nil || !got.Healthy() {
				t.Errorf("step %d: Pick with Cookie %q = %v; want a healthy upstream", i, step.cookie, got)
			}
		}
	}
	_ = a
}

func TestStickyModifyResponse(t *testing.T) {
	pool := balancer.MustPool("http://a:1", "http://b:1/api")
	b := pool.All()[1]
	s := &balancer.Sticky{Cookie: "aff", Secure: true, MaxAge: 60}
	modify := s.ModifyResponse(pool)
	h := http.Header{}
	s.SetCookie(h, b)
	want := h.Get("Set-Cookie")
	name, _, _ := strings.Cut(want, ";")

	tests := []struct {
		url, cookie, want string
	}{
		{"http://B:1/api/users", "", want},
		{"http://b:1/api/users", name, ""}, // the client has it already
		{"http://c:1/", "", ""},            // not in the pool
	}
	for _, tt := range tests {
		res := &http.Response{Header: http.Header{}, Request: httptest.NewRequest("GET", tt.url, nil)}
		if tt.cookie != "" {
			res.Request.Header.Set("Cookie", tt.cookie)
		}
		if err := modify(res); err != nil {
			t.Fatal(err)
		}
		if got := res.Header.Get("Set-Cookie"); got != tt.want {
			t.Errorf("response from %s with Cookie %q: Set-Cookie = %q; want %q", tt.url, tt.cookie, got, tt.want)
		}
	}
	if !strings.Contains(want, "Secure") || !strings.Contains(want, "Max-Age=60") {
		t.Errorf("Set-Cookie = %q; want Secure and Max-Age=60", want)
	}
}
