package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// pipeOrigin dials in-memory pipes, each served by serve with the conn's
// number (from 1), so that tests can run inside a synctest bubble.
type pipeOrigin struct {
	dials atomic.Int32
	serve func(n int, c net.Conn, br *bufio.Reader)
}

func (o *pipeOrigin) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n := int(o.dials.Add(1))
	cli, srv := net.Pipe()
	go func() {
		defer srv.Close()
		o.serve(n, srv, bufio.NewReader(srv))
	}()
	return cli, nil
}

// answerConnNumber answers every request with the conn's number as body.
func answerConnNumber(n int, c net.Conn, br *bufio.Reader) {
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		body := fmt.Sprint(n)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
}

func TestPoolLIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &pipeOrigin{serve: answerConnNumber}
		tr := &Transport{DialContext: o.dial}
		defer tr.CloseIdleConnections()
		a, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
		if err != nil {
			t.Fatal(err)
		}
		b, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, b) // conn 2 goes back first
		readAll(t, a) // conn 1 goes back last
		for i, want := range []string{"1", "1"} {
			res, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, res); got != want {
				t.Errorf("request %d went to conn %s; want %s (the most recently used)", i, got, want)
			}
		}
		if n := o.dials.Load(); n != 2 {
			t.Errorf("dials = %d; want 2", n)
		}
	})
}

func TestMaxIdleConnsPerHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &pipeOrigin{serve: answerConnNumber}
		tr := &Transport{DialContext: o.dial, MaxIdleConnsPerHost: 2}
		defer tr.CloseIdleConnections()
		var held []*http.Response
		for range 4 {
			res, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, res)
		}
		for _, res := range held {
			readAll(t, res)
		}
		p := tr.pool(poolKey{addr: "origin.test:80"})
		if n, total := len(p.idle), p.total; n != 2 || total != 2 {
			t.Errorf("idle, open = %d, %d; want 2, 2", n, total)
		}
	})
}

func TestMaxConnsPerHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &pipeOrigin{serve: answerConnNumber}
		tr := &Transport{DialContext: o.dial, MaxConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		first, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
		if err != nil {
			t.Fatal(err)
		}

		// A waiter that gives up.
		ctx, cancel := context.WithCancel(context.Background())
		gaveUp := make(chan error)
		go func() {
			_, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil).WithContext(ctx))
			gaveUp <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-gaveUp; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: err = %v; want context.Canceled", err)
		}

		// A waiter that gets the conn when the first body ends.
		got := make(chan string)
		go func() {
			res, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
			if err != nil {
				got <- err.Error()
				return
			}
			got <- readAll(t, res)
		}()
		synctest.Wait()
		select {
		case s := <-got:
			t.Fatalf("second request finished (%s) while the only conn was busy", s)
		default:
		}
		readAll(t, first)
		if s := <-got; s != "1" {
			t.Errorf("waiter's response = %q; want %q (conn 1)", s, "1")
		}
		if n := o.dials.Load(); n != 1 {
			t.Errorf("dials = %d; want 1", n)
		}
	})
}

func TestIdleConnTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &pipeOrigin{serve: answerConnNumber}
		tr := &Transport{DialContext: o.dial, IdleConnTimeout: time.Minute}
		defer tr.CloseIdleConnections()
		step := func(wait time.Duration, want string) {
			t.Helper()
			time.Sleep(wait)
			res, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, res); got != want {
				t.Errorf("after %v idle: conn %s; want %s", wait, got, want)
			}
		}
		step(0, "1")
		step(59*time.Second, "1")
		step(61*time.Second, "2") // conn 1 expired
	})
}

func TestIdleSweepOnPut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &pipeOrigin{serve: answerConnNumber}
		tr := &Transport{DialContext: o.dial, IdleConnTimeout: time.Minute}
		defer tr.CloseIdleConnections()
		a, _ := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
		b, _ := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
		readAll(t, b) // idle
		time.Sleep(2 * time.Minute)
		readAll(t, a) // its put sweeps b's conn away
		p := tr.pool(poolKey{addr: "origin.test:80"})
		if n, total := len(p.idle), p.total; n != 1 || total != 1 {
			t.Errorf("idle, open = %d, %d; want 1, 1", n, total)
		}
	})
}

// TestBodyCloseEarly checks which early Close keeps the conn.
func TestBodyCloseEarly(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		read int
		keep bool
	}{
		{"small buffered remainder drained", "0123456789", 2, true},
		{"large remainder closes", string(make([]byte, 64<<10)), 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(tc.body), tc.body)
			tr, conns := scriptTransport([]byte(resp + resp))
			res, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
			if err != nil {
				t.Fatal(err)
			}
			io.ReadFull(res.Body, make([]byte, tc.read))
			res.Body.Close()
			if _, err := res.Body.Read(make([]byte, 1)); !errors.Is(err, errBodyClosed) {
				t.Errorf("Read after Close: err = %v; want %v", err, errBodyClosed)
			}
			p := tr.pool(poolKey{addr: "origin.test:80"})
			if kept := len(p.idle) == 1; kept != tc.keep {
				t.Errorf("conn kept = %v; want %v", kept, tc.keep)
			}
			if closed := (*conns)[0].closed; closed == tc.keep {
				t.Errorf("conn closed = %v; want %v", closed, !tc.keep)
			}
		})
	}
}

// TestBodyCloseConcurrent closes a body while another goroutine is blocked
// reading it.
func TestBodyCloseConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &pipeOrigin{serve: func(n int, c net.Conn, br *bufio.Reader) {
			http.ReadRequest(br)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
			io.Copy(io.Discard, br) // until the client closes
		}}
		tr := &Transport{DialContext: o.dial}
		res, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
		if err != nil {
			t.Fatal(err)
		}
		readErr := make(chan error)
		go func() {
			_, err := io.ReadAll(res.Body)
			readErr <- err
		}()
		synctest.Wait()
		res.Body.Close()
		if err := <-readErr; !errors.Is(err, errBodyClosed) {
			t.Errorf("blocked Read after Close: err = %v; want %v", err, errBodyClosed)
		}
		if total := tr.pool(poolKey{addr: "origin.test:80"}).total; total != 0 {
			t.Errorf("open conns = %d; want 0", total)
		}
	})
}
