package gateway

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

// Mirror copies a share of a [Proxy]'s requests to a shadow pool of
// upstreams, to try a new version on live traffic. The copies are sent in
// the background, after the request's own body has been read, and their
// responses are thrown away: a Mirror never delays, changes or fails the
// requests it copies. Each copy runs on a goroutine of its own, at most
// MaxConcurrent at once, for at most Proxy.Timeout (30 seconds when that is
// zero), through transports of the Mirror's own; the shadow upstreams'
// counters record each copy's [Outcome], and the Breaker never sees them.
type Mirror struct {
	// Upstreams is the shadow pool. Nil or empty: nothing is mirrored.
	Upstreams *balancer.Pool

	// Percent is the share of requests copied, from 0 to 100. Zero means
	// 100, every request; negative means none.
	Percent float64

	// MaxConcurrent bounds the copies in flight; a request that comes when
	// they are all busy is not copied. Zero means 16.
	MaxConcurrent int

	// MaxBodyBytes bounds the request body that is copied, in bytes. A
	// request whose body is larger, or of unknown length, is not copied.
	// Zero means 64 KiB.
	MaxBodyBytes int64
}

// The defaults of Mirror.
const (
	defaultMirrorConcurrent = 16
	defaultMirrorMaxBody    = 64 << 10
	// mirrorTimeout bounds a copy when Proxy.Timeout does not.
	mirrorTimeout = 30 * time.Second
	// mirrorDrainBytes is the most of a shadow's response that is read,
	// so that its connection can be reused.
	mirrorDrainBytes = 64 << 10
)

// mirrorState is a Mirror with its defaults applied and what it runs on.
type mirrorState struct {
	pool     *balancer.Pool
	percent  float64
	maxBody  int64
	timeout  time.Duration
	slots    chan struct{} // one token per copy in flight
	inflight atomic.Int64  // copies in flight, for tests and metrics
	rr       balancer.RoundRobin
	tr       *http.Transport // http:// and https://
	h2c      *http.Transport // h2c://
}

func (p *Proxy) initMirror(d *net.Dialer) {
	m := p.Mirror
	if m == nil || m.Upstreams == nil {
		return
	}
	s := &mirrorState{
		pool:    m.Upstreams,
		percent: m.Percent,
		maxBody: m.MaxBodyBytes,
		timeout: p.Timeout,
	}
	if s.percent == 0 {
		s.percent = 100
	}
	if s.maxBody <= 0 {
		s.maxBody = defaultMirrorMaxBody
	}
	if s.timeout <= 0 {
		s.timeout = mirrorTimeout
	}
	n := m.MaxConcurrent
	if n <= 0 {
		n = defaultMirrorConcurrent
	}
	s.slots = make(chan struct{}, n)
	s.tr = &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   n,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   d.Timeout,
		ResponseHeaderTimeout: s.timeout,
		DisableCompression:    true,
	}
	if p.TLSClientConfig != nil {
		s.tr.TLSClientConfig = p.TLSClientConfig.Clone()
	}
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	s.h2c = &http.Transport{
		DialContext:        d.DialContext,
		Protocols:          &protos,
		IdleConnTimeout:    90 * time.Second,
		DisableCompression: true,
	}
	p.mirror = s
}

// start decides whether r is copied. When it is, it returns the
// request to forward in r's place, whose body keeps a copy, and the copy
// to finish with mirrorSend once the forwarding is over; otherwise r and
// nil.
func (m *mirrorState) start(r *http.Request) (*http.Request, *mirrorCopy) {
	if m.percent < 100 && rand.Float64()*100 >= m.percent {
		return r, nil
	}
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	if hasBody && (r.ContentLength < 0 || r.ContentLength > m.maxBody) {
		return r, nil
	}
	if len(m.slots) == cap(m.slots) {
		return r, nil // all busy now: this one is not copied
	}
	if upgradeType(r.Header) != "" {
		return r, nil // a tunnel is no request to repeat
	}
	c := &mirrorCopy{r: r}
	if !hasBody {
		return r, c
	}
	c.body = make([]byte, 0, r.ContentLength)
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = &teeBody{rc: r.Body, c: c}
	return r2, c
}

