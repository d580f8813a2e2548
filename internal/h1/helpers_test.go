package h1

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer is a TCP origin whose connections are served by a function
// that reads and writes exact bytes.
type rawServer struct {
	ln      net.Listener
	accepts atomic.Int32
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

// newRawServer serves each connection with serve on its own goroutine; the
// connection is closed when serve returns.
func newRawServer(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) url() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// serveFixed answers every request on the conn with resp until the client
// closes.
func serveFixed(resp string) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if _, err := io.WriteString(c, resp); err != nil {
				return
			}
		}
	}
}

// scriptConn is an in-memory net.Conn that answers with fixed bytes and
// records what is written. A deadline in the past makes Read and Write fail
// with a timeout, as on a real conn; other deadlines are ignored.
type scriptConn struct {
	r       *bytes.Reader
	written bytes.Buffer
	writes  int
	mu      sync.Mutex
	past    bool
	closed  bool
}

func newScriptConn(resp []byte) *scriptConn { return &scriptConn{r: bytes.NewReader(resp)} }

func (c *scriptConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.past {
		return 0, os.ErrDeadlineExceeded
	}
	return c.r.Read(p)
}

func (c *scriptConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.past {
		return 0, os.ErrDeadlineExceeded
	}
	c.writes++
	return c.written.Write(p)
}

func (c *scriptConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func (c *scriptConn) setPast(t time.Time) {
	c.mu.Lock()
	c.past = !t.IsZero() && t.Before(time.Now())
	c.mu.Unlock()
}

func (c *scriptConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(t time.Time) error      { c.setPast(t); return nil }
func (c *scriptConn) SetReadDeadline(t time.Time) error  { c.setPast(t); return nil }
func (c *scriptConn) SetWriteDeadline(t time.Time) error { return nil }

// scriptTransport returns a Transport whose every dial gets a scriptConn
// answering resp, and the conns it made.
func scriptTransport(resp []byte) (*Transport, *[]*scriptConn) {
	var conns []*scriptConn
	tr := &Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c := newScriptConn(resp)
		conns = append(conns, c)
		return c, nil
	}}
	return tr, &conns
}

// countingConn counts Write calls on a real conn.
type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// dialCounter wraps the default dialer and counts dials.
func dialCounter(n *atomic.Int32) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return d.DialContext(ctx, network, addr)
	}
}

func mustReq(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// readAll reads and closes res.Body.
func readAll(t testing.TB, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
}
