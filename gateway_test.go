package gateway

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// trace returns middleware that appends name to the X-Trace response
// header on the way in.
func trace(name string) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("X-Trace", name)
			next.ServeHTTP(w, r)
		})
	}
}

func traceOf(w *httptest.ResponseRecorder) string {
	return strings.Join(w.Header().Values("X-Trace"), ">")
}

func TestChain(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Add("X-Trace", "h") })
	for _, tc := range []struct {
		mw   []Middleware
		want string
	}{
		{nil, "h"},
		{[]Middleware{trace("a")}, "a>h"},
		{[]Middleware{trace("a"), trace("b"), trace("c")}, "a>b>c>h"},
		{[]Middleware{Chain(trace("a"), trace("b")), trace("c")}, "a>b>c>h"},
	} {
		w := httptest.NewRecorder()
		Chain(tc.mw...)(h).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if got := traceOf(w); got != tc.want {
			t.Errorf("Chain(%d middleware) ran %q; want %q", len(tc.mw), got, tc.want)
		}
	}
	var hh http.Handler = &struct{ http.Handler }{}
	if Chain()(hh) != hh {
		t.Errorf("Chain()(h) != h; want the identity")
	}
}

func TestMiddlewareOrder(t *testing.T) {
	g := New(Config{})
	g.Use(trace("g1"), trace("g2"))
	g.Handle("GET /a", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Trace", "h")
	}), trace("r1"), trace("r2"))
	g.Use(trace("g3"))
	g.Handle("/b/", named("b", nil))
	for _, tc := range []struct {
		method, target string
		status         int
		want           string
	}{
		{"GET", "/a", 200, "g1>g2>g3>r1>r2>h"},
		{"GET", "/b/", 200, "g1>g2>g3"},
		{"GET", "/nope", 404, "g1>g2>g3"},
		{"POST", "/a", 405, "g1>g2>g3"},
		{"GET", "/x/../a", 308, "g1>g2>g3"},
		{"GET", "*", 400, "g1>g2>g3"},
	} {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest(tc.method, tc.target, nil))
		if w.Code != tc.status || traceOf(w) != tc.want {
			t.Errorf("%s %s = %d, ran %q; want %d, %q", tc.method, tc.target, w.Code, traceOf(w), tc.status, tc.want)
		}
	}
}

func TestZeroGateway(t *testing.T) {
	var g Gateway
	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 404 {
		t.Errorf("zero Gateway: GET / = %d; want 404", w.Code)
	}
	g.Handle("/", named("root", nil))
	w = httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	if w.Code != 200 || w.Body.String() != "root" {
		t.Errorf("zero Gateway after Handle: GET /x = %d %q; want 200 root", w.Code, w.Body)
	}
}

func TestVariantsDistribution(t *testing.T) {
	h := named("v", nil)
	s, err := newSplit([]Variant{
		{Name: "stable", Weight: 90, Handler: h},
		{Name: "canary", Weight: 10, Handler: h},
		{Name: "dark", Weight: 0, Handler: h},
	}, Sticky{Header: "x-variant", Cookie: "variant"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200_000
	var counts [3]int
	r := httptest.NewRequest("GET", "/", nil)
	for range n {
		counts[s.pick(r)]++
	}
	// The canary's share is binomial: its standard deviation is
	// sqrt(p(1-p)/n), about 0.00067 here. Six of them is a bound that a
	// correct pick misses about once in five hundred million runs.
	share := float64(counts[1]) / n
	if sd := math.Sqrt(0.1 * 0.9 / n); math.Abs(share-0.1) > 6*sd {
		t.Errorf("canary share = %.4f; want 0.1000 ± %.4f", share, 6*sd)
	}
	if counts[2] != 0 {
		t.Errorf("dark variant (weight 0) picked %d times; want 0", counts[2])
	}

	for _, tc := range []struct {
		header, cookie string
		want           string // "" means a weighted pick: never dark
	}{
		{"canary", "", "canary"},
		{"dark", "", "dark"},
		{"", "dark", "dark"},
		{"", `"canary"`, "canary"},
		{"stable", "dark", "stable"},     // header wins
		{"unknown", "dark", "dark"},      // unknown header: the cookie decides
		{"unknown", "unknown", ""},       // both unknown: weighted
		{"", "", ""},                     // neither: weighted
		{"Canary", "", ""},               // names are exact
		{"", "other=dark; variant=", ""}, // an empty cookie is unknown
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("X-Variant", tc.header)
		}
		if tc.cookie != "" {
			c := tc.cookie
			if !strings.Contains(c, "=") {
				c = "a=b; variant=" + c
			}
			r.Header.Set("Cookie", c)
		}
		for range 100 {
			got := s.variants[s.pick(r)].Name
			if tc.want != "" && got != tc.want || tc.want == "" && got == "dark" {
				t.Errorf("pick(header %q, cookie %q) = %s; want %q (\"\" = weighted, not dark)", tc.header, tc.cookie, got, tc.want)
				break
			}
		}
	}
}

func TestVariantsRoute(t *testing.T) {
	var last *http.Request
	g := New(Config{})
	err := g.Route(Route{
		Pattern: "GET /v/{id}",
		Variants: []Variant{
			{Name: "stable", Weight: 1, Handler: named("stable", &last)},
			{Name: "canary", Weight: 0, Handler: named("canary", &last)},
		},
		Sticky:     Sticky{Cookie: "v"},
		Middleware: []Middleware{trace("r")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for cookie, want := range map[string]string{"": "stable", "v=canary": "canary"} {
		r := httptest.NewRequest("GET", "/v/7", nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Body.String() != want || traceOf(w) != "r" || last.PathValue("id") != "7" {
			t.Errorf("GET /v/7 with cookie %q = %q, trace %q, id %q; want %q, r, 7", cookie, w.Body, traceOf(w), last.PathValue("id"), want)
		}
	}
}

// TestConcurrentHandle adds routes and middleware while requests are
// served; run it with -race.
func TestConcurrentHandle(t *testing.T) {
	g := New(Config{})
	g.Handle("GET /base", named("base", nil))
	const n = 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				w := httptest.NewRecorder()
				g.ServeHTTP(w, httptest.NewRequest("GET", fmt.Sprintf("/r/%d/x", i%n), nil))
				if w.Code != 200 && w.Code != 404 {
					t.Errorf("GET /r/%d/x = %d; want 200 or 404", i%n, w.Code)
					return
				}
				w = httptest.NewRecorder()
				g.ServeHTTP(w, httptest.NewRequest("GET", "/base", nil))
				if w.Code != 200 {
					t.Errorf("GET /base = %d; want 200", w.Code)
					return
				}
			}
		}()
	}
	var adders sync.WaitGroup
	for k := range 2 {
		adders.Add(1)
		go func() {
			defer adders.Done()
			for i := k; i < n; i += 2 {
				g.Handle(fmt.Sprintf("GET /r/%d/{x}", i), named("r", nil))
				if i%50 == 0 {
					g.Use(trace(fmt.Sprint(i)))
				}
			}
		}()
	}
	adders.Wait()
	close(stop)
	wg.Wait()
	for i := range n {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest("GET", fmt.Sprintf("/r/%d/x", i), nil))
		if w.Code != 200 {
			t.Fatalf("after adding: GET /r/%d/x = %d; want 200", i, w.Code)
		}
		if i == 0 && len(w.Header().Values("X-Trace")) != 4 {
			t.Errorf("after adding: global middleware ran %v; want all 4", w.Header().Values("X-Trace"))
		}
	}
}
