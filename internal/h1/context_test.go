package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestContextCancel(t *testing.T) {
	requested := make(chan struct{}, 4)
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.URL.Path == "/body" {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
		}
		requested <- struct{}{}
		io.Copy(io.Discard, br) // then silence until the client closes
	})
	tr := &Transport{}

	t.Run("waiting for the head", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-requested; cancel() }()
		_, err := tr.RoundTrip(mustReq(t, "GET", srv.url()+"/head", nil).WithContext(ctx))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v; want context.Canceled", err)
		}
	})
	t.Run("reading the body", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		res, err := tr.RoundTrip(mustReq(t, "GET", srv.url()+"/body", nil).WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		<-requested
		buf := make([]byte, 7)
		io.ReadFull(res.Body, buf)
		cancel()
		if _, err := io.ReadAll(res.Body); !errors.Is(err, context.Canceled) {
			t.Errorf("body read err = %v; want context.Canceled", err)
		}
		res.Body.Close()
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := tr.RoundTrip(mustReq(t, "GET", srv.url()+"/head", nil).WithContext(ctx))
		<-requested
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v; want context.DeadlineExceeded", err)
		}
	})
	t.Run("response header timeout", func(t *testing.T) {
		tr := &Transport{ResponseHeaderTimeout: 20 * time.Millisecond}
		_, err := tr.RoundTrip(mustReq(t, "GET", srv.url()+"/head", nil))
		<-requested
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v; want a net.Error timeout that is not the context's", err)
		}
	})
	if total := tr.pool(poolKey{addr: srv.ln.Addr().String()}).total; total != 0 {
		t.Errorf("open conns = %d; want 0: a conn touched by cancellation is closed", total)
	}
}

func TestDialErrors(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = (&Transport{}).RoundTrip(mustReq(t, "GET", "http://"+addr, nil))
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "dial" {
			t.Errorf("err = %v; want a *net.OpError from dial", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		tr := &Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			cancel()
			<-ctx.Done()
			var d net.Dialer
			return d.DialContext(ctx, network, addr) // fails with net's own wrapping
		}}
		_, err := tr.RoundTrip(mustReq(t, "GET", "http://127.0.0.1:1", nil).WithContext(ctx))
		var oe *net.OpError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &oe) {
			t.Errorf("err = %v; want context.Canceled and a *net.OpError", err)
		}
	})
}

func tlsServer(t *testing.T, h2 bool) (*httptest.Server, *tls.Config) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure")
	}))
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return srv, &tls.Config{RootCAs: roots}
}

func TestTLS(t *testing.T) {
	srv, cfg := tlsServer(t, false)
	tr := &Transport{TLSClientConfig: cfg}
	var resumed []bool
	for range 2 {
		res, err := tr.RoundTrip(mustReq(t, "GET", srv.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, res); got != "secure" || res.TLS == nil {
			t.Fatalf("response = %q, TLS %v; want secure, TLS set", got, res.TLS != nil)
		}
		resumed = append(resumed, res.TLS.DidResume)
		tr.CloseIdleConnections() // the next request needs a new conn
	}
	if resumed[0] || !resumed[1] {
		t.Errorf("DidResume = %v; want [false true]", resumed)
	}
	if cfg.NextProtos != nil || cfg.ClientSessionCache != nil {
		t.Error("TLSClientConfig was modified")
	}
}

func TestTLSServerPicksHTTP2(t *testing.T) {
	srv, cfg := tlsServer(t, true)
	var dials atomic.Int32
	tr := &Transport{TLSClientConfig: cfg, DialContext: dialCounter(&dials)}
	for i := range 2 {
		// The body stays unread and open, for the caller to send over
		// HTTP/2: the first request fails at the handshake, the second
		// before dialing.
		body := &readRecorder{r: strings.NewReader("payload")}
		req := mustReq(t, "POST", srv.URL, nil)
		req.Body, req.ContentLength = body, 7
		_, err := tr.RoundTrip(req)
		if !errors.Is(err, ErrHTTP2) {
			t.Fatalf("request %d: err = %v; want ErrHTTP2", i, err)
		}
		if body.read || body.closed {
			t.Errorf("request %d: body read %v, closed %v; want neither", i, body.read, body.closed)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("dials = %d; want 1: the second request fails without dialing", n)
	}
}
