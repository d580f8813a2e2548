package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOriginServes(t *testing.T) {
	for _, kind := range []string{"raw", "nethttp"} {
		t.Run(kind, func(t *testing.T) {
			o, err := startOrigin(kind, 1024)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()

			// Several requests on one keep-alive connection, one with a body.
			c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
			want := makeBody(1024)
			for i, method := range []string{"GET", "POST", "GET"} {
				var body io.Reader
				if method == "POST" {
					body = strings.NewReader(strings.Repeat("b", 5000))
				}
				req, _ := http.NewRequest(method, o.URL()+"/api/1", body)
				res, err := c.Do(req)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || !bytes.Equal(got, want) {
					t.Errorf("%s %d = %d with %d bytes; want 200 with %d", method, i, res.StatusCode, len(got), len(want))
				}
			}
		})
	}
}

// TestRawOriginConnection tests the raw origin's framing on the wire:
// pipelined requests, Connection: close and HTTP/1.0.
func TestRawOriginConnection(t *testing.T) {
	o, err := startOrigin("raw", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	addr := strings.TrimPrefix(o.URL(), "http://")

	tests := []struct {
		name      string
		send      string
		responses int
		closed    bool // the origin closes the connection after them
	}{
		{"pipelined", "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\n\r\n", 3, false},
		{"close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 1, true},
		{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", 1, true},
		{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1, false},
		{"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, tt.send); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			for i := range tt.responses {
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				body, _ := io.ReadAll(res.Body)
				if res.StatusCode != 200 || string(body) != "0123456789" {
					t.Errorf("response %d = %d %q; want 200 %q", i, res.StatusCode, body, "0123456789")
				}
			}
			if tt.closed {
				if n, err := br.Read(make([]byte, 1)); err != io.EOF {
					t.Errorf("after the responses, Read = %d, %v; want EOF", n, err)
				}
				return
			}
			// Still open: one more request is answered.
			fmt.Fprintf(c, "GET / HTTP/1.1\r\n\r\n")
			if res, err := http.ReadResponse(br, nil); err != nil || res.StatusCode != 200 {
				t.Errorf("next request on the connection: %v", err)
			}
		})
	}
}

func TestOriginCloseEndsConnections(t *testing.T) {
	o, err := startOrigin("raw", 10)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(o.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- o.Close() }() // waits for the idle connection's goroutine
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a connection open")
	}
}

// TestOriginCached checks that both origins mark exactly the paths ending
// in cachedSuffix cacheable, with the same body, and count only those.
func TestOriginCached(t *testing.T) {
	tests := []struct {
		path   string
		cached bool
	}{
		{"/api/42", false},
		{"/api/42/cached", true},
		{"/api/42/cached?x=1", true},
		{"/cached", true},
		{"/api/42?p=/cached", false},
		{"/api/42/cachedx", false},
		{"/cached/api/42", false},
	}
	for _, kind := range []string{"raw", "nethttp"} {
		t.Run(kind, func(t *testing.T) {
			o, err := startOrigin(kind, 100)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			want := makeBody(100)
			var count int64
			for _, tt := range tests {
				res, err := http.Get(o.URL() + tt.path)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || !bytes.Equal(got, want) {
					t.Errorf("GET %s = %d with %d bytes; want 200 with %d", tt.path, res.StatusCode, len(got), len(want))
				}
				wantCC := ""
				if tt.cached {
					wantCC = cacheControl
					count++
				}
				if cc := res.Header.Get("Cache-Control"); cc != wantCC {
					t.Errorf("GET %s: Cache-Control = %q; want %q", tt.path, cc, wantCC)
				}
				if n := o.CachedRequests(); n != count {
					t.Errorf("after GET %s: CachedRequests() = %d; want %d", tt.path, n, count)
				}
			}
		})
	}
}

func TestCachedPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/api/42", "/api/42/cached"},
		{"/", "/cached"},
		{"/api/", "/api/cached"},
		{"/api/42?a=b", "/api/42/cached?a=b"},
		{"/?a=b", "/cached?a=b"},
	}
	for _, tt := range tests {
		got := cachedPath(tt.in)
		if got != tt.want {
			t.Errorf("cachedPath(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if !isCachedPath([]byte(got)) {
			t.Errorf("isCachedPath(%q) = false; want true", got)
		}
	}
}

func TestStartOriginUnknown(t *testing.T) {
	if _, err := startOrigin("fast", 10); err == nil {
		t.Error(`startOrigin("fast") = nil error; want one`)
	}
}

// requestHeads are request heads as the candidates send them, to the
// forwarded and to the cached path.
var requestHeads = []string{
	"GET /api/42 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nX-Forwarded-For: 127.0.0.1\r\n\r\n",
	"GET /api/42/cached HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\n\r\n",
}

// TestReadRequestAllocs guards the raw origin's promise that a request
// costs no allocation, so that it weighs the same on every candidate.
func TestReadRequestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for i, head := range requestHeads {
		src := strings.NewReader(head)
		br := bufio.NewReaderSize(src, 8<<10)
		var cached bool
		allocs := testing.AllocsPerRun(100, func() {
			src.Reset(head)
			br.Reset(src)
			var err error
			if _, cached, err = readRequest(br); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("readRequest allocates %v times per request; want 0", allocs)
		}
		if want := i == 1; cached != want {
			t.Errorf("readRequest(%q) cached = %v; want %v", head, cached, want)
		}
	}
}

func BenchmarkReadRequest(b *testing.B) {
	head := requestHeads[1]
	src := strings.NewReader(head)
	br := bufio.NewReaderSize(src, 8<<10)
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(head)
		br.Reset(src)
		if _, _, err := readRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}
