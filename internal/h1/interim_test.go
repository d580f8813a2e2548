package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestExpectContinue(t *testing.T) {
	const payload = "the body"
	cases := []struct {
		name     string
		serve    func(c net.Conn, br *bufio.Reader, req *http.Request)
		code     int
		bodySent bool
	}{
		{"100 then body", func(c net.Conn, br *bufio.Reader, req *http.Request) {
			io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
			echo(c, req)
		}, 200, true},
		{"final answer instead", func(c net.Conn, br *bufio.Reader, req *http.Request) {
			io.WriteString(c, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
		}, 417, false},
		{"silence until the timeout", func(c net.Conn, br *bufio.Reader, req *http.Request) {
			echo(c, req) // net/http's server would send 100 on read; this one reads raw
		}, 200, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				tc.serve(c, br, req)
			})
			tr := &Transport{ExpectContinueTimeout: 20 * time.Millisecond}
			body := &readRecorder{r: strings.NewReader(payload)}
			req := mustReq(t, "PUT", srv.url(), body)
			req.ContentLength = int64(len(payload))
			req.Header.Set("Expect", "100-continue")
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			got := readAll(t, res)
			if res.StatusCode != tc.code {
				t.Errorf("status = %d; want %d", res.StatusCode, tc.code)
			}
			if tc.bodySent && got != payload {
				t.Errorf("echoed body = %q; want %q", got, payload)
			}
			if body.read != tc.bodySent || !body.closed {
				t.Errorf("body read, closed = %v, %v; want %v, true", body.read, body.closed, tc.bodySent)
			}
			if !tc.bodySent && len(tr.pool(poolKey{addr: srv.ln.Addr().String()}).idle) != 0 {
				t.Error("conn pooled after the body was held back; want closed")
			}
			tr.CloseIdleConnections()
		})
	}
}

func echo(c net.Conn, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+itoa(len(b))+"\r\n\r\n"+string(b))
}

type readRecorder struct {
	r      io.Reader
	read   bool
	closed bool
}

func (r *readRecorder) Read(p []byte) (int, error) { r.read = true; return r.r.Read(p) }
func (r *readRecorder) Close() error               { r.closed = true; return nil }

func TestEarlyHints(t *testing.T) {
	const resp = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	var got []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		got = append(got, itoa(code)+" "+h.Get("Link"))
		return nil
	}}
	tr, _ := scriptTransport([]byte(resp))
	req := mustReq(t, "GET", "http://origin.test/", nil)
	res, err := tr.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, res); res.StatusCode != 200 || body != "ok" {
		t.Errorf("final response = %d %q; want 200 ok", res.StatusCode, body)
	}
	if want := "103 </style.css>; rel=preload"; len(got) != 1 || got[0] != want {
		t.Errorf("Got1xxResponse calls = %q; want [%q]", got, want)
	}

	// An error from the hook aborts.
	stop := errors.New("stop")
	trace = &httptrace.ClientTrace{Got1xxResponse: func(int, textproto.MIMEHeader) error { return stop }}
	tr, _ = scriptTransport([]byte(resp))
	req = mustReq(t, "GET", "http://origin.test/", nil)
	if _, err := tr.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace))); !errors.Is(err, stop) {
		t.Errorf("hook error: RoundTrip err = %v; want %v", err, stop)
	}
}

func TestSwitchingProtocols(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello")
		io.Copy(c, br)
	})
	tr := &Transport{}
	req := mustReq(t, "GET", srv.url(), nil)
	req.Header.Set("Upgrade", "echo")
	req.Header.Set("Connection", "Upgrade")
	ctx, cancel := context.WithCancel(context.Background())
	res, err := tr.RoundTrip(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	cancel() // the upgraded conn outlives the request's context
	if res.StatusCode != 101 {
		t.Fatalf("status = %d; want 101", res.StatusCode)
	}
	rw, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatalf("Body is %T; want an io.ReadWriteCloser", res.Body)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(rw, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read buffered bytes = %q, %v; want hello", buf, err)
	}
	io.WriteString(rw, "ping")
	buf = buf[:4]
	if _, err := io.ReadFull(rw, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo = %q, %v; want ping", buf, err)
	}
	rw.Close()
	if total := tr.pool(poolKey{addr: srv.ln.Addr().String()}).total; total != 0 {
		t.Errorf("open conns after Close = %d; want 0", total)
	}
}

