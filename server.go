package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrShutdownTimeout means that in-flight requests were still running when
// a [Server]'s ShutdownTimeout passed, so their connections were closed.
var ErrShutdownTimeout = errors.New("gateway: shutdown timed out")

// The values a [Server] uses for its zero fields, documented there.
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverIdleTimeout       = 120 * time.Second
	serverMaxHeaderBytes    = 64 << 10
	serverShutdownTimeout   = 30 * time.Second
)

// Server runs an [http.Handler] with safe defaults and graceful shutdown.
// Only Handler is required; the zero value of every other field works.
//
// A Server holds no state of its own and is never modified: each call to
// [Server.Serve] or [Server.ListenAndServe] builds its own [http.Server],
// so one Server may serve several listeners at once, each stopping with its
// own context.
//
// # Shutdown
//
// When the context passed to Serve is done, the server closes its
// listeners, so new connections are refused, and waits for the requests in
// flight to finish, up to ShutdownTimeout. Idle keep-alive connections are
// closed, HTTP/1.1 responses still being written carry "Connection: close",
// and HTTP/2 connections receive GOAWAY (net/http closes an idle one a
// second later if its client has not). Serve returns nil when everything
// finished in time. Otherwise it closes every connection, cancels the
// context of every request still running, and returns an error wrapping
// [ErrShutdownTimeout] that says how many requests were cut short.
//
// Connections taken over with [http.Hijacker] (WebSocket tunnels, CONNECT)
// are invisible to [http.Server.Shutdown]; a Server counts their handlers
// anyway and waits for them like any other request. Long-lived handlers,
// hijacked or streaming (server-sent events, LLM token streams), should
// watch [ShuttingDown] to end politely when draining starts, and must stop
// when their request's context is cancelled at the deadline. A handler that
// hands a hijacked connection to another goroutine and returns is no longer
// counted; that goroutine should watch ShuttingDown itself, from a context
// it took from the request.
//
// # Security
//
// The defaults close the holes an [http.Server] leaves open by default:
// request heads must arrive within 10 seconds (against slowloris clients)
// and be at most 64 KiB, not 1 MiB; idle connections are closed after two
// minutes; TLS is 1.2 or later; and a nil Handler is an error, not a
// silent fallback to [http.DefaultServeMux], where imported packages such
// as net/http/pprof register debugging endpoints. There is no default
// limit on the time to read a request body or to write a response, because
// a whole-request deadline would cut off uploads, gRPC streams, server-sent
// events and WebSocket tunnels alike; bound those per route instead, with
// [http.MaxBytesReader], [http.TimeoutHandler] or the deadlines of
// [http.ResponseController].
type Server struct {
	// Addr is the TCP address ListenAndServe listens on, as "host:port".
	// Empty means ":https" (port 443) when TLS is configured and ":http"
	// (port 80) otherwise, as in net/http. Serve ignores it.
	Addr string

	// Handler answers every request. It is required: Serve returns an
	// error when it is nil.
	Handler http.Handler

	// TLSConfig, when not nil, turns on TLS. It is cloned, never modified;
	// the clone gets the certificate from CertFile and KeyFile when they
	// are set, a MinVersion of at least TLS 1.2, and the ALPN protocols
	// "h2" and "http/1.1". Nil means plain HTTP, unless CertFile and
	// KeyFile are set. The config must provide a certificate, through
	// Certificates, GetCertificate, GetConfigForClient or the files. A
	// config returned by GetConfigForClient is used as it is, so it should
	// set its own MinVersion.
	TLSConfig *tls.Config

	// CertFile and KeyFile name PEM files holding the certificate chain
	// and its private key. Setting them turns on TLS. They are read once,
	// before listening; an unreadable or mismatched pair is an error from
	// Serve. Set both or neither.
	CertFile, KeyFile string

	// ReadHeaderTimeout bounds the time to read a request head. Zero means
	// 10 seconds; negative means no limit.
	ReadHeaderTimeout time.Duration

	// ReadTimeout bounds the time to read a whole request, body included.
	// Zero or negative means no limit, so that request bodies may stream;
	// see the Security section.
	ReadTimeout time.Duration

	// WriteTimeout bounds the time from the end of the request head to the
	// end of the response. Zero or negative means no limit, so that
	// responses may stream (server-sent events, LLM tokens, downloads);
	// see the Security section.
	WriteTimeout time.Duration

	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request. Zero means 120 seconds; negative means no limit.
	IdleTimeout time.Duration

	// MaxHeaderBytes bounds the size of a request head (request line and
	// header fields), in bytes. Zero means 64 KiB; negative is an error.
	// Larger heads get 431.
	MaxHeaderBytes int

	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// in-flight requests before closing their connections. Zero means
	// 30 seconds; negative means no limit.
	ShutdownTimeout time.Duration

	// H2C serves HTTP/2 without TLS to clients that speak it with prior
	// knowledge, alongside HTTP/1.1, as gRPC clients do behind a load
	// balancer that terminates TLS. The HTTP/1.1 Upgrade to h2c is not
	// supported. It is ignored when TLS is on, where HTTP/2 is always
	// offered through ALPN.
	H2C bool

	// Logger receives the server's lifecycle messages at Info level and
	// net/http's own errors (failed TLS handshakes, handler panics) at
	// Error level. Nil means [slog.Default].
	Logger *slog.Logger
}

