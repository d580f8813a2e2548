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

func TestStartOriginUnknown(t *testing.T) {
	if _, err := startOrigin("fast", 10); err == nil {
		t.Error(`startOrigin("fast") = nil error; want one`)
	}
}
