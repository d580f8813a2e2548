package gateway

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// named returns a handler that answers with its name and records the
// request it served in *last.
func named(name string, last **http.Request) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if last != nil {
			*last = r
		}
		w.Header().Set("X-Route", name)
		w.Write([]byte(name))
	})
}

// rt is a route of a test table: Handler is filled in with named(name).
type rt struct {
	name  string
	route Route
}

func p(pattern string) Route { return Route{Pattern: pattern} }

// step is one request of a test table and what should come of it.
type step struct {
	method string // "" means GET
	target string
	host   string // "" means example.com
	header http.Header

	want     string            // the route's name; "" when an error or redirect is expected
	status   int               // 0 means 200
	values   map[string]string // path values the route should see
	location string            // for redirects
	allow    string            // for 405
}

func newGateway(t *testing.T, cfg Config, routes []rt) (*Gateway, **http.Request) {
	t.Helper()
	g := New(cfg)
	last := new(*http.Request)
	for _, r := range routes {
		route := r.route
		if route.Handler == nil && route.Variants == nil {
			route.Handler = named(r.name, last)
		}
		if err := g.Route(route); err != nil {
			t.Fatalf("Route(%q) for %s: %v", route.Pattern, r.name, err)
		}
	}
	return g, last
}

func run(t *testing.T, g *Gateway, last **http.Request, steps []step) {
	t.Helper()
	for _, s := range steps {
		method := s.method
		if method == "" {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, s.target, nil)
		req.Host = "example.com"
		if s.host != "" {
			req.Host = s.host
		}
		for k, vs := range s.header {
			req.Header[k] = vs
		}
		*last = nil
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		got := w.Header().Get("X-Route")
		where := method + " " + req.Host + s.target
		wantStatus := s.status
		if wantStatus == 0 {
			wantStatus = http.StatusOK
		}
		if got != s.want || w.Code != wantStatus {
			t.Errorf("match(%s) = route %q, status %d; want route %q, status %d", where, got, w.Code, s.want, wantStatus)
			continue
		}
		for k, v := range s.values {
			if gv := (*last).PathValue(k); gv != v {
				t.Errorf("match(%s): PathValue(%q) = %q; want %q", where, k, gv, v)
			}
		}
		if s.location != "" {
			if loc := w.Header().Get("Location"); loc != s.location {
				t.Errorf("match(%s): Location = %q; want %q", where, loc, s.location)
			}
		}
		if s.allow != "" {
			if a := w.Header().Get("Allow"); a != s.allow {
				t.Errorf("match(%s): Allow = %q; want %q", where, a, s.allow)
			}
		}
	}
}

func TestPatternForms(t *testing.T) {
	g, last := newGateway(t, Config{}, []rt{
		{"root-prefix", p("/")},
		{"root-exact", p("/{$}")},
		{"a", p("/a")},
		{"a-prefix", p("/a/")},
		{"a-exact", p("/a/{$}")},
		{"ab", p("/a/b")},
		{"a-x", p("/a/{x}")},
		{"a-x-c", p("/a/{x}/c")},
		{"files", p("/files/{path...}")},
		{"posts", p("/users/{id}/posts/{post}")},
		{"slash", p("/sl%2Fash")},
		{"unicode", p("/caf%C3%A9/{x}")},
	})
	run(t, g, last, []step{
		{target: "/", want: "root-exact"},
		{target: "/zzz", want: "root-prefix"},
		{target: "/zzz/", want: "root-prefix"},
		{target: "/a", want: "a"},
		{target: "/a/", want: "a-exact"},
		{target: "/a/q/r", want: "a-prefix"},
		{target: "/a/b", want: "ab"},
		{target: "/a/q", want: "a-x", values: map[string]string{"x": "q"}},
		{target: "/a/q/", want: "a-prefix"},
		{target: "/a/q/c", want: "a-x-c", values: map[string]string{"x": "q"}},
		{target: "/a/b/c", want: "a-x-c", values: map[string]string{"x": "b"}},
		{target: "/files/", want: "files", values: map[string]string{"path": ""}},
		{target: "/files", want: "root-prefix"},
		{target: "/files/a/b%2Fc/d", want: "files", values: map[string]string{"path": "a/b/c/d"}},
		{target: "/a/x%2Fy", want: "a-x", values: map[string]string{"x": "x/y"}},
		{target: "/a/%62", want: "ab"},
		{target: "/a/%2F", want: "a-x", values: map[string]string{"x": "/"}},
		{target: "/sl%2Fash", want: "slash"},
		{target: "/sl/ash", want: "root-prefix"},
		{target: "/caf%C3%A9/%C3%BC", want: "unicode", values: map[string]string{"x": "ü"}},
		{target: "/users/7/posts/9", want: "posts", values: map[string]string{"id": "7", "post": "9"}},
		{target: "/users/7/posts/9/x", want: "root-prefix"},
		{target: "/a?x=1", want: "a"},
	})
}

