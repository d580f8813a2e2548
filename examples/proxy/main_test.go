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

	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, "127.0.0.1:0", up.URL, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("run: %v", err)
	}

	res, err := http.Get("http://" + addr + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if got, want := string(body), "upstream saw /hello"; got != want {
		t.Errorf("body = %q; want %q", got, want)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("run after cancel = %v; want nil", err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, ups := range []string{"", "ftp://x", "http://a,http://a"} {
		if err := run(context.Background(), "127.0.0.1:0", ups, func(string) {}); err == nil {
			t.Errorf("run(-upstream %q) = nil; want an error", ups)
		}
	}
}
