package gateway

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var quietLogger = slog.New(slog.DiscardHandler)

// liveServer is a Server serving on a loopback listener.
type liveServer struct {
	addr   string             // host:port
	stop   context.CancelFunc // starts the shutdown
	served <-chan error       // Serve's result
}

// start serves s on 127.0.0.1:0 until the test ends or stop is called.
func startServer(t *testing.T, s *Server) *liveServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(stop)
	return &liveServer{addr: ln.Addr().String(), stop: stop, served: served}
}

// client returns an HTTP client with its own transport, closed when the
// test ends.
func testClient(t *testing.T, tr *http.Transport) *http.Client {
	t.Helper()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func protocolSet(http1, http2, h2c bool) *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(http1)
	p.SetHTTP2(http2)
	p.SetUnencryptedHTTP2(h2c)
	return &p
}

// get fetches url and returns the status, the protocol major version and
// the body.
func fetch(t *testing.T, c *http.Client, url string) (status, major int, body string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp.StatusCode, resp.ProtoMajor, string(b)
}

// protoHandler answers every request with its protocol.
var protoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "protoHandler over "+r.Proto)
})

// serverSettings are the http.Server fields a Server sets from its own.
type serverSettings struct {
	Addr                                                      string
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
}

func TestServerDefaults(t *testing.T) {
	ours := &tls.Config{Certificates: []tls.Certificate{selfSignedCert(t).cert}}
	tests := []struct {
		name string
		s    Server
		want serverSettings
		tls  bool
		h2c  bool
		wait time.Duration // shutdown timeout
	}{
		{
			name: "zero",
			s:    Server{},
			want: serverSettings{
				Addr:              ":http",
				ReadHeaderTimeout: 10 * time.Second,
				IdleTimeout:       120 * time.Second,
				MaxHeaderBytes:    64 << 10,
			},
			wait: 30 * time.Second,
		},
		{
			name: "set",
			s: Server{
				Addr:              "127.0.0.1:9000",
				ReadHeaderTimeout: time.Second,
				ReadTimeout:       2 * time.Second,
				WriteTimeout:      3 * time.Second,
				IdleTimeout:       4 * time.Second,
				MaxHeaderBytes:    1000,
				ShutdownTimeout:   5 * time.Second,
				H2C:               true,
			},
			want: serverSettings{
				Addr:              "127.0.0.1:9000",
				ReadHeaderTimeout: time.Second,
				ReadTimeout:       2 * time.Second,
				WriteTimeout:      3 * time.Second,
				IdleTimeout:       4 * time.Second,
				MaxHeaderBytes:    1000,
			},
			h2c:  true,
			wait: 5 * time.Second,
		},
		{
			name: "negative means none",
			s:    Server{ReadHeaderTimeout: -1, IdleTimeout: -1, ShutdownTimeout: -1},
			want: serverSettings{
				Addr:              ":http",
				ReadHeaderTimeout: -1,
				IdleTimeout:       -1,
				MaxHeaderBytes:    64 << 10,
			},
			wait: -1,
		},
		{
			name: "tls",
			s:    Server{TLSConfig: ours, H2C: true},
			want: serverSettings{
				Addr:              ":https",
				ReadHeaderTimeout: 10 * time.Second,
				IdleTimeout:       120 * time.Second,
				MaxHeaderBytes:    64 << 10,
			},
			tls:  true,
			wait: 30 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.s.Handler = protoHandler
			before := tt.s
			p, err := tt.s.prepare(context.Background())
			if err != nil {
				t.Fatalf("prepare() error: %v", err)
			}
			after := tt.s
			after.Handler, before.Handler = nil, nil // func values do not compare
			if after != before {
				t.Errorf("prepare() modified the Server: %+v; want %+v", after, before)
			}
			got := p.srv
			check := func(field string, got, want any) {
				t.Helper()
				if got != want {
					t.Errorf("http.Server.%s = %v; want %v", field, got, want)
				}
			}
			check("Addr", got.Addr, tt.want.Addr)
			check("ReadHeaderTimeout", got.ReadHeaderTimeout, tt.want.ReadHeaderTimeout)
			check("ReadTimeout", got.ReadTimeout, tt.want.ReadTimeout)
			check("WriteTimeout", got.WriteTimeout, tt.want.WriteTimeout)
			check("IdleTimeout", got.IdleTimeout, tt.want.IdleTimeout)
			check("MaxHeaderBytes", got.MaxHeaderBytes, tt.want.MaxHeaderBytes)
			check("shutdown timeout", p.shutdownTimeout, tt.wait)
			check("ErrorLog set", got.ErrorLog != nil, true)
			check("BaseContext set", got.BaseContext != nil, true)
			check("Protocols.HTTP1", got.Protocols.HTTP1(), true)
			check("Protocols.HTTP2", got.Protocols.HTTP2(), true)
			check("Protocols.UnencryptedHTTP2", got.Protocols.UnencryptedHTTP2(), tt.h2c)
			check("TLS on", got.TLSConfig != nil, tt.tls)
			if got.TLSConfig != nil {
				check("TLSConfig.MinVersion", got.TLSConfig.MinVersion, uint16(tls.VersionTLS12))
				check("TLSConfig is a clone", got.TLSConfig != tt.s.TLSConfig, true)
			}
		})
	}
	if ours.MinVersion != 0 || len(ours.Certificates) != 1 || ours.NextProtos != nil {
		t.Errorf("prepare() modified the caller's tls.Config: MinVersion %d, %d certificates, NextProtos %q",
			ours.MinVersion, len(ours.Certificates), ours.NextProtos)
	}
}