func TestPatternSetsRequestPattern(t *testing.T) {
	g, last := newGateway(t, Config{}, []rt{{"x", p("GET /a/{x}")}})
	run(t, g, last, []step{{target: "/a/1", want: "x"}})
	if got := (*last).Pattern; got != "GET /a/{x}" {
		t.Errorf("r.Pattern = %q; want %q", got, "GET /a/{x}")
	}
}

func TestMethods(t *testing.T) {
	g, last := newGateway(t, Config{}, []rt{
		{"m-get", p("GET /m")},
		{"m-post", p("POST /m")},
		{"m-del", p("DELETE /m")},
		{"h-get", p("GET /h")},
		{"h-head", p("HEAD /h")},
		{"any", p("/any")},
		{"tab", p("PUT\t/tab")},
		{"p-get", p("GET /p/{x}")},
		{"p-lit", p("PATCH /p/lit")},
	})
	run(t, g, last, []step{
		{target: "/m", want: "m-get"},
		{method: "HEAD", target: "/m", want: "m-get"},
		{method: "POST", target: "/m", want: "m-post"},
		{method: "PUT", target: "/m", status: 405, allow: "DELETE, GET, HEAD, POST"},
		{method: "HEAD", target: "/h", want: "h-head"},
		{method: "GET", target: "/h", want: "h-get"},
		{method: "BREW", target: "/any", want: "any"},
		{method: "PUT", target: "/tab", want: "tab"},
		{target: "/tab", status: 405, allow: "PUT"},
		// The literal route fails on method; the param route serves.
		{target: "/p/lit", want: "p-get"},
		{method: "POST", target: "/p/lit", status: 405, allow: "GET, HEAD, PATCH"},
		{method: "POST", target: "/nothing", status: 404},
	})
}

func TestHosts(t *testing.T) {
	g, last := newGateway(t, Config{}, []rt{
		{"api", p("api.example.com/x")},
		{"wild", p("*.example.com/x")},
		{"wild-b", p("*.b.example.com/x")},
		{"any", p("/x")},
		{"v6", p("[::1]/x")},
		{"get-host", p("GET Only.Example.com/y")},
	})
	run(t, g, last, []step{
		{host: "api.example.com", target: "/x", want: "api"},
		{host: "API.Example.COM:8080", target: "/x", want: "api"},
		{host: "api.example.com.", target: "/x", want: "api"},
		{host: "a.example.com", target: "/x", want: "wild"},
		{host: "A.EXAMPLE.com:443", target: "/x", want: "wild"},
		{host: "c.a.example.com", target: "/x", want: "wild"},
		{host: "x.b.example.com", target: "/x", want: "wild-b"},
		{host: "b.example.com", target: "/x", want: "wild"},
		{host: "example.com", target: "/x", want: "any"},
		{host: "xexample.com", target: "/x", want: "any"},
		{host: "other.org", target: "/x", want: "any"},
		{host: "[::1]:8080", target: "/x", want: "v6"},
		{host: "only.example.com", target: "/y", want: "get-host"},
		{host: "only.example.com", method: "POST", target: "/y", status: 405, allow: "GET, HEAD"},
		{host: "else.example.com", target: "/y", status: 404},
	})
}

