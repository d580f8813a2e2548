package main

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/internal/benchchain"
)

// startCandidate starts c in front of originURL and stops it at the end of
// the test. It skips the test when c needs nginx and nginx is not on PATH.
func startCandidate(t *testing.T, c candidate, originURL string) *running {
	t.Helper()
	r, err := c.start(originURL)
	if errors.Is(err, errNoNginx) {
		t.Skip("nginx is not on PATH")
	}
	if err != nil {
		t.Fatalf("start %s: %v", c.name, err)
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("stop %s: %v", c.name, err)
		}
	})
	return r
}

// candidateNamed returns the candidate named name.
func candidateNamed(t *testing.T, name string) candidate {
	t.Helper()
	for _, c := range candidates(8) {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no candidate %q", name)
	return candidate{}
}

// TestCandidatesServe starts every candidate in front of each origin and
// checks it returns the origin's body, and that the cache candidates serve
// the cached path from their cache, as the benchmark does before any load.
// The nginx candidates are tested only when nginx is installed.
func TestCandidatesServe(t *testing.T) {
	for _, kind := range []string{"raw", "nethttp"} {
		o, err := startOrigin(kind, 1024)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		body := makeBody(1024)
		for _, c := range candidates(8) {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				r := startCandidate(t, c, o.URL())
				if err := verify(r.url+benchchain.BenchPath, body); err != nil {
					t.Error(err)
				}
				if got := len(r.policies) > 0; got != (c.name == "policies") {
					t.Errorf("policies = %q; want some only for the policies candidate", r.policies)
				}
				if got := c.hit != nil; got != strings.HasSuffix(c.name, "cache") {
					t.Errorf("hit set = %v; want it set for the cache candidates only", got)
				}
				if c.hit == nil {
					return
				}
				if err := verifyCached(r.url+cachedPath(benchchain.BenchPath), body, o, c.hit); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// TestVerifyCachedRejectsMisses checks that a cache candidate that is not
// serving from its cache fails its check, whether its responses say it is
// missing or the origin sees the requests.
func TestVerifyCachedRejectsMisses(t *testing.T) {
	o, err := startOrigin("raw", 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	body := makeBody(1024)
	path := cachedPath(benchchain.BenchPath)

	// Forwards every request but claims a hit: only the origin's count
	// shows the misses.
	liar := candidate{name: "liar", start: func(origin string) (*running, error) {
		return serveGo(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			res, err := http.Get(origin + r.URL.RequestURI())
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer res.Body.Close()
			w.Header().Set("Cache-Status", "gateway; hit")
			w.WriteHeader(res.StatusCode)
			buf := make([]byte, 4096)
			for {
				n, err := res.Body.Read(buf)
				w.Write(buf[:n])
				if err != nil {
					return
				}
			}
		}), nil)
	}}

	tests := []struct {
		name string
		c    candidate
		hit  func(http.Header) bool
		want string // in the error
	}{
		// The forwarding candidates, checked as if they cached.
		{"proxy as proxycache", candidateNamed(t, "proxy"), gatewayHit, "does not say it is a cache hit"},
		{"nginx as nginxcache", candidateNamed(t, "nginx"), nginxHit, "does not say it is a cache hit"},
		{"liar", liar, gatewayHit, "the origin was asked 3 times"},
		// A cache whose hits are not recognized.
		{"proxycache read as nginx", candidateNamed(t, "proxycache"), nginxHit, "does not say it is a cache hit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startCandidate(t, tt.c, o.URL())
			err := verifyCached(r.url+path, body, o, tt.hit)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("verifyCached = %v; want an error with %q", err, tt.want)
			}
		})
	}

	// A path the origin does not mark cacheable never reaches it as one.
	r := startCandidate(t, candidateNamed(t, "proxycache"), o.URL())
	err = verifyCached(r.url+benchchain.BenchPath, body, o, gatewayHit)
	if want := "did not reach the origin"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("verifyCached of an uncached path = %v; want an error with %q", err, want)
	}
}

func TestHit(t *testing.T) {
	tests := []struct {
		name  string
		hit   func(http.Header) bool
		field string
		value []string
		want  bool
	}{
		{"gateway hit", gatewayHit, "Cache-Status", []string{"gateway; hit"}, true},
		{"gateway hit with ttl", gatewayHit, "Cache-Status", []string{"gateway; hit; ttl=3599"}, true},
		{"second member", gatewayHit, "Cache-Status", []string{"origin; fwd=miss, gateway;hit"}, true},
		{"second field line", gatewayHit, "Cache-Status", []string{"origin; fwd=miss", "gateway; hit"}, true},
		{"miss", gatewayHit, "Cache-Status", []string{"gateway; fwd=uri-miss; stored"}, false},
		{"stale", gatewayHit, "Cache-Status", []string{"gateway; fwd=stale"}, false},
		{"hit in a token", gatewayHit, "Cache-Status", []string{"gateway; hits"}, false},
		{"no field", gatewayHit, "Cache-Status", nil, false},
		{"nginx HIT", nginxHit, "X-Cache-Status", []string{"HIT"}, true},
		{"nginx MISS", nginxHit, "X-Cache-Status", []string{"MISS"}, false},
		{"nginx EXPIRED", nginxHit, "X-Cache-Status", []string{"EXPIRED"}, false},
		{"nginx none", nginxHit, "X-Cache-Status", nil, false},
		{"nginx reads its own field", nginxHit, "Cache-Status", []string{"gateway; hit"}, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.value {
			h.Add(tt.field, v)
		}
		if got := tt.hit(h); got != tt.want {
			t.Errorf("%s: hit(%s: %q) = %v; want %v", tt.name, tt.field, tt.value, got, tt.want)
		}
	}
}

func TestCheckHits(t *testing.T) {
	tests := []struct {
		origin, measured int64
		wantErr          bool
	}{
		{0, 100000, false},
		{1, 100000, false}, // the hour's lifetime ran out once
		{1000, 100000, false},
		{1001, 100000, true},
		{100000, 100000, true}, // every request a miss
		{1, 50, true},
	}
	for _, tt := range tests {
		if err := checkHits(tt.origin, tt.measured); (err != nil) != tt.wantErr {
			t.Errorf("checkHits(%d, %d) = %v; want error %v", tt.origin, tt.measured, err, tt.wantErr)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	o, err := startOrigin("raw", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, want := range [][]byte{makeBody(99), makeBody(101), []byte("x")} {
		if err := verify(o.URL()+"/", want); err == nil {
			t.Errorf("verify of a %d-byte answer against %d bytes = nil; want an error", 100, len(want))
		}
	}
	if err := verify(o.URL()+"/", makeBody(100)); err != nil {
		t.Errorf("verify of the right body = %v; want nil", err)
	}
}

func TestChoose(t *testing.T) {
	all := candidates(64)
	tests := []struct {
		only    string
		want    []string
		wantErr bool
	}{
		{"", []string{"proxy", "reverseproxy", "policies", "gopump", "nginx", "proxycache", "nginxcache"}, false},
		{"nginx,proxy", []string{"proxy", "nginx"}, false}, // default order kept
		{"nginxcache,proxycache", []string{"proxycache", "nginxcache"}, false},
		{"proxy,haproxy", nil, true},
	}
	for _, tt := range tests {
		got, err := choose(all, tt.only)
		if (err != nil) != tt.wantErr {
			t.Errorf("choose(%q) error = %v; want error %v", tt.only, err, tt.wantErr)
			continue
		}
		var names []string
		for _, c := range got {
			names = append(names, c.name)
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("choose(%q) = %q; want %q", tt.only, names, tt.want)
		}
	}
}