func TestServerKeepsCallerCertificates(t *testing.T) {
	a, b := selfSignedCert(t), selfSignedCert(t)
	certFile, keyFile := b.files(t)
	ours := &tls.Config{Certificates: make([]tls.Certificate, 1, 4)}
	ours.Certificates[0] = a.cert
	s := Server{Handler: protoHandler, TLSConfig: ours, CertFile: certFile, KeyFile: keyFile}
	p, err := s.prepare(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.srv.TLSConfig.Certificates); n != 2 {
		t.Errorf("served certificates = %d; want 2 (files and config)", n)
	}
	if len(ours.Certificates) != 1 || ours.Certificates[:2][1].Certificate != nil {
		t.Errorf("prepare() wrote to the caller's Certificates or their spare capacity")
	}
}

func TestServerConfigErrors(t *testing.T) {
	certFile, keyFile := selfSignedCert(t).files(t)
	tests := []struct {
		name string
		s    Server
		want string
	}{
		{"nil handler", Server{}, "Handler is nil"},
		{"negative MaxHeaderBytes", Server{Handler: protoHandler, MaxHeaderBytes: -1}, "negative"},
		{"cert without key", Server{Handler: protoHandler, CertFile: certFile}, "set together"},
		{"key without cert", Server{Handler: protoHandler, KeyFile: keyFile}, "set together"},
		{"config without certificate", Server{Handler: protoHandler, TLSConfig: &tls.Config{}}, "no certificate"},
		{"key does not match", Server{Handler: protoHandler, CertFile: certFile, KeyFile: certFile}, "loading TLS certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			err = tt.s.Serve(context.Background(), ln)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Serve() = %v; want an error containing %q", err, tt.want)
			}
			if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("after Serve() failed, Accept() = %v; want %v", err, net.ErrClosed)
			}
		})
	}
}

func TestServerBadCertPath(t *testing.T) {
	var called atomic.Bool
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called.Store(true) })
	missing := filepath.Join(t.TempDir(), "missing.pem")

	// Serve reports the missing file before accepting anything.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := Server{Handler: h, CertFile: missing, KeyFile: missing, Logger: quietLogger}
	if err := s.Serve(context.Background(), ln); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Serve() = %v; want an error wrapping fs.ErrNotExist", err)
	}

	// ListenAndServeTLS reads the files before listening: on an address
	// already in use it still reports the certificate.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err = ListenAndServeTLS(context.Background(), busy.Addr().String(), missing, missing, h)
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("ListenAndServeTLS() = %v; want the certificate error, not the address", err)
	}
	if called.Load() {
		t.Error("the handler was called")
	}
}

func TestListenAndServeAddrInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	// ctx is never done: the error must come from listening, at once.
	err = ListenAndServe(context.Background(), busy.Addr().String(), protoHandler)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("ListenAndServe() = %v; want an error wrapping EADDRINUSE", err)
	}
}

func TestListenAndServeStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := Server{Addr: "127.0.0.1:0", Handler: protoHandler, Logger: quietLogger}
	if err := s.ListenAndServe(ctx); err != nil {
		t.Errorf("ListenAndServe() with a done context = %v; want nil", err)
	}
}

func TestServerGracefulShutdown(t *testing.T) {
	started, shutdownSeen, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-ShuttingDown(r.Context())
		close(shutdownSeen)
		<-release
		if err := r.Context().Err(); err != nil {
			t.Errorf("request context during the drain: %v; want it live", err)
		}
		io.WriteString(w, "the full response")
	})
	srv := startServer(t, &Server{Handler: h, Logger: quietLogger})
	c := testClient(t, &http.Transport{})

	type result struct {
		body string
		err  error
	}
	results := make(chan result, 1)
	go func() {
		resp, err := c.Get("http://" + srv.addr + "/")
		if err != nil {
			results <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		results <- result{string(b), err}
	}()

	<-started
	srv.stop()
	<-shutdownSeen // the listener is closed by now

	if conn, err := net.Dial("tcp", srv.addr); err == nil {
		conn.Close()
		t.Error("a new connection was accepted after the shutdown began")
	}
	select {
	case err := <-srv.served:
		t.Fatalf("Serve() returned %v while a request was in flight", err)
	default:
	}

	close(release)
	res := <-results
	if res.err != nil || res.body != "the full response" {
		t.Errorf("in-flight request got (%q, %v); want (%q, nil)", res.body, res.err, "the full response")
	}
	if err := <-srv.served; err != nil {
		t.Errorf("Serve() = %v; want nil", err)
	}
}

func TestServerShutdownTimeout(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release // never, during the test
	})
	srv := startServer(t, &Server{Handler: h, ShutdownTimeout: 50 * time.Millisecond, Logger: quietLogger})
	c := testClient(t, &http.Transport{})
	clientErr := make(chan error, 1)
	go func() {
		resp, err := c.Get("http://" + srv.addr + "/")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		clientErr <- err
	}()

	<-started
	srv.stop()
	err := <-srv.served
	if !errors.Is(err, ErrShutdownTimeout) || !strings.Contains(err.Error(), "1 request in flight") {
		t.Errorf("Serve() = %v; want ErrShutdownTimeout with 1 request in flight", err)
	}
	if err := <-clientErr; err == nil {
		t.Error("the cut-short request succeeded; want a connection error")
	}
}

// hijack takes over the connection of a request, failing the test if it
// cannot.
func hijackConn(t *testing.T, w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("Hijack() error: %v", err)
	}
	return conn, rw
}

// dialHijacked opens a connection to addr, sends a request that the server
// hijacks, and returns the connection.
func dialHijacked(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, "GET /tunnel HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestServerWaitsForHijackedConnections(t *testing.T) {
	started, finished := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(finished)
		conn, rw := hijackConn(t, w)
		defer conn.Close()
		close(started)
		<-ShuttingDown(r.Context())
		rw.WriteString("bye\n")
		rw.Flush()
	})
	srv := startServer(t, &Server{Handler: h, Logger: quietLogger})
	conn := dialHijacked(t, srv.addr)

	<-started
	srv.stop()
	b, err := io.ReadAll(conn)
	if string(b) != "bye\n" || err != nil {
		t.Errorf("tunnel read (%q, %v); want (%q, nil)", b, err, "bye\n")
	}
	if err := <-srv.served; err != nil {
		t.Errorf("Serve() = %v; want nil", err)
	}
	select {
	case <-finished:
	default:
		t.Error("Serve() returned before the hijacked handler finished")
	}
}