func TestErrorsAndRedirects(t *testing.T) {
	g, last := newGateway(t, Config{}, []rt{
		{"b", p("/b")},
		{"m", p("GET /m/{x}")},
		{"evil", p("/evil.com/x")},
	})
	run(t, g, last, []step{
		{target: "/a/../b?q=1", status: 308, location: "/b?q=1"},
		{method: "POST", target: "/a/../b", status: 308, location: "/b"},
		{target: "//b", status: 308, location: "/b"},
		{target: "/./b/", status: 308, location: "/b/"},
		{target: "/b/..", status: 308, location: "/"},
		{target: "//evil.com/x", status: 308, location: "/evil.com/x"},
		{target: "/a/%2e%2e/b", status: 400},
		{target: "/a/%2E/b", status: 400},
		{target: "/b/", status: 404},
		{method: "DELETE", target: "/m/1", status: 405, allow: "GET, HEAD"},
	})

	for _, tc := range []struct {
		method, target string
		status         int
		body, allow    string
	}{
		{"GET", "/nope", 404, `{"error":{"type":"not_found","message":"not found"}}` + "\n", ""},
		{"PUT", "/m/1", 405, `{"error":{"type":"method_not_allowed","message":"method not allowed"}}` + "\n", "GET, HEAD"},
		{"OPTIONS", "*", 400, `{"error":{"type":"bad_request","message":"bad request"}}` + "\n", ""},
	} {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest(tc.method, tc.target, nil))
		if w.Code != tc.status || w.Body.String() != tc.body || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d %q Allow %q; want %d %q Allow %q", tc.method, tc.target,
				w.Code, w.Body, w.Header().Get("Allow"), tc.status, tc.body, tc.allow)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type = %q; want application/json", tc.method, tc.target, ct)
		}
	}
}

func TestErrorHandler(t *testing.T) {
	var got []error
	g := New(Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		got = append(got, err)
		w.WriteHeader(StatusOf(r, err))
	}})
	g.Handle("GET /a", named("a", nil))
	for _, target := range []string{"/b", "/a", "*"} {
		method := "GET"
		if target == "/a" {
			method = "POST"
		}
		g.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, target, nil))
	}
	want := []struct {
		sentinel error
		allow    string
	}{{ErrNotFound, ""}, {ErrMethodNotAllowed, "GET, HEAD"}, {ErrBadRequest, ""}}
	if len(got) != len(want) {
		t.Fatalf("ErrorHandler called %d times; want %d", len(got), len(want))
	}
	for i, w := range want {
		var ge *Error
		if !errors.As(got[i], &ge) || ge.Op != "route" || !errors.Is(got[i], w.sentinel) || ge.Header.Get("Allow") != w.allow {
			t.Errorf("error %d = %#v; want *Error{Op: route, Err: %v, Allow %q}", i, got[i], w.sentinel, w.allow)
		}
	}
}

func TestPredicates(t *testing.T) {
	g, last := newGateway(t, Config{}, []rt{
		{"p-canary", Route{Pattern: "/p", Headers: []Predicate{{Name: "x-env", Value: "canary"}}}},
		{"p-beta", Route{Pattern: "/p", Headers: []Predicate{{Name: "X-Env", Value: "beta"}}}},
		{"p-default", p("/p")},
		{"q-two", Route{Pattern: "/q",
			Headers: []Predicate{{Name: "X-Key", Present: true}},
			Query:   []Predicate{{Name: "v", Regexp: `^\d+$`}}}},
		{"q-val", Route{Pattern: "/q", Query: []Predicate{{Name: "v", Value: "a b"}}}},
		{"f-func", Route{Pattern: "/f", Match: func(r *http.Request) bool { return r.Header.Get("X-Func") == "yes" }}},
		{"f-default", p("/f")},
		{"r-get", Route{Pattern: "GET /r", Headers: []Predicate{{Name: "X", Value: "1"}}}},
		{"e-empty", Route{Pattern: "/e", Query: []Predicate{{Name: "k"}}}},
		{"re-q", Route{Pattern: "/re", Query: []Predicate{{Name: "s", Regexp: `^a b$`}}}},
	})
	h := func(kv ...string) http.Header {
		hd := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			hd.Add(kv[i], kv[i+1])
		}
		return hd
	}
	run(t, g, last, []step{
		{target: "/p", header: h("X-Env", "canary"), want: "p-canary"},
		{target: "/p", header: h("X-Env", "beta"), want: "p-beta"},
		{target: "/p", header: h("X-Env", "gamma"), want: "p-default"},
		{target: "/p", header: h("X-Env", "beta", "X-Env", "canary"), want: "p-beta"}, // the first value counts
		{target: "/p", want: "p-default"},
		{target: "/q?v=12", header: h("X-Key", ""), want: "q-two"},
		{target: "/q?v=12x", header: h("X-Key", "k"), status: 404},
		{target: "/q?v=12", status: 404},
		{target: "/q?v=a+b", want: "q-val"},
		{target: "/q?v=a%20b&v=zzz", want: "q-val"},
		{target: "/q?w=1&v=a", status: 404},
		{target: "/f", header: h("X-Func", "yes"), want: "f-func"},
		{target: "/f", header: h("X-Func", "no"), want: "f-default"},
		{target: "/r", header: h("X", "1"), want: "r-get"},
		{target: "/r", status: 404},
		{method: "POST", target: "/r", status: 404},
		{method: "POST", target: "/r", header: h("X", "1"), status: 405, allow: "GET, HEAD"},
		{target: "/e?k", want: "e-empty"},
		{target: "/e?k=", want: "e-empty"},
		{target: "/e?k=1", status: 404},
		{target: "/re?s=a+b", want: "re-q"},
		{target: "/re?s=a%20b", want: "re-q"},
		{target: "/re?s=ab", status: 404},
	})
}

