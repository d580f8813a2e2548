package h1

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// fixedOrigin is a minimal origin on loopback TCP: for each request head
// (up to its empty line) it writes one fixed response, with no parsing, so
// that the benchmarks measure the client side.
func fixedOrigin(tb testing.TB, resp string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReaderSize(c, 4096)
				out := []byte(resp)
				for {
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
					}
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/bench?x=1"
}

var resp1K = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 1024\r\n\r\n" +
	strings.Repeat("x", 1024)

// roundTrip1K sends one GET and reads the 1 KiB body into buf.
func roundTrip1K(tb testing.TB, rt http.RoundTripper, req *http.Request, buf []byte) {
	res, err := rt.RoundTrip(req)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.ReadFull(res.Body, buf); err != nil {
		tb.Fatal(err)
	}
	if n, _ := res.Body.Read(buf[:1]); n != 0 {
		tb.Fatal("body longer than 1 KiB")
	}
	res.Body.Close()
}

// transports are the contenders: this package and net/http.
func transports() []struct {
	name string
	rt   func() http.RoundTripper
} {
	return []struct {
		name string
		rt   func() http.RoundTripper
	}{
		{"h1", func() http.RoundTripper { return &Transport{} }},
		{"net-http", func() http.RoundTripper {
			return &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
		}},
	}
}

// BenchmarkRoundTrip measures a GET with a 1 KiB Content-Length response
// over loopback TCP, serially: request write, response parse, body read,
// conn back to the pool. With "ctx", the request has a cancellable context,
// as a server's request has.
func BenchmarkRoundTrip(b *testing.B) {
	url := fixedOrigin(b, resp1K)
	for _, tc := range transports() {
		for _, withCtx := range []bool{false, true} {
			name := tc.name
			if withCtx {
				name += "/ctx"
			}
			b.Run(name, func(b *testing.B) {
				rt := tc.rt()
				req := mustReq(b, "GET", url, nil)
				if withCtx {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					req = req.WithContext(ctx)
				}
				buf := make([]byte, 1024)
				b.ReportAllocs()
				for b.Loop() {
					roundTrip1K(b, rt, req, buf)
				}
			})
		}
	}
}

// BenchmarkRoundTripParallel is BenchmarkRoundTrip from GOMAXPROCS
// goroutines at once, each on its own conn.
func BenchmarkRoundTripParallel(b *testing.B) {
	url := fixedOrigin(b, resp1K)
	for _, tc := range transports() {
		b.Run(tc.name, func(b *testing.B) {
			rt := tc.rt()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := mustReq(b, "GET", url, nil)
				buf := make([]byte, 1024)
				for pb.Next() {
					roundTrip1K(b, rt, req, buf)
				}
			})
		})
	}
}

// BenchmarkParseHead measures parsing a typical response head into an
// http.Response: the string conversion, the status line and the fields.
func BenchmarkParseHead(b *testing.B) {
	head := []byte("HTTP/1.1 200 OK\r\nServer: nginx/1.25.3\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\n" +
		"content-type: application/json\r\nContent-Length: 1024\r\nConnection: keep-alive\r\n" +
		"Cache-Control: no-cache\r\nX-Request-Id: 0123456789abcdef\r\n")
	var keyBuf []byte
	b.SetBytes(int64(len(head)))
	b.ReportAllocs()
	for b.Loop() {
		var res http.Response
		if err := parseHead(string(head), &res, &keyBuf, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeek measures the idle-conn liveness check on a live loopback
// conn: one non-blocking MSG_PEEK recvfrom through RawConn.Read.
func BenchmarkPeek(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	c := newConn(&pool{t: &Transport{}}, nc)
	b.ReportAllocs()
	for b.Loop() {
		if c.peerClosed() {
			b.Fatal("live conn reported closed")
		}
	}
}

// TestRoundTripAllocs guards the allocations of a GET with a 1 KiB
// Content-Length response on a pooled conn, with a context that cannot be
// cancelled. The budget: the exchange (the response, its body reader and the
// values' backing, one allocation), the head string, and the header map (two
// allocations: the map and its table). A cancellable context adds the two of
// context.AfterFunc.
func TestRoundTripAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("loopback I/O")
	}
	const budget = 4
	url := fixedOrigin(t, resp1K)
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	req := mustReq(t, "GET", url, nil)
	buf := make([]byte, 1024)
	roundTrip1K(t, tr, req, buf)
	if n := testing.AllocsPerRun(200, func() { roundTrip1K(t, tr, req, buf) }); n > budget {
		t.Errorf("allocations per GET = %v; want at most %d", n, budget)
	}
}