// ListenAndServe listens on s.Addr and serves until ctx is done, then shuts
// down gracefully as [Server] describes. Errors in the configuration, such
// as an unreadable certificate, and errors from listening are returned at
// once, before any request is served. It returns nil after a clean
// shutdown.
func (s *Server) ListenAndServe(ctx context.Context) error {
	p, err := s.prepare(ctx)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", p.srv.Addr)
	if err != nil {
		p.cancelBase()
		return err
	}
	return p.serve(ctx, ln)
}

// Serve serves the connections accepted on ln until ctx is done, then
// shuts down gracefully as [Server] describes. It takes ownership of ln and
// closes it before returning. Errors in the configuration are returned
// before anything is accepted. It returns nil after a clean shutdown.
//
// Request contexts carry the values of ctx but not its cancellation, so
// that in-flight requests can finish after ctx is done.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	p, err := s.prepare(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	return p.serve(ctx, ln)
}

// ListenAndServe serves h on the TCP address addr until ctx is done, with
// the defaults of a zero [Server]. It is shorthand for
//
//	(&gateway.Server{Addr: addr, Handler: h}).ListenAndServe(ctx)
func ListenAndServe(ctx context.Context, addr string, h http.Handler) error {
	s := Server{Addr: addr, Handler: h}
	return s.ListenAndServe(ctx)
}

// ListenAndServeTLS serves h over TLS, with HTTP/2 and HTTP/1.1, on the TCP
// address addr until ctx is done, with the defaults of a zero [Server].
// certFile and keyFile name PEM files holding the certificate chain and its
// private key; they are read before listening. It is shorthand for
//
//	(&gateway.Server{Addr: addr, Handler: h, CertFile: certFile, KeyFile: keyFile}).ListenAndServe(ctx)
func ListenAndServeTLS(ctx context.Context, addr, certFile, keyFile string, h http.Handler) error {
	s := Server{Addr: addr, Handler: h, CertFile: certFile, KeyFile: keyFile}
	return s.ListenAndServe(ctx)
}

// ShuttingDown returns a channel that is closed when the [Server] serving
// the request whose context is ctx stops accepting connections and starts
// to drain. Long-lived handlers select on it to end streams and tunnels
// politely. For a context that did not come from a Server it returns nil,
// a channel that is never ready.
func ShuttingDown(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(shuttingDownKey).(chan struct{})
	return ch
}

// serverCtxKey is the type of the server's context keys; a pointer to one
// cannot collide with anyone else's key.
type serverCtxKey struct{ name string }

var shuttingDownKey = &serverCtxKey{"shutting down"}

// serverRun is one run of a Server: the http.Server built from its fields
// and what the shutdown needs.
type serverRun struct {
	srv             *http.Server
	tls             bool
	h2c             bool
	shutdownTimeout time.Duration
	log             *slog.Logger
	handlers        *handlerCount
	shuttingDown    chan struct{}      // closed when the listeners are closed
	cancelBase      context.CancelFunc // cancels every request's context
}

// prepare checks s and builds the http.Server for one run. It reads the
// certificate files, so that a bad path fails before listening.
func (s *Server) prepare(ctx context.Context) (*serverRun, error) {
	if s.Handler == nil {
		return nil, errors.New("gateway: Server.Handler is nil")
	}
	if s.MaxHeaderBytes < 0 {
		return nil, fmt.Errorf("gateway: negative Server.MaxHeaderBytes %d", s.MaxHeaderBytes)
	}
	tlsConf, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}

	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &serverRun{
		tls:             tlsConf != nil,
		h2c:             s.H2C && tlsConf == nil,
		shutdownTimeout: durationOr(s.ShutdownTimeout, serverShutdownTimeout),
		log:             log,
		handlers:        newHandlerCount(),
		shuttingDown:    make(chan struct{}),
	}

	// Requests keep ctx's values but not its cancellation: ctx being done
	// starts the drain, it must not abort what is draining.
	base := context.WithValue(context.WithoutCancel(ctx), shuttingDownKey, p.shuttingDown)
	base, p.cancelBase = context.WithCancel(base)

	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true) // over TLS only, negotiated by ALPN
	protos.SetUnencryptedHTTP2(p.h2c)

	addr := s.Addr
	if addr == "" {
		addr = ":http"
		if p.tls {
			addr = ":https"
		}
	}
	maxHeader := s.MaxHeaderBytes
	if maxHeader == 0 {
		maxHeader = serverMaxHeaderBytes
	}

	p.srv = &http.Server{
		Addr:              addr,
		Handler:           countedHandler{h: s.Handler, f: p.handlers},
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: durationOr(s.ReadHeaderTimeout, serverReadHeaderTimeout),
		ReadTimeout:       s.ReadTimeout,
		WriteTimeout:      s.WriteTimeout,
		IdleTimeout:       durationOr(s.IdleTimeout, serverIdleTimeout),
		MaxHeaderBytes:    maxHeader,
		Protocols:         &protos,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelError),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	// Shutdown calls this after it has closed the listeners.
	p.srv.RegisterOnShutdown(func() { close(p.shuttingDown) })
	return p, nil
}