func TestServerCancelsHijackedAtDeadline(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _ := hijackConn(t, w)
		defer conn.Close()
		close(started)
		<-r.Context().Done() // ignores ShuttingDown
		close(cancelled)
	})
	srv := startServer(t, &Server{Handler: h, ShutdownTimeout: 50 * time.Millisecond, Logger: quietLogger})
	dialHijacked(t, srv.addr)

	<-started
	srv.stop()
	if err := <-srv.served; !errors.Is(err, ErrShutdownTimeout) {
		t.Errorf("Serve() = %v; want ErrShutdownTimeout", err)
	}
	<-cancelled // the hijacked handler saw its context cancelled
}

func TestServerReadHeaderTimeout(t *testing.T) {
	var called atomic.Bool
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called.Store(true) })
	srv := startServer(t, &Server{Handler: h, ReadHeaderTimeout: 20 * time.Millisecond, Logger: quietLogger})

	conn, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A guard against hanging if the server never cuts us off, not a wait.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: gateway\r\n") // and never the blank line
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server did not close a connection whose head never ended")
	}
	if called.Load() {
		t.Error("the handler was called")
	}
}

func TestServerMaxHeaderBytes(t *testing.T) {
	srv := startServer(t, &Server{Handler: protoHandler, Logger: quietLogger})
	c := testClient(t, &http.Transport{})
	for _, tt := range []struct {
		size int
		want int
	}{
		{32 << 10, http.StatusOK},
		{80 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, _ := http.NewRequest("GET", "http://"+srv.addr+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("a", tt.size))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", tt.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%d-byte header: status %d; want %d", tt.size, resp.StatusCode, tt.want)
		}
	}
}

func TestServerTLS(t *testing.T) {
	id := selfSignedCert(t)
	certFile, keyFile := id.files(t)
	roots := x509.NewCertPool()
	roots.AddCert(id.cert.Leaf)

	servers := []struct {
		name string
		s    Server
	}{
		{"files", Server{CertFile: certFile, KeyFile: keyFile}},
		{"config", Server{TLSConfig: &tls.Config{Certificates: []tls.Certificate{id.cert}}}},
	}
	clients := []struct {
		name      string
		protos    *http.Protocols
		wantMajor int
	}{
		{"HTTP/2", protocolSet(false, true, false), 2},
		{"HTTP/1.1", protocolSet(true, false, false), 1},
	}
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			sv.s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.TLS == nil || r.TLS.Version < tls.VersionTLS12 {
					t.Errorf("request TLS state %+v; want TLS 1.2 or later", r.TLS)
				}
				protoHandler(w, r)
			})
			logs := new(logRecorder)
			sv.s.Logger = slog.New(logs)
			srv := startServer(t, &sv.s)
			for _, cl := range clients {
				c := testClient(t, &http.Transport{
					TLSClientConfig: &tls.Config{RootCAs: roots},
					Protocols:       cl.protos,
				})
				status, major, body := fetch(t, c, "https://"+srv.addr+"/")
				if status != http.StatusOK || major != cl.wantMajor {
					t.Errorf("%s client: status %d, ProtoMajor %d (%q); want 200, %d",
						cl.name, status, major, body, cl.wantMajor)
				}
				// An idle HTTP/2 connection would hold the shutdown
				// below for the second net/http grants after GOAWAY.
				c.CloseIdleConnections()
			}

			old := testClient(t, &http.Transport{TLSClientConfig: &tls.Config{
				RootCAs: roots, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11,
			}})
			if resp, err := old.Get("https://" + srv.addr + "/"); err == nil {
				resp.Body.Close()
				t.Error("a TLS 1.1 client was served; want a failed handshake")
			}

			srv.stop()
			if err := <-srv.served; err != nil {
				t.Errorf("Serve() = %v; want nil", err)
			}
			// net/http's own log goes to Logger; the failed handshake has
			// been logged by the time its connection closed.
			if !logs.has(slog.LevelError, "TLS handshake error") {
				t.Errorf("Logger got %q; want an error about the TLS handshake", logs.messages())
			}
		})
	}
}