// TestWroteRequest checks that httptrace's WroteRequest is reported once the
// whole request is written, for a body-less GET, a body sent with the head
// and a large body sent by the writer goroutine: a caller relies on it to
// know that the transport is done with the request.
func TestWroteRequest(t *testing.T) {
	srv := newRawServer(t, serveFixed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	for _, size := range []int{0, 100, 1 << 20} {
		var wrote atomic.Int32
		trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err != nil {
				t.Errorf("size %d: WroteRequest err = %v", size, info.Err)
			}
			wrote.Add(1)
		}}
		var body io.Reader
		method := "GET"
		if size > 0 {
			method, body = "POST", bytes.NewReader(make([]byte, size))
		}
		req := mustReq(t, method, srv.url(), body)
		res, err := tr.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		readAll(t, res) // the body ends only after the writer is done
		if n := wrote.Load(); n != 1 {
			t.Errorf("size %d: WroteRequest called %d times; want 1", size, n)
		}
	}
}

// TestSwitchingProtocolsCloseWrite checks that the body of a 101 response
// can half-close the connection, as a tunnel needs.
func TestSwitchingProtocolsCloseWrite(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		rest, _ := io.ReadAll(br) // to the client's half-close
		io.WriteString(c, "heard "+string(rest))
	})
	tr := &Transport{}
	req := mustReq(t, "GET", srv.url(), nil)
	req.Header.Set("Upgrade", "echo")
	req.Header.Set("Connection", "Upgrade")
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rw := res.Body.(io.ReadWriter)
	io.WriteString(rw, "bye")
	if err := res.Body.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	got, err := io.ReadAll(rw)
	if err != nil || string(got) != "heard bye" {
		t.Fatalf("after the half-close read %q, %v; want %q", got, err, "heard bye")
	}
}

// TestExpectContinueAfter103 has the server send 103 Early Hints but never
// 100 Continue, and read the body before it answers: the body must still go
// out when ExpectContinueTimeout has passed, the 103 notwithstanding.
func TestExpectContinueAfter103(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
		b, _ := io.ReadAll(req.Body)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+itoa(len(b))+"\r\n\r\n"+string(b))
	})
	tr := &Transport{ExpectContinueTimeout: 20 * time.Millisecond}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := mustReq(t, "POST", srv.url(), strings.NewReader("hello"))
	req.Header.Set("Expect", "100-continue")
	res, err := tr.RoundTrip(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("RoundTrip: %v (the body was never sent)", err)
	}
	if body := readAll(t, res); body != "hello" {
		t.Errorf("echo = %q; want %q", body, "hello")
	}
}

// slowBody is a client's body that sends one byte at once and another a
// while later, as a slow upload does, and tells when it is closed.
type slowBody struct {
	n     int
	done  chan struct{}
	close sync.Once
}

func (b *slowBody) Read(p []byte) (int, error) {
	b.n++
	switch b.n {
	case 1:
	case 2:
		// Long after RoundTrip has given up on the writer. Not a sleep to
		// order the test: nothing synchronizes this write with RoundTrip,
		// so that the race detector sees any access both make.
		time.Sleep(200 * time.Millisecond)
	default:
		return 0, io.EOF
	}
	p[0] = 'x'
	return 1, nil
}
func (b *slowBody) Close() error { b.close.Do(func() { close(b.done) }); return nil }

// TestFailWhileBodyWriterRuns has the server answer garbage while the body
// writer goroutine is still sending a slow chunked body: RoundTrip fails
// without touching what the writer still uses (the race detector checks),
// and the writer ends on the closed conn and closes the body.
func TestFailWhileBodyWriterRuns(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.ReadFull(br, make([]byte, 6)) // the first chunk, "1\r\nx\r\n"
		io.WriteString(c, "garbage\r\n\r\n")
		io.Copy(io.Discard, br)
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	body := &slowBody{done: make(chan struct{})}
	req := mustReq(t, "POST", srv.url(), nil)
	req.Body, req.ContentLength = body, -1
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("RoundTrip succeeded on a garbage answer")
	}
	<-body.done
}