func TestPrecedence(t *testing.T) {
	hdr := func(name, v string) []Predicate { return []Predicate{{Name: name, Value: v}} }
	for _, tc := range []struct {
		winner, loser Route
		method        string
		host, target  string
		header        http.Header
	}{
		{Route{Pattern: "/{x}", Priority: 1}, p("/a"), "GET", "", "/a", nil},
		{p("/a"), Route{Pattern: "/{x}", Priority: -1}, "GET", "", "/a", nil},
		{p("api.example.com/"), p("/a"), "GET", "api.example.com", "/a", nil},
		{p("api.example.com/"), p("*.example.com/a"), "GET", "api.example.com", "/a", nil},
		{p("*.api.example.com/"), p("*.example.com/a"), "GET", "x.api.example.com", "/a", nil},
		{p("/a/b"), p("/a/{x}"), "GET", "", "/a/b", nil},
		{p("/a/{x}"), p("/a/{x...}"), "GET", "", "/a/b", nil},
		{p("/a/{x}"), p("/a/"), "GET", "", "/a/b", nil},
		{p("/a/{$}"), p("/a/"), "GET", "", "/a/", nil},
		{p("/a/{$}"), p("/a/{x...}"), "GET", "", "/a/", nil},
		{p("/a/b/"), p("/a/"), "GET", "", "/a/b/c", nil},
		{p("/{x}/b"), p("/{x}/{y}"), "GET", "", "/a/b", nil},
		{p("/a/b"), p("GET /a/{x}"), "GET", "", "/a/b", nil},
		{p("GET /a"), p("/a"), "GET", "", "/a", nil},
		{p("HEAD /a"), p("GET /a"), "HEAD", "", "/a", nil},
		{p("GET /a"), Route{Pattern: "/a", Headers: hdr("X", "1")}, "GET", "", "/a", http.Header{"X": {"1"}}},
		{Route{Pattern: "/a", Headers: hdr("X", "1")}, p("/a"), "GET", "", "/a", http.Header{"X": {"1"}}},
		{Route{Pattern: "/a", Headers: hdr("X", "1"), Query: []Predicate{{Name: "q", Present: true}}},
			Route{Pattern: "/a", Headers: hdr("X", "1")}, "GET", "", "/a?q", http.Header{"X": {"1"}}},
	} {
		for _, order := range [][2]Route{{tc.winner, tc.loser}, {tc.loser, tc.winner}} {
			g, last := newGateway(t, Config{}, []rt{
				{"#" + order[0].Pattern, order[0]},
				{"#" + order[1].Pattern, order[1]},
			})
			run(t, g, last, []step{{method: tc.method, host: tc.host, target: tc.target, header: tc.header, want: "#" + tc.winner.Pattern}})
		}
	}
}

