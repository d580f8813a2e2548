package h1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestStaleConnDetected has the origin close each conn after one response,
// without saying so. The next request, a POST that may not be retried, must
// notice the close before writing and take a new conn.
func TestStaleConnDetected(t *testing.T) {
	closed := make(chan struct{}, 4)
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		c.Close()
		closed <- struct{}{}
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	for i := range 3 {
		res, err := tr.RoundTrip(mustReq(t, "POST", srv.url(), nil))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		readAll(t, res)
		<-closed // the FIN is on its way; the peek must see it
	}
	if n := srv.accepts.Load(); n != 3 {
		t.Errorf("accepts = %d; want 3", n)
	}
}

// TestStaleConnRetried has the origin close each conn right after its
// response, without saying so: GETs, which skip the peek on a conn just
// used, find the conn closed and are sent again on a new one.
func TestStaleConnRetried(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		c.Close()
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	for i := range 5 {
		res, err := tr.RoundTrip(mustReq(t, "GET", srv.url(), nil))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if body := readAll(t, res); body != "ok" {
			t.Fatalf("request %d: body %q; want ok", i, body)
		}
	}
	if n := srv.accepts.Load(); n != 5 {
		t.Errorf("accepts = %d; want 5, one per request", n)
	}
}

// TestRetry has the origin answer one request per conn and then, on the
// next request, read it and close without answering.
func TestRetry(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		for i := 0; ; i++ {
			req, err := http.ReadRequest(br)
			if err != nil || i == 1 {
				return
			}
			b, _ := io.ReadAll(req.Body)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+itoa(len(b))+"\r\n\r\n")
			c.Write(b)
		}
	})
	cases := []struct {
		name  string
		req   func() *http.Request
		retry bool
	}{
		{"GET", func() *http.Request { return mustReq(t, "GET", srv.url(), nil) }, true},
		{"POST without key", func() *http.Request { return mustReq(t, "POST", srv.url(), nil) }, false},
		{"POST with Idempotency-Key", func() *http.Request {
			r := mustReq(t, "POST", srv.url(), nil)
			r.Header.Set("Idempotency-Key", "k1")
			return r
		}, true},
		{"PUT with key and GetBody", func() *http.Request {
			r := mustReq(t, "PUT", srv.url(), strings.NewReader("payload"))
			r.Header.Set("X-Idempotency-Key", "k2")
			return r
		}, true},
		{"PUT with key, body without GetBody", func() *http.Request {
			r := mustReq(t, "PUT", srv.url(), strings.NewReader("payload"))
			r.Header.Set("Idempotency-Key", "k3")
			r.GetBody = nil
			return r
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transport{}
			defer tr.CloseIdleConnections()
			res, err := tr.RoundTrip(tc.req()) // fresh conn: answered
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, res)
			before := srv.accepts.Load()
			req := tc.req()
			res, err = tr.RoundTrip(req) // reused conn: dropped
			if !tc.retry {
				if err == nil || !isConnLost(err) {
					t.Fatalf("RoundTrip = %v; want a lost-connection error, no retry", err)
				}
				if n := srv.accepts.Load() - before; n != 0 {
					t.Errorf("new conns = %d; want 0", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("RoundTrip: %v; want a retry", err)
			}
			want := ""
			if req.GetBody != nil {
				want = "payload"
			}
			if got := readAll(t, res); got != want {
				t.Errorf("echoed body = %q; want %q", got, want)
			}
			if n := srv.accepts.Load() - before; n != 1 {
				t.Errorf("new conns = %d; want 1", n)
			}
		})
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// TestEarlyResponse has the origin answer before reading a large body, and
// stop reading: RoundTrip must return that answer.
func TestEarlyResponse(t *testing.T) {
	stop := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n")
		<-stop // read nothing more until the test ends
	})
	t.Cleanup(func() { close(stop) }) // runs before the server's cleanup
	tr := &Transport{}
	body := &closeSignal{Reader: strings.NewReader(strings.Repeat("x", 16<<20)), closed: make(chan struct{})}
	req := mustReq(t, "POST", srv.url(), body)
	req.ContentLength = 16 << 20
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	readAll(t, res)
	if res.StatusCode != 413 {
		t.Errorf("status = %d; want 413", res.StatusCode)
	}
	<-body.closed // the body writer gives the body back once the conn is gone
	if total := tr.pool(poolKey{addr: srv.ln.Addr().String()}).total; total != 0 {
		t.Errorf("open conns = %d; want 0 (not reusable)", total)
	}
}

type closeSignal struct {
	io.Reader
	closed chan struct{}
	once   atomic.Bool
}

func (c *closeSignal) Close() error {
	if !c.once.Swap(true) {
		close(c.closed)
	}
	return nil
}
