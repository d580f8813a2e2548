package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
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
	}
}
