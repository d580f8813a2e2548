package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// nopWriter is a ResponseWriter that keeps nothing, so that benchmarks and
// allocation guards measure the router alone.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

var nopHandler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// matchRequest runs the part of ServeHTTP that chooses a route: the
// routing path, its check and the table lookup.
func matchRequest(t *table, r *http.Request) *entry {
	p, escaped := routingPath(r.URL)
	if checkPath(p, escaped) != pathOK {
		return nil
	}
	m := matcher{r: r, method: r.Method, host: requestHost(r.Host), path: p, escaped: escaped}
	return t.lookup(&m)
}

func allocGuardGateway(t testing.TB) *Gateway {
	g := New(Config{})
	for _, rt := range []Route{
		{Pattern: "GET /v1/users"},
		{Pattern: "GET /v1/users/{id}"},
		{Pattern: "GET /v1/users/{id}/files/{path...}"},
		{Pattern: "/v1/{kind}/{id}"},
		{Pattern: "GET *.tenant.example.com/v1/items/{id}"},
		{Pattern: "GET api.example.com/v1/items/{id}"},
		{Pattern: "/flags", Headers: []Predicate{{Name: "X-Env", Value: "canary"}, {Name: "X-Build", Regexp: `^\d+$`}},
			Query: []Predicate{{Name: "beta", Value: "on"}},
			Match: func(r *http.Request) bool { return r.ContentLength <= 0 }},
		{Pattern: "/flags"},
		{Pattern: "/split", Variants: []Variant{{Name: "a", Weight: 3, Handler: nopHandler}, {Name: "b", Weight: 1, Handler: nopHandler}},
			Sticky: Sticky{Header: "X-Variant", Cookie: "variant"}},
	} {
		if rt.Variants == nil {
			rt.Handler = nopHandler
		}
		if err := g.Route(rt); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 { // enough literals for the map lookup
		g.Handle(fmt.Sprintf("GET /v1/res%d", i), nopHandler)
	}
	return g
}

// TestMatchAllocs guards the zero-allocation claim of matching: routing
// path, path check, host and trie walk, predicates.
func TestMatchAllocs(t *testing.T) {
	g := allocGuardGateway(t)
	tbl := g.table.Load()
	for _, tc := range []struct {
		name, method, host, target, want string
		header                           http.Header
	}{
		{"literal", "GET", "example.com", "/v1/users", "GET /v1/users", nil},
		{"literal map", "GET", "example.com", "/v1/res17", "GET /v1/res17", nil},
		{"param", "GET", "example.com", "/v1/users/42", "GET /v1/users/{id}", nil},
		{"rest", "GET", "example.com", "/v1/users/42/files/a/b/c.txt", "GET /v1/users/{id}/files/{path...}", nil},
		{"backtrack", "DELETE", "example.com", "/v1/users/42", "/v1/{kind}/{id}", nil},
		{"escaped", "GET", "example.com", "/v1/users/a%2Fb", "GET /v1/users/{id}", nil},
		{"wildcard host", "GET", "Acme.Tenant.Example.com:8443", "/v1/items/7", "GET *.tenant.example.com/v1/items/{id}", nil},
		{"exact host upper", "GET", "API.EXAMPLE.COM", "/v1/items/7", "GET api.example.com/v1/items/{id}", nil},
		{"predicates", "GET", "example.com", "/flags?x=1&beta=on", "/flags",
			http.Header{"X-Env": {"canary"}, "X-Build": {"1234"}}},
		{"predicates fail", "GET", "example.com", "/flags?beta=off", "/flags",
			http.Header{"X-Env": {"canary"}, "X-Build": {"1234"}}},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		r.Host = tc.host
		for k, v := range tc.header {
			r.Header[k] = v
		}
		e := matchRequest(tbl, r)
		if e == nil || e.pattern != tc.want {
			t.Errorf("%s: match(%s %s%s) = %v; want route %q", tc.name, tc.method, tc.host, tc.target, e, tc.want)
			continue
		}
		if n := testing.AllocsPerRun(100, func() { matchRequest(tbl, r) }); n != 0 {
			t.Errorf("%s: match(%s %s%s) allocates %v times; want 0", tc.name, tc.method, tc.host, tc.target, n)
		}
	}
}

// TestServeAllocs guards ServeHTTP for routes without wildcards, where no
// path value is set, and the variant pick with a sticky cookie.
func TestServeAllocs(t *testing.T) {
	g := allocGuardGateway(t)
	g.Use(func(h http.Handler) http.Handler { return h })
	w := &nopWriter{h: http.Header{}}
	for _, target := range []string{"/v1/users", "/v1/res3", "/split"} {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("Cookie", "session=abc; variant=b")
		if n := testing.AllocsPerRun(100, func() { g.ServeHTTP(w, r) }); n != 0 {
			t.Errorf("ServeHTTP(GET %s) allocates %v times; want 0", target, n)
		}
	}
}

// benchPatterns returns n patterns in the mix of a typical API: per
// resource a list and a create, get, update and delete by id, a nested
// item, a static tree, a host-bound route and one on a wildcard host
// (exact for ServeMux, which has no wildcard hosts), and a health check.
func benchPatterns(n int, mux bool) []string {
	var ps []string
	for i := 0; len(ps) < n; i++ {
		wild := fmt.Sprintf("GET *.t%d.example.com/v2/res%d/{id}", i%3, i)
		if mux {
			wild = fmt.Sprintf("GET x.t%d.example.com/v2/res%d/{id}", i%3, i)
		}
		ps = append(ps,
			fmt.Sprintf("GET /v1/res%d", i),
			fmt.Sprintf("POST /v1/res%d", i),
			fmt.Sprintf("GET /v1/res%d/{id}", i),
			fmt.Sprintf("PUT /v1/res%d/{id}", i),
			fmt.Sprintf("DELETE /v1/res%d/{id}", i),
			fmt.Sprintf("GET /v1/res%d/{id}/items/{item}", i),
			fmt.Sprintf("/static%d/{path...}", i),
			fmt.Sprintf("GET api%d.example.com/v2/res%d", i%3, i),
			wild,
			fmt.Sprintf("GET /health%d", i),
		)
	}
	return ps[:n]
}

// benchRequests returns requests for the last resource of a table of n
// routes, so that no lookup is lucky to come first.
func benchRequests(n int) []struct {
	name string
	r    *http.Request
} {
	k := n/10 - 1
	req := func(host, target string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.Host = host
		return r
	}
	return []struct {
		name string
		r    *http.Request
	}{
		{"literal", req("example.com", fmt.Sprintf("/v1/res%d", k))},
		{"param", req("example.com", fmt.Sprintf("/v1/res%d/12345/items/678", k))},
		{"rest", req("example.com", fmt.Sprintf("/static%d/css/site.css", k))},
		{"host", req(fmt.Sprintf("x.t%d.example.com", k%3), fmt.Sprintf("/v2/res%d/9", k))},
	}
}

var benchSizes = []int{10, 100, 1000}

// BenchmarkMatch measures choosing the route alone: routing path, path
// check, host and trie walk. It sets no path values.
func BenchmarkMatch(b *testing.B) {
	for _, n := range benchSizes {
		g := New(Config{})
		for _, p := range benchPatterns(n, false) {
			g.Handle(p, nopHandler)
		}
		tbl := g.table.Load()
		for _, rq := range benchRequests(n) {
			b.Run(fmt.Sprintf("routes=%d/%s", n, rq.name), func(b *testing.B) {
				if matchRequest(tbl, rq.r) == nil {
					b.Fatalf("no match for %s", rq.r.URL)
				}
				b.ReportAllocs()
				for b.Loop() {
					matchRequest(tbl, rq.r)
				}
			})
		}
	}
}

// BenchmarkServeHTTP measures Gateway.ServeHTTP end to end with a no-op
// handler and writer: match, path values (whose map, allocated inside
// net/http, is the only allocation), r.Pattern and the call. Each
// iteration starts from a fresh copy of the request, as a server's would.
func BenchmarkServeHTTP(b *testing.B) {
	for _, n := range benchSizes {
		g := New(Config{})
		for _, p := range benchPatterns(n, false) {
			g.Handle(p, nopHandler)
		}
		benchServe(b, n, g)
	}
}

// BenchmarkServeMux measures http.ServeMux.ServeHTTP on the same routes
// and requests as BenchmarkServeHTTP (wildcard hosts made exact), for
// comparison.
func BenchmarkServeMux(b *testing.B) {
	for _, n := range benchSizes {
		mux := http.NewServeMux()
		for _, p := range benchPatterns(n, true) {
			mux.Handle(p, nopHandler)
		}
		benchServe(b, n, mux)
	}
}

func benchServe(b *testing.B, n int, h http.Handler) {
	w := &nopWriter{h: http.Header{}}
	for _, rq := range benchRequests(n) {
		b.Run(fmt.Sprintf("routes=%d/%s", n, rq.name), func(b *testing.B) {
			r := new(http.Request)
			*r = *rq.r
			b.ReportAllocs()
			for b.Loop() {
				*r = *rq.r // a fresh request: no path values yet
				h.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkServeHTTPParallel measures ServeHTTP on 1,000 routes from all
// Ps at once: the table is read through one atomic pointer.
func BenchmarkServeHTTPParallel(b *testing.B) {
	g := New(Config{})
	for _, p := range benchPatterns(1000, false) {
		g.Handle(p, nopHandler)
	}
	tmpl := benchRequests(1000)[0].r // literal: no path values
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &nopWriter{h: http.Header{}}
		r := new(http.Request)
		for pb.Next() {
			*r = *tmpl
			g.ServeHTTP(w, r)
		}
	})
}

// BenchmarkSetPathValue measures what net/http charges for storing two
// path values on a fresh request, apart from matching: the allocations of
// its map of values.
func BenchmarkSetPathValue(b *testing.B) {
	tmpl := httptest.NewRequest("GET", "/", nil)
	r := new(http.Request)
	b.ReportAllocs()
	for b.Loop() {
		*r = *tmpl
		r.SetPathValue("id", "12345")
		r.SetPathValue("item", "678")
	}
}

// BenchmarkRoute measures adding the last route to a table of n, which
// rebuilds the table: registration cost, not request cost.
func BenchmarkRoute(b *testing.B) {
	for _, n := range benchSizes {
		ps := benchPatterns(n, false)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				g := New(Config{})
				for _, p := range ps[:n-1] {
					g.Handle(p, nopHandler)
				}
				b.StartTimer()
				g.Handle(ps[n-1], nopHandler)
			}
		})
	}
}

func TestBenchPatternsRoute(t *testing.T) {
	// The benchmark tables must be valid for both routers.
	for _, n := range benchSizes {
		g, mux := New(Config{}), http.NewServeMux()
		for _, p := range benchPatterns(n, false) {
			g.Handle(p, nopHandler)
		}
		for _, p := range benchPatterns(n, true) {
			mux.Handle(p, nopHandler)
		}
		for _, rq := range benchRequests(n) {
			e := matchRequest(g.table.Load(), rq.r)
			_, mp := mux.Handler(rq.r)
			if e == nil || strings.Replace(e.pattern, "*", "x", 1) != mp {
				t.Errorf("routes=%d %s: gateway %v, ServeMux %q; want the same route", n, rq.name, e, mp)
			}
		}
	}
}
