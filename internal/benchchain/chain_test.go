package benchchain

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBuildForwards(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "upstream saw "+r.URL.Path)
	}))
	defer up.Close()

	c, names, err := build([]string{up.URL})
	if err != nil {
		t.Fatalf("build(%s) error = %v", up.URL, err)
	}
	if len(names) != len(policies) {
		t.Errorf("build returned %d names; want %d", len(names), len(policies))
	}
	front := httptest.NewServer(c.gw)
	defer front.Close()

	paths := []string{BenchPath, "/v1/svc3/status", "/v1/svc31/items/7", "/static5/app.js", "/anything/else"}
	for _, path := range paths {
		res, err := http.Get(front.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if got, want := string(body), "upstream saw "+path; res.StatusCode != http.StatusOK || got != want {
			t.Errorf("GET %s = %d %q; want 200 %q", path, res.StatusCode, got, want)
		}
	}
	if got, want := c.requests.Load(), int64(len(paths)); got != want {
		t.Errorf("request counter = %d; want %d", got, want)
	}
}

func TestRoutes(t *testing.T) {
	if got := len(routes); got != 100 {
		t.Errorf("len(routes) = %d; want 100", got)
	}
	kinds := map[string]int{}
	for _, p := range routes {
		switch {
		case strings.HasSuffix(p, "/"):
			kinds["prefix"]++
		case strings.Contains(p, "{"):
			kinds["param"]++
		default:
			kinds["literal"]++
		}
	}
	for _, k := range []string{"literal", "param", "prefix"} {
		if kinds[k] < 30 {
			t.Errorf("%d %s routes; want at least 30", kinds[k], k)
		}
	}
}

func TestBuildRejectsBadUpstreams(t *testing.T) {
	for _, ups := range [][]string{nil, {"ftp://x"}, {"http://a", "http://a"}} {
		if _, _, err := Build(ups...); err == nil {
			t.Errorf("Build(%q) error = nil; want an error", ups)
		}
	}
}