// mirrorCopy is one request on its way to the shadow pool.
type mirrorCopy struct {
	r *http.Request

	// Guards the fields below: a transport may still read the body in a
	// goroutine of its own when the primary is over.
	mu     sync.Mutex
	body   []byte // the body as the primary read it
	eof    bool   // the primary read all of it
	sealed bool   // send has taken body: no more is added
}

// teeBody keeps what is read of a body, up to its capacity, in a copy.
type teeBody struct {
	rc io.ReadCloser
	c  *mirrorCopy
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sealed {
		return n, err
	}
	if n > 0 {
		if len(c.body)+n > cap(c.body) {
			c.eof, c.sealed = false, true // more than announced: not sent
			return n, err
		}
		c.body = append(c.body, p[:n]...)
	}
	if err == io.EOF {
		c.eof = true
	}
	return n, err
}

func (t *teeBody) Close() error { return t.rc.Close() }

// send hands c to a goroutine that sends it to the shadow pool, if the
// body went through whole. It is called once the primary is done with the
// request: the body is not read any more.
func (m *mirrorState) send(c *mirrorCopy, p *Proxy) {
	r := c.r
	c.mu.Lock()
	whole := c.eof && int64(len(c.body)) == r.ContentLength
	c.sealed = true
	c.mu.Unlock()
	if r.ContentLength > 0 && !whole {
		return // the primary did not read the body whole
	}
	u := m.rr.Pick(r, m.pool.Healthy())
	if u == nil {
		return
	}
	// The slot is taken only now, for the copy in flight: a primary that
	// lasts (a stream, a slow upload) holds none.
	select {
	case m.slots <- struct{}{}:
	default:
		return // all busy: this one is not copied
	}
	// Built as the primary's outbound request is, Rewrite and
	// X-Forwarded-* included, with the body that was kept.
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	a := newAttempt(p, u)
	out, err := a.outbound(ctx, r, "", nil)
	if err != nil {
		cancel()
		<-m.slots
		return
	}
	out.Body, out.GetBody, out.Trailer = nil, nil, nil
	out.ContentLength = int64(len(c.body))
	if len(c.body) > 0 {
		out.Body = io.NopCloser(bytes.NewReader(c.body))
	}
	a.noUserAgent(out)
	m.inflight.Add(1)
	go m.run(a, out, cancel)
}

// run sends out, attempt a's request, and throws the answer away. It owns
// a slot, and gives it back when done.
func (m *mirrorState) run(a *attempt, out *http.Request, cancel context.CancelFunc) {
	defer func() {
		cancel()
		m.inflight.Add(-1)
		<-m.slots
	}()
	u := a.u
	tr := m.tr
	if u.URL.Scheme == "h2c" {
		tr = m.h2c
	}
	u.Begin()
	res, err := tr.RoundTrip(out)
	a.o.TTFB = time.Since(a.start)
	if err != nil {
		a.o.Class = balancer.ConnectionError
		if out.Context().Err() != nil {
			a.o.Class = balancer.Timeout
		}
	} else {
		a.o.Status = res.StatusCode
		if res.StatusCode >= 500 {
			a.o.Class = balancer.ServerError
		}
		io.Copy(io.Discard, io.LimitReader(res.Body, mirrorDrainBytes))
		res.Body.Close()
	}
	a.o.Duration = time.Since(a.start)
	u.Done(a.o)
	if err == nil {
		// The body is closed: the transport is done with out.
		a.mu1xx.Lock()
		a.reusable, a.wrote = true, true
		a.mu1xx.Unlock()
		a.release()
	}
}
