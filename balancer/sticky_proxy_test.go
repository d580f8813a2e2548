package balancer_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
)

// TestStickyWithProxy wires Sticky into a gateway.Proxy as its doc says and
// checks that a client who sends back the cookie it got stays on one
// upstream, and that one who does not is spread.
func TestStickyWithProxy(t *testing.T) {
	var urls []string
	for _, name := range []string{"one", "two", "three"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name)
		}))
		defer srv.Close()
		urls = append(urls, srv.URL)
	}
	pool := balancer.MustPool(urls...)
	sticky := balancer.NewSticky("", balancer.NewRoundRobin())
	proxy := &gateway.Proxy{Upstreams: pool, Balancer: sticky, ModifyResponse: sticky.ModifyResponse(pool)}

	get := func(cookies []*http.Cookie) (body string, set []*http.Cookie) {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		proxy.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d; want 200", w.Code)
		}
		return w.Body.String(), w.Result().Cookies()
	}

	first, cookies := get(nil)
	if len(cookies) != 1 || cookies[0].Name != balancer.DefaultStickyCookie {
		t.Fatalf("first response set cookies %v; want one %s", cookies, balancer.DefaultStickyCookie)
	}
	for range 5 {
		body, set := get(cookies)
		if body != first {
			t.Errorf("with the cookie, answered by %s; want %s", body, first)
		}
		if len(set) != 0 {
			t.Errorf("with the cookie, response set %v again; want nothing", set)
		}
	}
	seen := map[string]bool{}
	for range 3 {
		body, _ := get(nil)
		seen[body] = true
	}
	if len(seen) != 3 {
		t.Errorf("without a cookie, answered by %v; want all three in turn", seen)
	}
}