func TestConflicts(t *testing.T) {
	always := func(*http.Request) bool { return true }
	for _, tc := range []struct {
		first, second Route
		err           string // "" when both may be added
	}{
		{p("/a/{x}"), p("/{y}/b"), `route "/{y}/b" conflicts with "/a/{x}": both match /a/b`},
		{p("/a/{x}/c"), p("/{x}/b/{y}"), `both match /a/b/c`},
		{p("/a/"), p("/{x}/b"), `both match /a/b`},
		{p("/a"), p("/a"), `route "/a" duplicates "/a"`},
		{p("GET /a"), p("GET /a"), "duplicates"},
		{p("/a/{x}"), p("/a/{y}"), "duplicates"},
		{p("/a/"), p("/a/{rest...}"), "duplicates"},
		{p("GET /{x}"), p("/a/{$}"), ""},
		{p("GET /a"), p("POST /a"), ""},
		{p("GET /a"), p("/a"), ""},
		{p("GET /a"), p("HEAD /a"), ""},
		{p("/a/{x}"), Route{Pattern: "/{y}/b", Priority: 1}, ""},
		{p("/a/{x}"), p("example.com/{y}/b"), ""},
		{p("a.example.com/a/{x}"), p("b.example.com/{y}/b"), ""},
		{p("/a/{x}"), p("/{y}/b/c"), ""},
		{p("/{$}"), p("/{x}"), ""},
		{Route{Pattern: "/a", Headers: []Predicate{{Name: "X", Value: "1"}}}, Route{Pattern: "/a", Headers: []Predicate{{Name: "x", Value: "2"}}}, ""},
		{Route{Pattern: "/a", Query: []Predicate{{Name: "v", Value: "1"}}}, Route{Pattern: "/a", Query: []Predicate{{Name: "v", Value: "2"}}}, ""},
		{Route{Pattern: "/a", Headers: []Predicate{{Name: "X", Value: "1"}}}, Route{Pattern: "/a", Headers: []Predicate{{Name: "Y", Value: "1"}}}, "equally many predicates"},
		{Route{Pattern: "/a", Headers: []Predicate{{Name: "X", Value: "1"}}}, Route{Pattern: "/a", Headers: []Predicate{{Name: "x", Value: "1"}}}, "duplicates"},
		{Route{Pattern: "/a", Query: []Predicate{{Name: "v", Value: "1"}}}, Route{Pattern: "/a", Query: []Predicate{{Name: "V", Value: "2"}}}, "equally many predicates"},
		{Route{Pattern: "/a", Match: always}, Route{Pattern: "/a", Match: always}, "equally many predicates"},
		{Route{Pattern: "/a", Match: always}, Route{Pattern: "/a", Match: always, Priority: 1}, ""},
	} {
		g := New(Config{})
		a, b := tc.first, tc.second
		a.Handler, b.Handler = named("first", nil), named("second", nil)
		if err := g.Route(a); err != nil {
			t.Fatalf("Route(%q) = %v", a.Pattern, err)
		}
		err := g.Route(b)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("Route(%q) after %q = %v; want nil", b.Pattern, a.Pattern, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Route(%q) after %q = %v; want error containing %q", b.Pattern, a.Pattern, err, tc.err)
		}
	}
}

func TestFailedRouteLeavesTable(t *testing.T) {
	g, last := newGateway(t, Config{}, []rt{{"a-x", p("/a/{x}")}})
	before := g.table.Load()
	for _, bad := range []Route{
		{Pattern: "/{y}/b", Handler: named("bad", last)},
		{Pattern: "/a/{z}", Handler: named("bad", last)},
		{Pattern: "/b", Handler: named("bad", last), Headers: []Predicate{{Name: "X", Regexp: "("}}},
		{Pattern: "/b{", Handler: named("bad", last)},
	} {
		if err := g.Route(bad); err == nil {
			t.Fatalf("Route(%q) = nil; want an error", bad.Pattern)
		}
	}
	if g.table.Load() != before || len(g.routes) != 1 {
		t.Errorf("a failed Route changed the table")
	}
	run(t, g, last, []step{
		{target: "/a/q", want: "a-x"},
		{target: "/z/b", status: 404},
		{target: "/b", status: 404},
	})
}

func TestHandlePanics(t *testing.T) {
	for _, pattern := range []string{"/a/{x}", "/{y}/b", "/{"} {
		func() {
			defer func() {
				r := recover()
				if (r != nil) != (pattern != "/a/{x}") {
					t.Errorf("Handle(%q) panic = %v", pattern, r)
				}
			}()
			g := New(Config{})
			g.HandleFunc("/a/{x}", func(http.ResponseWriter, *http.Request) {})
			if pattern != "/a/{x}" {
				g.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
			} else {
				g.HandleFunc("/a/b", func(http.ResponseWriter, *http.Request) {})
			}
		}()
	}
}