// logRecorder is a slog.Handler that keeps the records it is given.
type logRecorder struct {
	mu      sync.Mutex // guards records
	records []slog.Record
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

func (r *logRecorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ms []string
	for _, rec := range r.records {
		ms = append(ms, rec.Level.String()+" "+rec.Message)
	}
	return ms
}

func (r *logRecorder) has(level slog.Level, text string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.records {
		if rec.Level == level && strings.Contains(rec.Message, text) {
			return true
		}
	}
	return false
}

// failingListener fails every Accept, as a listener whose socket broke.
type failingListener struct{ err error }

func (l failingListener) Accept() (net.Conn, error) { return nil, l.err }
func (l failingListener) Close() error              { return nil }
func (l failingListener) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func TestServerReturnsAcceptError(t *testing.T) {
	broken := errors.New("accept broke")
	s := Server{Handler: protoHandler, Logger: quietLogger}
	// ctx is never done: Serve must return because the server stopped.
	if err := s.Serve(context.Background(), failingListener{broken}); !errors.Is(err, broken) {
		t.Errorf("Serve() = %v; want %v", err, broken)
	}
}

func TestServerH2C(t *testing.T) {
	h2cOnly := func() *http.Client {
		return testClient(t, &http.Transport{Protocols: protocolSet(false, false, true)})
	}

	srv := startServer(t, &Server{Handler: protoHandler, H2C: true, Logger: quietLogger})
	status, major, body := fetch(t, h2cOnly(), "http://"+srv.addr+"/")
	if status != http.StatusOK || major != 2 {
		t.Errorf("H2C server, h2c client: status %d, ProtoMajor %d (%q); want 200, 2", status, major, body)
	}
	status, major, _ = fetch(t, testClient(t, &http.Transport{}), "http://"+srv.addr+"/")
	if status != http.StatusOK || major != 1 {
		t.Errorf("H2C server, HTTP/1.1 client: status %d, ProtoMajor %d; want 200, 1", status, major)
	}

	plain := startServer(t, &Server{Handler: protoHandler, Logger: quietLogger})
	if resp, err := h2cOnly().Get("http://" + plain.addr + "/"); err == nil {
		resp.Body.Close()
		t.Errorf("server without H2C answered an h2c client with %s", resp.Proto)
	}
}

func TestShuttingDownOutsideServer(t *testing.T) {
	if ch := ShuttingDown(context.Background()); ch != nil {
		t.Errorf("ShuttingDown(Background) = %v; want nil", ch)
	}
}

func TestHandlerCount(t *testing.T) {
	f := newHandlerCount()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				f.n.Add(1)
				f.leave()
			}
		})
	}
	f.n.Add(1) // one handler outlives the others
	wg.Wait()
	drained := f.drained()
	select {
	case <-drained:
		t.Fatal("drained with a handler running")
	default:
	}
	f.leave()
	<-drained
	if n := f.running(); n != 0 {
		t.Errorf("running() = %d; want 0", n)
	}
}

func TestCountedHandlerAllocs(t *testing.T) {
	h := countedHandler{h: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), f: newHandlerCount()}
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("countedHandler.ServeHTTP allocates %v times per request; want 0", n)
	}
}

// certIdentity is a self-signed certificate for 127.0.0.1 and its key.
type certIdentity struct {
	cert            tls.Certificate // with Leaf set
	certPEM, keyPEM []byte
}

func selfSignedCert(t *testing.T) certIdentity {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "gateway test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	id := certIdentity{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	}
	if id.cert, err = tls.X509KeyPair(id.certPEM, id.keyPEM); err != nil {
		t.Fatal(err)
	}
	return id
}

// files writes the certIdentity to PEM files in a temporary directory.
func (id certIdentity) files(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, id.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, id.keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