// tlsConfig returns the TLS configuration to serve with, or nil for plain
// HTTP. It never modifies s.TLSConfig.
func (s *Server) tlsConfig() (*tls.Config, error) {
	if (s.CertFile == "") != (s.KeyFile == "") {
		return nil, errors.New("gateway: Server.CertFile and Server.KeyFile must be set together")
	}
	if s.TLSConfig == nil && s.CertFile == "" {
		return nil, nil
	}
	var c *tls.Config
	if s.TLSConfig != nil {
		c = s.TLSConfig.Clone()
	} else {
		c = new(tls.Config)
	}
	if s.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("gateway: loading TLS certificate: %w", err)
		}
		// A fresh slice: the clone shares its backing array with the
		// caller's config.
		c.Certificates = append([]tls.Certificate{cert}, c.Certificates...)
	}
	if len(c.Certificates) == 0 && c.GetCertificate == nil && c.GetConfigForClient == nil {
		return nil, errors.New("gateway: Server.TLSConfig has no certificate and CertFile is empty")
	}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	// net/http adds "h2" and "http/1.1" to NextProtos when they are
	// missing, keeping any others (such as "acme-tls/1") first.
	return c, nil
}

// serve runs p's http.Server on ln until ctx is done or the server fails,
// then drains it.
func (p *serverRun) serve(ctx context.Context, ln net.Listener) error {
	// http.Server.Serve closes ln, but ServeTLS may fail before reaching it.
	defer ln.Close()

	p.log.Info("gateway: serving", "addr", ln.Addr().String(), "tls", p.tls, "h2c", p.h2c)
	errc := make(chan error, 1)
	go func() {
		if p.tls {
			errc <- p.srv.ServeTLS(ln, "", "") // certificates are in TLSConfig
		} else {
			errc <- p.srv.Serve(ln)
		}
	}()

	select {
	case err := <-errc:
		// The server stopped by itself (an accept error, a bad HTTP/2
		// TLS setup): drain what it had accepted and report why.
		return errors.Join(err, p.shutdown())
	case <-ctx.Done():
	}
	p.log.Info("gateway: shutting down", "timeout", p.shutdownTimeout)
	err := p.shutdown()
	<-errc // http.ErrServerClosed, at once after Shutdown began
	if err == nil {
		p.log.Info("gateway: shut down")
	}
	return err
}

// shutdown stops accepting, waits for in-flight requests up to the
// shutdown timeout, and then closes whatever is left.
func (p *serverRun) shutdown() error {
	ctx := context.Background()
	if p.shutdownTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.shutdownTimeout)
		defer cancel()
	}

	// Shutdown returns ctx's error when it gave up, and otherwise nil or
	// the error from closing a listener.
	err := p.srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		// Every connection Shutdown knows of is closed; hijacked ones may
		// still have their handlers running.
		drained := p.handlers.drained()
		select {
		case <-drained:
			p.cancelBase()
			return err
		case <-ctx.Done():
			select {
			case <-drained:
				p.cancelBase()
				return err
			default:
			}
		}
	}

	n := p.handlers.running()
	p.srv.Close()
	p.cancelBase()
	requests := "requests"
	if n == 1 {
		requests = "request"
	}
	return fmt.Errorf("%w after %v: closed connections with %d %s in flight",
		ErrShutdownTimeout, p.shutdownTimeout, n, requests)
}

// durationOr returns def for a zero d, and d otherwise.
func durationOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// countedHandler counts the handlers running, so that a shutdown can wait
// for those on hijacked connections, which http.Server forgets.
type countedHandler struct {
	h http.Handler
	f *handlerCount
}

func (t countedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.f.n.Add(1)
	defer t.f.leave()
	t.h.ServeHTTP(w, r)
}

// handlerCount counts running handlers with atomics rather than a mutex,
// since every request passes through it. drained writes the flag before it
// reads the counter and leave writes the counter before it reads the flag,
// so when the last handler leaves during a drain at least one of the two
// sees both zero and draining, and idle is closed.
type handlerCount struct {
	n        atomic.Int64
	draining atomic.Bool
	once     sync.Once
	idle     chan struct{} // closed once n is zero while draining
}

func newHandlerCount() *handlerCount {
	return &handlerCount{idle: make(chan struct{})}
}

func (f *handlerCount) leave() {
	if f.n.Add(-1) == 0 && f.draining.Load() {
		f.once.Do(f.closeIdle)
	}
}

// drained marks f as draining and returns a channel that is closed when no
// handler is running.
func (f *handlerCount) drained() <-chan struct{} {
	f.draining.Store(true)
	if f.n.Load() == 0 {
		f.once.Do(f.closeIdle)
	}
	return f.idle
}

func (f *handlerCount) running() int64 { return f.n.Load() }

func (f *handlerCount) closeIdle() { close(f.idle) }
