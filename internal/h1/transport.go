package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrHTTP2 is returned, wrapped, when a TLS server selects HTTP/2 through
// ALPN. The request was not written, so the caller may send it through a
// transport that speaks HTTP/2. Later requests to the same scheme and
// host:port fail with it at once, without dialing.
var ErrHTTP2 = errors.New("h1: server selected HTTP/2")

// Defaults for the zero values of [Transport]'s fields.
const (
	defaultDialTimeout       = 10 * time.Second
	defaultKeepAlive         = 30 * time.Second
	defaultTLSTimeout        = 10 * time.Second
	defaultExpectTimeout     = 1 * time.Second
	defaultMaxIdlePerHost    = 256
	defaultIdleTimeout       = 90 * time.Second
	defaultMaxHeaderBytes    = 1 << 20
	maxHeaderFields          = 1000 // fields in one head or one trailer section
	maxInformational         = 16   // 1xx responses before the final one
	smallBodyDrain           = 4 << 10
	bufferSize               = 4 << 10
	writerWaitBeforeConnDrop = 50 * time.Millisecond
)

// Transport is an [http.RoundTripper] for HTTP/1.1 over TCP or TLS.
//
// The goroutine that calls RoundTrip writes the request and reads the
// response; the response body reads straight from the connection. See the
// package documentation for what it supports and for its retry rule.
//
// The zero value is ready to use. A Transport must not be copied after first
// use. Its fields must not be changed once it is in use.
type Transport struct {
	// DialContext opens the TCP connection. Nil means a net.Dialer with a
	// 10s timeout and 30s TCP keep-alive.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// TLSClientConfig configures TLS for https. It is cloned, never
	// modified. Nil means the zero tls.Config. ServerName defaults to the
	// host without its port; NextProtos is always "h2", "http/1.1" (see
	// [ErrHTTP2]); ClientSessionCache defaults to one LRU cache per
	// Transport.
	TLSClientConfig *tls.Config

	// TLSHandshakeTimeout bounds the TLS handshake. Zero means 10s.
	TLSHandshakeTimeout time.Duration

	// ResponseHeaderTimeout bounds the wait for the response head once the
	// request head is written. Zero means no limit. Its error is a
	// [net.Error] whose Timeout method reports true.
	ResponseHeaderTimeout time.Duration

	// ExpectContinueTimeout bounds the wait for "100 Continue" when the
	// request has "Expect: 100-continue"; the body is sent when it ends.
	// Zero means 1s.
	ExpectContinueTimeout time.Duration

	// MaxIdleConnsPerHost caps the idle connections kept per scheme and
	// host:port. Zero means 256; negative means none are kept.
	MaxIdleConnsPerHost int

	// MaxConnsPerHost caps the connections per scheme and host:port, busy
	// and idle together. When it is reached, RoundTrip waits for one to be
	// free or for the request's context to end. Zero means no limit.
	MaxConnsPerHost int

	// IdleConnTimeout is how long a connection may stay idle and still be
	// reused. Zero means 90s.
	IdleConnTimeout time.Duration

	// MaxResponseHeaderBytes caps the size of a response head, and of a
	// chunked body's trailer section. Zero means 1 MiB.
	MaxResponseHeaderBytes int64

	initOnce sync.Once
	dialer   net.Dialer
	tlsBase  *tls.Config // clone of TLSClientConfig with NextProtos and session cache set

	mu    sync.RWMutex // guards pools and h2
	pools map[poolKey]*pool
	h2    map[poolKey]bool
}

// poolKey names a pool. By value: a struct key needs no string building.
type poolKey struct {
	tls  bool
	addr string // host:port
}

