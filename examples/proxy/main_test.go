package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunForwards(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "upstream saw "+r.URL.Path)
	}))
	defer up.Close()

	tests := []struct {
		name     string
		policies bool
		paths    []string
	}{
		{"plain", false, []string{"/hello"}},
		{"policies", true, []string{"/api/42", "/v1/svc1/items/9", "/static2/a.css", "/hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type started struct {
				addr  string
				chain []string
			}
			startc := make(chan started, 1)
			errc := make(chan error, 1)
			cfg := config{listen: "127.0.0.1:0", upstreams: up.URL, policies: tt.policies}
			go func() {
				errc <- run(ctx, cfg, func(a string, chain []string) { startc <- started{a, chain} })
			}()
			var s started
			select {
			case s = <-startc:
			case err := <-errc:
				t.Fatalf("run: %v", err)
			}
			if got := len(s.chain) > 0; got != tt.policies {
				t.Errorf("ready got policies %q; want some: %v", s.chain, tt.policies)
			}

			for _, path := range tt.paths {
				res, err := http.Get("http://" + s.addr + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if got, want := string(body), "upstream saw "+path; got != want {
					t.Errorf("GET %s: body = %q; want %q", path, got, want)
				}
			}
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("run after cancel = %v; want nil", err)
			}
		})
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, policies := range []bool{false, true} {
		for _, ups := range []string{"", "ftp://x", "http://a,http://a"} {
			cfg := config{listen: "127.0.0.1:0", upstreams: ups, policies: policies}
			if err := run(context.Background(), cfg, func(string, []string) {}); err == nil {
				t.Errorf("run(-upstream %q, -policies=%v) = nil; want an error", ups, policies)
			}
		}
		cfg := config{listen: "127.0.0.1:0", upstreams: "http://a", policies: policies, rate: -1}
		if err := run(context.Background(), cfg, func(string, []string) {}); err == nil {
			t.Errorf("run(-rate -1, -policies=%v) = nil; want an error", policies)
		}
	}
}

// TestRunRateAndBreaker shows -rate: each client address gets its burst,
// then 429 with Retry-After, with RateLimit headers on every answer; and
// -breaker: a failing upstream's circuit opens, so the requests after go to
// the other upstream.
func TestRunRateAndBreaker(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "good") }))
	defer good.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer bad.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	cfg := config{listen: "127.0.0.1:0", upstreams: bad.URL + "," + good.URL, rate: 50, breaker: true}
	go func() { errc <- run(ctx, cfg, func(a string, _ []string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("run: %v", err)
	}
	var codes []int
	start := time.Now()
	for range 60 {
		res, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.Header.Get("RateLimit-Limit") != "50" || res.Header.Get("RateLimit-Remaining") == "" {
			t.Errorf("RateLimit-Limit, -Remaining = %q, %q; want 50 and a count", res.Header.Get("RateLimit-Limit"), res.Header.Get("RateLimit-Remaining"))
		}
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
		codes = append(codes, res.StatusCode)
	}
	count := func(code int, in []int) (n int) {
		for _, c := range in {
			if c == code {
				n++
			}
		}
		return n
	}
	// The burst of 50 passes, and then only what the rate has refilled
	// meanwhile: at most 50 more a second of the run. The bad upstream's
	// circuit opens after its 10 consecutive failures, the default, after
	// which only the good one answers.
	elapsed := time.Since(start)
	if admitted, most := 60-count(http.StatusTooManyRequests, codes), 50+int(50*elapsed.Seconds())+1; admitted > most {
		t.Errorf("%d of 60 requests admitted in %v; want at most %d (the burst and what the rate refilled)", admitted, elapsed, most)
	}
	if n := count(http.StatusInternalServerError, codes); n != 10 {
		t.Errorf("%d requests reached the failing upstream; want 10, then its circuit open", n)
	}
	if n := count(http.StatusInternalServerError, codes[25:]); n != 0 {
		t.Errorf("%d failures after the circuit opened; want 0", n)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("run after cancel = %v; want nil", err)
	}
}

// TestRunCache shows -cache: a response the origin allows to be stored is
// served from memory the second time, with Cache-Status, until it is
// purged through -admin; bad combinations of the cache flags are refused.
func TestRunCache(t *testing.T) {
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "v"+strconv.Itoa(int(calls.Load())))
	}))
	defer up.Close()

	for _, cfg := range []config{
		{listen: "127.0.0.1:0", upstreams: up.URL, cache: true, policies: true},
		{listen: "127.0.0.1:0", upstreams: up.URL, cache: true, cacheMB: 0},
		{listen: "127.0.0.1:0", upstreams: up.URL, admin: "127.0.0.1:0"},
	} {
		if err := run(context.Background(), cfg, func(string, []string) {}); err == nil {
			t.Errorf("run(%+v) = nil; want an error", cfg)
		}
	}

	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminAddr := adminLn.Addr().String()
	adminLn.Close() // run listens on it again
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	cfg := config{listen: "127.0.0.1:0", upstreams: up.URL, cache: true, cacheMB: 8, admin: adminAddr}
	go func() { errc <- run(ctx, cfg, func(a string, _ []string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("run: %v", err)
	}
	get := func() (string, string) {
		t.Helper()
		res, err := http.Get("http://" + addr + "/page")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b), res.Header.Get("Cache-Status")
	}
	steps := []struct{ body, status string }{
		{"v1", "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60"},
		{"v1", "gateway; hit"},
	}
	for i, s := range steps {
		if body, status := get(); body != s.body || status != s.status {
			t.Errorf("GET %d = %q, Cache-Status %q; want %q, %q", i+1, body, status, s.body, s.status)
		}
	}
	key := `{"key": "GET http://` + addr + `/page"}`
	res, err := http.Post("http://"+adminAddr+"/purge", "application/json", strings.NewReader(key))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"purged":1}` {
		t.Errorf("POST /purge %s = %d %s; want 200 {\"purged\":1}", key, res.StatusCode, b)
	}
	if body, _ := get(); body != "v2" {
		t.Errorf("GET after the purge = %q; want v2 from the origin", body)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("run after cancel = %v; want nil", err)
	}
}