func TestBadRoutes(t *testing.T) {
	h := named("h", nil)
	for _, tc := range []struct {
		route Route
		err   string
	}{
		{Route{Pattern: "", Handler: h}, "empty"},
		{Route{Pattern: "a", Handler: h}, "no path"},
		{Route{Pattern: "GET", Handler: h}, "no path"},
		{Route{Pattern: "G(T /a", Handler: h}, "invalid method"},
		{Route{Pattern: "/a{x}", Handler: h}, "whole segment"},
		{Route{Pattern: "/{x}x", Handler: h}, "whole segment"},
		{Route{Pattern: "/a}", Handler: h}, "stray"},
		{Route{Pattern: "/{x}/{x}", Handler: h}, "duplicate wildcard"},
		{Route{Pattern: "/{x...}/b", Handler: h}, "not at the end"},
		{Route{Pattern: "/{$}/a", Handler: h}, "not at the end"},
		{Route{Pattern: "/{1x}", Handler: h}, "identifier"},
		{Route{Pattern: "/{}", Handler: h}, "identifier"},
		{Route{Pattern: "/{...}", Handler: h}, "identifier"},
		{Route{Pattern: "/a/../b", Handler: h}, "unclean"},
		{Route{Pattern: "/a//b", Handler: h}, "unclean"},
		{Route{Pattern: "/a/%zz", Handler: h}, "invalid URL escape"},
		{Route{Pattern: "api.example.com:80/a", Handler: h}, "port"},
		{Route{Pattern: "a.*.example.com/a", Handler: h}, "'*'"},
		{Route{Pattern: "*./a", Handler: h}, "'*'"},
		{Route{Pattern: "a..b/a", Handler: h}, "empty label"},
		{Route{Pattern: "a b c/a", Handler: h}, "bad character"},
		{Route{Pattern: "/a"}, "nil handler"},
		{Route{Pattern: "/a", Handler: h, Variants: []Variant{{Name: "a", Weight: 1, Handler: h}}}, "both Handler and Variants"},
		{Route{Pattern: "/a", Handler: h, Sticky: Sticky{Header: "X"}}, "Sticky needs Variants"},
		{Route{Pattern: "/a", Handler: h, Middleware: []Middleware{nil}}, "middleware 0 is nil"},
		{Route{Pattern: "/a", Handler: h, Headers: []Predicate{{Name: "X", Regexp: "("}}}, "missing closing )"},
		{Route{Pattern: "/a", Handler: h, Headers: []Predicate{{Value: "1"}}}, "without a Name"},
		{Route{Pattern: "/a", Handler: h, Headers: []Predicate{{Name: "X Y", Value: "1"}}}, "bad header name"},
		{Route{Pattern: "/a", Handler: h, Query: []Predicate{{Name: "q", Value: "1", Present: true}}}, "only one of"},
		{Route{Pattern: "/a", Handler: h, Query: []Predicate{{Name: "q", Value: "1", Regexp: "1"}}}, "only one of"},
		{Route{Pattern: "/a", Variants: []Variant{}}, "empty Variants"},
		{Route{Pattern: "/a", Variants: []Variant{{Name: "a", Handler: h}}}, "sum to zero"},
		{Route{Pattern: "/a", Variants: []Variant{{Name: "a", Weight: -1, Handler: h}}}, "negative weight"},
		{Route{Pattern: "/a", Variants: []Variant{{Name: "a", Weight: 1}}}, "nil Handler"},
		{Route{Pattern: "/a", Variants: []Variant{{Weight: 1, Handler: h}}}, "no Name"},
		{Route{Pattern: "/a", Variants: []Variant{{Name: "a", Weight: 1, Handler: h}, {Name: "a", Weight: 1, Handler: h}}}, "duplicate variant"},
		{Route{Pattern: "/a", Variants: []Variant{{Name: "a", Weight: 1, Handler: h}}, Sticky: Sticky{Header: "a:b"}}, "bad Sticky header"},
	} {
		err := New(Config{}).Route(tc.route)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Route(%q) = %v; want error containing %q", tc.route.Pattern, err, tc.err)
		}
	}
}