func (t *Transport) init() {
	t.dialer = net.Dialer{Timeout: defaultDialTimeout, KeepAlive: defaultKeepAlive}
	if t.TLSClientConfig != nil {
		t.tlsBase = t.TLSClientConfig.Clone()
	} else {
		t.tlsBase = &tls.Config{}
	}
	t.tlsBase.NextProtos = []string{"h2", "http/1.1"}
	if t.tlsBase.ClientSessionCache == nil {
		t.tlsBase.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
}

func (t *Transport) maxIdle() int {
	switch {
	case t.MaxIdleConnsPerHost == 0:
		return defaultMaxIdlePerHost
	case t.MaxIdleConnsPerHost < 0:
		return 0
	}
	return t.MaxIdleConnsPerHost
}

func (t *Transport) idleTimeout() time.Duration {
	if t.IdleConnTimeout > 0 {
		return t.IdleConnTimeout
	}
	return defaultIdleTimeout
}

func (t *Transport) maxHeaderBytes() int {
	if t.MaxResponseHeaderBytes > 0 {
		return int(min(t.MaxResponseHeaderBytes, 1<<30))
	}
	return defaultMaxHeaderBytes
}

func (t *Transport) expectTimeout() time.Duration {
	if t.ExpectContinueTimeout > 0 {
		return t.ExpectContinueTimeout
	}
	return defaultExpectTimeout
}

// CloseIdleConnections closes the idle connections. Busy ones are left alone.
func (t *Transport) CloseIdleConnections() {
	t.mu.RLock()
	pools := make([]*pool, 0, len(t.pools))
	for _, p := range t.pools {
		pools = append(pools, p)
	}
	t.mu.RUnlock()
	for _, p := range pools {
		p.closeIdle()
	}
}

func (t *Transport) pool(key poolKey) *pool {
	t.mu.RLock()
	p := t.pools[key]
	t.mu.RUnlock()
	if p != nil {
		return p
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p = t.pools[key]; p == nil {
		if t.pools == nil {
			t.pools = make(map[poolKey]*pool)
		}
		p = &pool{t: t, key: key}
		t.pools[key] = p
	}
	return p
}

func (t *Transport) isH2(key poolKey) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.h2[key]
}

func (t *Transport) markH2(key poolKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.h2 == nil {
		t.h2 = make(map[poolKey]bool)
	}
	t.h2[key] = true
}

// RoundTrip sends req and returns its response. The caller's goroutine does
// the work; see the package documentation.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.initOnce.Do(t.init)
	key, err := checkRequest(req)
	if err != nil {
		closeReqBody(req)
		return nil, err
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeReqBody(req)
		return nil, fmt.Errorf("h1: %w", err)
	}
	p := t.pool(key)
	body := req.Body
	for retried := false; ; retried = true {
		c, err := p.get(ctx)
		if err != nil {
			if !errors.Is(err, ErrHTTP2) {
				closeBody(body) // else the caller sends the untouched body over HTTP/2
			}
			return nil, err
		}
		res, err := c.roundTrip(req, body)
		if err == nil {
			return res, nil
		}
		rerr, _ := err.(*retryableError)
		if rerr != nil && !retried {
			if nb, ok := rewind(req, body, rerr); ok {
				if nb != body && !rerr.bodyOwn {
					closeBody(body)
				}
				body = nb
				continue
			}
		}
		if rerr != nil && !rerr.bodyOwn {
			closeBody(body)
		}
		return nil, unwrapRetryable(err)
	}
}

