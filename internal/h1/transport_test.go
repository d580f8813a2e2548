package h1

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// get sends a GET through tr and returns the status and body.
func get(t *testing.T, tr http.RoundTripper, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip(GET %s): %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading body of GET %s: %v", url, err)
	}
	return res.StatusCode, string(b)
}

func TestGetContentLength(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	for range 3 {
		code, body := get(t, tr, srv.URL+"/x?y=1")
		if code != 200 || body != "hello" {
			t.Fatalf("GET = %d %q; want 200 %q", code, body, "hello")
		}
	}
	if n := len(tr.pool(poolKey{addr: strings.TrimPrefix(srv.URL, "http://")}).idle); n != 1 {
		t.Errorf("idle conns = %d; want 1", n)
	}
}

// TestConcurrent runs many requests from several goroutines through a
// small pool, for the race detector.
func TestConcurrent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	defer srv.Close()
	tr := &Transport{MaxConnsPerHost: 2, MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				want := strings.Repeat("x", (g*30+i)%7000)
				res, err := tr.RoundTrip(mustReq(t, "POST", srv.URL, strings.NewReader(want)))
				if err != nil {
					t.Error(err)
					return
				}
				if got := readAll(t, res); got != want {
					t.Errorf("echo of %d bytes = %d bytes", len(want), len(got))
				}
			}
		})
	}
	wg.Wait()
}