// checkRequest validates what RoundTrip writes and returns the pool key.
func checkRequest(req *http.Request) (poolKey, error) {
	u := req.URL
	if u == nil {
		return poolKey{}, errors.New("h1: nil Request.URL")
	}
	if req.Header == nil {
		return poolKey{}, errors.New("h1: nil Request.Header")
	}
	var key poolKey
	var port string
	switch u.Scheme {
	case "http":
		port = ":80"
	case "https":
		key.tls = true
		port = ":443"
	default:
		return poolKey{}, fmt.Errorf("h1: unsupported protocol scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return poolKey{}, errors.New("h1: no Host in request URL")
	}
	key.addr = u.Host
	if !hasPort(u.Host) {
		key.addr = u.Host + port // allocates only for URLs without a port
	}
	if !validToken(req.Method) && req.Method != "" {
		return poolKey{}, fmt.Errorf("h1: invalid method %q", req.Method)
	}
	if req.Method == http.MethodConnect {
		return poolKey{}, errors.New("h1: CONNECT is not supported")
	}
	host := req.Host
	if host == "" {
		host = u.Host
	}
	if !validHostHeader(host) {
		return poolKey{}, fmt.Errorf("h1: invalid Host %q", host)
	}
	if !validURIPart(u.RawQuery) || !validURIPart(u.Opaque) {
		return poolKey{}, fmt.Errorf("h1: invalid request URI %q", u.String())
	}
	for k, vv := range req.Header {
		if !validToken(k) {
			return poolKey{}, fmt.Errorf("h1: invalid header field name %q", k)
		}
		for _, v := range vv {
			if !validFieldValue(v) {
				return poolKey{}, fmt.Errorf("h1: invalid header field value for %q", k)
			}
		}
	}
	for k, vv := range req.Trailer {
		if !validToken(k) {
			return poolKey{}, fmt.Errorf("h1: invalid trailer field name %q", k)
		}
		for _, v := range vv {
			if !validFieldValue(v) {
				return poolKey{}, fmt.Errorf("h1: invalid trailer field value for %q", k)
			}
		}
	}
	if req.ContentLength < -1 {
		return poolKey{}, fmt.Errorf("h1: invalid ContentLength %d", req.ContentLength)
	}
	return key, nil
}

// hasPort reports whether host (a URL's Host, maybe a bracketed IPv6
// literal) ends in a port.
func hasPort(host string) bool {
	i := strings.LastIndexByte(host, ':')
	return i >= 0 && i > strings.LastIndexByte(host, ']')
}

// hasBody reports whether b is a body to send.
func hasBody(b io.ReadCloser) bool { return b != nil && b != http.NoBody }

func closeBody(b io.ReadCloser) {
	if hasBody(b) {
		b.Close()
	}
}

func closeReqBody(req *http.Request) { closeBody(req.Body) }

// retryableError marks a failure on a reused connection before any byte of
// the response arrived, with what the failed attempt did to the body.
type retryableError struct {
	err      error
	written  bool // some request bytes reached the socket
	bodyUsed bool // the body was read, in part or in full
	bodyOwn  bool // a helper goroutine still owns the body and will close it
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

func unwrapRetryable(err error) error {
	if e, ok := err.(*retryableError); ok {
		return e.err
	}
	return err
}

// rewind decides whether the attempt that failed with e may be replayed, and
// returns the body to send again. The rule: the request is idempotent,
// carries an idempotency key, or was never written; and its body is absent,
// untouched, or can be had again through GetBody.
func rewind(req *http.Request, body io.ReadCloser, e *retryableError) (io.ReadCloser, bool) {
	if !replayable(req.Method, req.Header, e.written) {
		return nil, false
	}
	if !hasBody(body) || !e.bodyUsed {
		return body, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	nb, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	return nb, true
}

// replayable is the method and header half of the retry rule.
func replayable(method string, h http.Header, written bool) bool {
	if !written {
		return true
	}
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, ok := h["Idempotency-Key"]
	if !ok {
		_, ok = h["X-Idempotency-Key"]
	}
	return ok
}

// isConnLost reports whether err says the peer closed or reset the
// connection, the signature of a stale keep-alive connection.
func isConnLost(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// dial opens a connection for key, TLS included.
func (t *Transport) dial(ctx context.Context, p *pool) (*conn, error) {
	if p.key.tls && t.isH2(p.key) {
		return nil, fmt.Errorf("h1: %s: %w", p.key.addr, ErrHTTP2)
	}
	dial := t.DialContext
	if dial == nil {
		dial = t.dialer.DialContext
	}
	nc, err := dial(ctx, "tcp", p.key.addr)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			return nil, fmt.Errorf("h1: dial: %w (%w)", cerr, err)
		}
		return nil, err
	}
	c := newConn(p, nc)
	if p.key.tls {
		if err := c.handshake(ctx, t); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *conn) handshake(ctx context.Context, t *Transport) error {
	cfg := t.tlsBase
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		host := c.pool.key.addr
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		cfg.ServerName = host
	}
	timeout := t.TLSHandshakeTimeout
	if timeout <= 0 {
		timeout = defaultTLSTimeout
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tc := tls.Client(c.nc, cfg)
	if err := tc.HandshakeContext(hctx); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("h1: tls handshake: %w (%w)", cerr, err)
		}
		if hctx.Err() != nil {
			return &timeoutError{"h1: tls handshake timeout"}
		}
		return err
	}
	st := tc.ConnectionState()
	if st.NegotiatedProtocol == "h2" {
		t.markH2(c.pool.key)
		tc.Close()
		return fmt.Errorf("h1: %s: %w", c.pool.key.addr, ErrHTTP2)
	}
	c.tlsState = &st
	c.setNetConn(tc)
	return nil
}

// timeoutError is a [net.Error] whose Timeout method reports true.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

var _ net.Error = (*timeoutError)(nil)
