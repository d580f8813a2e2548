package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

// RetryPolicy says when a [Proxy] sends a failed request again. Its zero
// value is usable: three attempts, with the defaults below. The rules that
// no policy changes are on [Proxy].
type RetryPolicy struct {
	// Attempts is the most attempts a request gets, the first included.
	// Zero means 3; 1 or less means no retries.
	Attempts int

	// Backoff is the base of the wait before a retry: before retry n the
	// proxy waits a random time between 0 and Backoff·2ⁿ⁻¹, capped at
	// MaxBackoff ("full jitter"). Zero means 25ms.
	Backoff time.Duration
	// MaxBackoff caps the wait before a retry, and is the longest
	// Retry-After that is honoured. Zero means 1s.
	MaxBackoff time.Duration

	// PerAttemptTimeout limits each attempt, from its start to the end of
	// its response body, as Proxy.Timeout limits the whole request. An
	// attempt that passes it before its response head may be retried.
	// Zero means no limit of its own. Like Timeout, it never limits a
	// protocol upgrade.
	PerAttemptTimeout time.Duration

	// Budget caps the retries at this share of the requests, counted over
	// the last 10 seconds, so that retries cannot multiply the load on
	// upstreams that fail. Zero means 0.2; negative means no share, only
	// MinRetriesPerSecond.
	Budget float64
	// MinRetriesPerSecond is the number of retries allowed each second
	// whatever the Budget says, so that light traffic can retry too. Zero
	// means 10; negative means none.
	MinRetriesPerSecond int

	// MaxBodyBytes bounds the request body that is kept to be sent again,
	// in bytes. A request with a larger body is sent once, its body
	// streamed, except after a failure to connect that read none of it.
	// Zero means 64 KiB. The body is read on the handler's goroutine
	// before the first attempt: Proxy.Timeout does not bound that read,
	// the server's read timeout does.
	MaxBodyBytes int64

	// On reports whether an attempt, by its outcome, is worth another. It
	// is asked on the handler's goroutine about each attempt that is not
	// already final (attempts left, the client still there, no 1xx
	// forwarded), before anything of its response is written; Status is 0
	// when no response head came. The method and body rules apply after
	// it. Nil: [RetryOnDefault].
	On func(Outcome) bool
}

// RetryOnDefault is the default [RetryPolicy.On]. It retries a failure to
// connect or a timeout before any response byte, and a 502, 503 or 504
// response.
func RetryOnDefault(o Outcome) bool {
	switch o.Status {
	case 0:
		return o.Class == balancer.ConnectionError || o.Class == balancer.Timeout
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// The defaults of RetryPolicy.
const (
	defaultRetryAttempts     = 3
	defaultRetryBackoff      = 25 * time.Millisecond
	defaultRetryMaxBackoff   = time.Second
	defaultRetryBudget       = 0.2
	defaultRetryMinPerSecond = 10
	defaultRetryMaxBody      = 64 << 10

	// retryDrainBytes is the most of a discarded response's body that is
	// read, so that its connection can serve again; longer bodies are
	// closed unread.
	retryDrainBytes = 4 << 10
	// maxPooledReplay is the largest replay buffer kept for reuse.
	maxPooledReplay = 1 << 20
)

// retrySettings is a RetryPolicy with its defaults applied, copied when the
// Proxy is first used so that the caller's struct is never changed.
type retrySettings struct {
	attempts   int
	backoff    time.Duration
	maxBackoff time.Duration
	perAttempt time.Duration
	maxBody    int64
	on         func(Outcome) bool
}

func (p *Proxy) initRetry() {
	rp := p.Retry
	if rp == nil {
		return
	}
	s := retrySettings{
		attempts:   rp.Attempts,
		backoff:    rp.Backoff,
		maxBackoff: rp.MaxBackoff,
		perAttempt: rp.PerAttemptTimeout,
		maxBody:    rp.MaxBodyBytes,
		on:         rp.On,
	}
	if s.attempts == 0 {
		s.attempts = defaultRetryAttempts
	}
	if s.backoff <= 0 {
		s.backoff = defaultRetryBackoff
	}
	if s.maxBackoff <= 0 {
		s.maxBackoff = defaultRetryMaxBackoff
	}
	if s.maxBody <= 0 {
		s.maxBody = defaultRetryMaxBody
	}
	if s.on == nil {
		s.on = RetryOnDefault
	}
	p.retry = s

	ratio, minPerSec := rp.Budget, int64(rp.MinRetriesPerSecond)
	if ratio == 0 {
		ratio = defaultRetryBudget
	}
	if minPerSec == 0 {
		minPerSec = defaultRetryMinPerSecond
	}
	p.budget.ratio, p.budget.minPerSec = max(ratio, 0), max(minPerSec, 0)
}

// serveRetry is ServeHTTP's pipeline from the balancer pick on, for a Proxy
// with a RetryPolicy: attempts follow one another until one is final, and
// only the final one writes to w.
func (p *Proxy) serveRetry(w http.ResponseWriter, r *http.Request) {
	rs := &p.retry
	p.budget.request(time.Now())

	upType := upgradeType(r.Header)
	ctx := r.Context()
	if p.Timeout > 0 && upType == "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}

	// The body is kept for the next attempts only when one may be made
	// after the upstream read some of it.
	var rp *replay
	if idempotent(r) && r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 && r.ContentLength <= rs.maxBody {
		var err error
		if rp, err = readReplay(r, rs.maxBody); err != nil {
			p.fail(w, r, err)
			return
		}
		defer rp.release()
	}

	tr := triedSets.Get().(*triedSet)
	defer tr.release()

	u, tickets, err := p.admit(r, nil)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	// From its admission on, an upstream counts the attempt in flight, the
	// wait before a retry included, so that Drain, ejection and the load
	// of the policies see it. What is open is recorded by the deferred
	// call should a panic in user code (Rewrite, RetryPolicy.On, a Balancer
	// or a Breaker) skip the normal path.
	u.Begin()
	var (
		live    *attempt // made and not yet recorded
		pending = true   // u admitted and begun, its attempt not made yet

		next        *balancer.Upstream // admitted for the attempt after live
		nextTickets admission
		nextHeld    bool // next admitted, its tickets not yet handed on to u
	)
	defer func() {
		switch {
		case live != nil:
			p.finish(live, tickets)
		case pending:
			p.abandon(u, tickets)
		}
		if nextHeld {
			p.breakersDone(next, nextTickets, Outcome{Class: balancer.Canceled}, time.Now())
		}
	}()
	for n := 1; ; n++ {
		tr.add(u)
		a := newAttempt(p, u)
		live, pending = a, false
		actx, cancel := ctx, context.CancelFunc(nil)
		if rs.perAttempt > 0 && upType == "" {
			actx, cancel = context.WithTimeout(ctx, rs.perAttempt)
		}
		res, out, err := a.send(actx, w, r, upType, rp)

		wait, again := p.retryable(ctx, r, a, n, res, out, err, rp)
		if again {
			// Admitted before this answer is dropped: if no attempt can
			// follow, this one is final. The retry comes out of the
			// budget only once it is admitted.
			var aerr error
			next, nextTickets, aerr = p.admit(r, tr.others(p.Upstreams))
			switch {
			case aerr != nil:
				again = false
			case !p.budget.withdraw(time.Now()):
				again = false
				p.breakersDone(next, nextTickets, Outcome{Class: balancer.Canceled}, time.Now())
			default:
				nextHeld = true
			}
		}
		if !again {
			live = nil // deliverFinal records it, panic or not
			p.deliverFinal(w, r, a, tickets, res, out, err, upType, cancel)
			return
		}

		if res != nil {
			discard(res)
			a.reusable = true // the body is closed: the transport is done with out
		}
		if out != nil && out.Body != nil {
			out.Body.Close()
		}
		if cancel != nil {
			cancel()
		}
		p.logRetry(r, a, n, err)
		live = nil
		p.finish(a, tickets)

		u, tickets, pending, nextHeld = next, nextTickets, true, false
		u.Begin()
		if !sleep(ctx, wait) {
			pending = false
			p.abandon(u, tickets) // admitted, never made
			err := fmt.Errorf("%w: %w", ErrUpstreamTimeout, context.Cause(ctx))
			if r.Context().Err() != nil {
				err = fmt.Errorf("%w: %w", ErrClientGone, context.Cause(r.Context()))
			}
			p.fail(w, r, &Error{Op: "retry", Upstream: u.URL.Host, Err: err})
			return
		}
	}
}

// abandon records an attempt at u that was admitted and begun but never
// made, as canceled, for the upstream and the breaker.
func (p *Proxy) abandon(u *balancer.Upstream, t admission) {
	o, now := Outcome{Class: balancer.Canceled}, time.Now()
	u.DoneAt(o, now)
	p.breakersDone(u, t, o, now)
}

// deliverFinal writes the final attempt's answer to w and records it.
func (p *Proxy) deliverFinal(w http.ResponseWriter, r *http.Request, a *attempt, t admission, res *http.Response, out *http.Request, err error, upType string, cancel context.CancelFunc) {
	// Deferred, as in ServeHTTP, for http.ErrAbortHandler.
	defer p.finish(a, t)
	if cancel != nil {
		defer cancel()
	}
	if out != nil && out.Body != nil {
		defer out.Body.Close()
	}
	a.deliver(w, r, res, err, upType)
}

// retryable reports whether attempt a, the nth at r, may be followed by
// another, and how long to wait before it. ctx is the request's, within
// Proxy.Timeout. The budget is asked once the next attempt is admitted.
func (p *Proxy) retryable(ctx context.Context, r *http.Request, a *attempt, n int, res *http.Response, out *http.Request, err error, rp *replay) (time.Duration, bool) {
	rs := &p.retry
	if n >= rs.attempts || ctx.Err() != nil {
		return 0, false
	}
	if a.o.Class == balancer.Canceled || a.o.Class == balancer.Refused {
		return 0, false
	}
	if res != nil && res.StatusCode == http.StatusSwitchingProtocols {
		return 0, false
	}
	a.mu1xx.Lock()
	forwarded := a.forwarded1xx
	a.mu1xx.Unlock()
	if forwarded {
		return 0, false
	}
	if !rs.on(a.o) {
		return 0, false
	}
	switch {
	case idempotent(r) && (r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody || rp != nil && rp.rest == nil):
		// Safe to repeat, and the body, if any, is at hand.
	case err != nil && dialFailed(err) && bodyUntouched(out):
		// Nothing reached the upstream.
	default:
		return 0, false
	}

	wait := rs.jitter(n)
	if res != nil && (res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusTooManyRequests) {
		if v := res.Header.Get("Retry-After"); v != "" {
			if d, ok := parseRetryAfter(v, time.Now()); ok {
				if d > rs.maxBackoff {
					return 0, false // not worth waiting for here
				}
				wait = max(wait, d)
			}
		}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
		return 0, false // no time left for another attempt
	}
	return wait, true
}

// jitter returns the wait before retry n ("full jitter"): a random time up
// to backoff·2ⁿ⁻¹, capped at maxBackoff.
func (s *retrySettings) jitter(n int) time.Duration {
	ceil := s.maxBackoff
	// Compared shifted right, so that a large backoff cannot overflow.
	if shift := n - 1; shift < 63 && s.backoff <= ceil>>shift {
		ceil = s.backoff << shift
	}
	return rand.N(ceil + 1)
}

// sleep waits d, or until ctx ends; it reports whether the wait was whole.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// logRetry records at Debug that attempt a, the nth at r, was dropped for
// another.
func (p *Proxy) logRetry(r *http.Request, a *attempt, n int, err error) {
	lg := p.Logger
	if lg == nil {
		lg = slog.Default()
	}
	if !lg.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("attempt", n),
		slog.String("upstream", a.u.URL.Host),
		slog.Int("status", a.o.Status),
		slog.String("class", a.o.Class.String()),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	lg.LogAttrs(r.Context(), slog.LevelDebug, "proxy: attempt retried", attrs...)
}

// idempotent reports whether r may be sent twice: its method is idempotent
// (RFC 9110 section 9.2.2) or it carries an idempotency key.
func idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return len(r.Header["Idempotency-Key"]) > 0 || len(r.Header["X-Idempotency-Key"]) > 0
}

// dialFailed reports whether err is a failure to open the connection, so
// that not one byte of the request was written.
func dialFailed(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// bodyUntouched reports whether out's body, if any, was never read, so that
// the client's body can still be sent whole.
func bodyUntouched(out *http.Request) bool {
	if out == nil || out.Body == nil {
		return true
	}
	switch b := out.Body.(type) {
	case *inboundBody:
		return !b.read.Load()
	case *replayBody:
		return !b.read.Load()
	}
	return false // Rewrite put a body of its own
}

// discard drops a response that is to be retried: a short body is read so
// that the connection can be reused, a longer one closed unread.
func discard(res *http.Response) {
	if res.ContentLength >= 0 && res.ContentLength <= retryDrainBytes {
		bp := copyBufs.Get().(*[]byte)
		io.CopyBuffer(io.Discard, io.LimitReader(res.Body, retryDrainBytes), *bp)
		copyBufs.Put(bp)
	}
	res.Body.Close()
}

// parseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date,
// as a wait from now.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// budgetWindow is the number of one-second buckets that the retry budget
// counts requests and retries over.
const budgetWindow = 10

// retryBudget caps retries at a share of the requests over the last
// budgetWindow seconds, with a floor of minPerSec retries each second.
type retryBudget struct {
	ratio     float64
	minPerSec int64

	mu      sync.Mutex // guards buckets, whose counts must agree with their second
	buckets [budgetWindow]budgetBucket
}

type budgetBucket struct{ sec, requests, retries int64 }

// bucket returns the bucket of second sec, emptied if it held an older
// second. The caller holds b.mu.
func (b *retryBudget) bucket(sec int64) *budgetBucket {
	k := &b.buckets[uint64(sec)%budgetWindow]
	if k.sec != sec {
		*k = budgetBucket{sec: sec}
	}
	return k
}

// request counts a request made at now.
func (b *retryBudget) request(now time.Time) {
	b.mu.Lock()
	b.bucket(now.Unix()).requests++
	b.mu.Unlock()
}

// withdraw takes one retry from the budget at now, if it has one.
func (b *retryBudget) withdraw(now time.Time) bool {
	sec := now.Unix()
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.bucket(sec)
	if cur.retries < b.minPerSec {
		cur.retries++
		return true
	}
	var requests, retries int64
	for i := range b.buckets {
		if k := &b.buckets[i]; k.sec > sec-budgetWindow && k.sec <= sec {
			requests += k.requests
			retries += k.retries
		}
	}
	if float64(retries+1) > b.ratio*float64(requests) {
		return false
	}
	cur.retries++
	return true
}

// triedSet holds the upstreams a request has tried, and the list of the
// others that the Balancer is offered; pooled, so that a retry costs no
// allocation for them.
type triedSet struct {
	tried []*balancer.Upstream
	rest  []*balancer.Upstream
}

var triedSets = sync.Pool{New: func() any {
	return &triedSet{tried: make([]*balancer.Upstream, 0, 4), rest: make([]*balancer.Upstream, 0, 8)}
}}

func (t *triedSet) add(u *balancer.Upstream) {
	if !slices.Contains(t.tried, u) {
		t.tried = append(t.tried, u)
	}
}

// others returns the healthy upstreams of pool not tried yet, or all the
// healthy ones when every one has been tried.
func (t *triedSet) others(pool *balancer.Pool) []*balancer.Upstream {
	if pool == nil {
		return nil
	}
	healthy := pool.Healthy()
	t.rest = t.rest[:0]
	for _, u := range healthy {
		if !slices.Contains(t.tried, u) {
			t.rest = append(t.rest, u)
		}
	}
	if len(t.rest) == 0 {
		return healthy
	}
	return t.rest
}

func (t *triedSet) release() {
	clear(t.tried)
	clear(t.rest[:cap(t.rest)])
	t.tried, t.rest = t.tried[:0], t.rest[:0]
	triedSets.Put(t)
}

// replay holds the start of a request body, read before the first attempt
// so that each attempt can send it again.
type replay struct {
	bp   *[]byte   // pooled backing array of body
	body []byte    // what was read of the client's body
	rest io.Reader // the client's body past body when it did not all fit; nil when body is all of it

	mu   sync.Mutex // guards done against reads of body
	done bool       // body is going back to the pool: no more reads
}

var replayBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// readReplay reads r's body up to limit+1 bytes. A body that does not fit
// is left to be streamed after what was read.
func readReplay(r *http.Request, limit int64) (*replay, error) {
	bp := replayBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow
		}
		end := int64(cap(buf))
		if end > limit+1 {
			end = limit + 1
		}
		n, err := r.Body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = buf[:0]
			replayBufs.Put(bp)
			return nil, bodyError(r, err)
		}
	}
	*bp = buf
	rp := &replay{bp: bp, body: buf}
	if int64(len(buf)) > limit {
		// Over the limit, even if the body ended there: never retried.
		rp.rest = r.Body
	}
	return rp, nil
}

// bodyError classifies a failure to read the client's body.
func bodyError(r *http.Request, err error) error {
	var mbe *http.MaxBytesError
	switch {
	case r.Context().Err() != nil:
		err = fmt.Errorf("%w: %w", ErrClientGone, err)
	case !errors.As(err, &mbe):
		err = fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return &Error{Op: "read request body", Err: err}
}

// setBody gives out, the outbound copy of r, a body that reads from rp.
func (rp *replay) setBody(out, r *http.Request) {
	if rp.rest != nil {
		out.Body = &replayBody{rp: rp, rest: rp.rest} // r's length, streamed
		out.GetBody = nil
		return
	}
	if len(r.Trailer) == 0 {
		out.ContentLength = int64(len(rp.body)) // a chunked body is now of known length
	}
	if len(rp.body) == 0 && len(r.Trailer) == 0 {
		out.Body, out.GetBody = nil, nil
		return
	}
	out.Body = &replayBody{rp: rp}
	out.GetBody = rp.getBody
}

func (rp *replay) getBody() (io.ReadCloser, error) { return &replayBody{rp: rp}, nil }

// release ends every read of rp's buffer and puts it back in the pool.
func (rp *replay) release() {
	rp.mu.Lock()
	rp.done = true
	rp.mu.Unlock()
	if cap(rp.body) <= maxPooledReplay {
		*rp.bp = rp.body[:0]
		replayBufs.Put(rp.bp)
	}
}

// replayBody is one attempt's view of a replay: the bytes kept, then the
// rest of the client's body if it did not fit. Like inboundBody, its Close
// leaves the client's body open.
type replayBody struct {
	rp     *replay
	off    int
	rest   io.Reader
	closed atomic.Bool
	read   atomic.Bool
}

func (b *replayBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, errInboundBodyClosed
	}
	if !b.read.Load() {
		b.read.Store(true)
	}
	if b.off < len(b.rp.body) {
		b.rp.mu.Lock()
		defer b.rp.mu.Unlock()
		if b.rp.done {
			return 0, errInboundBodyClosed
		}
		n := copy(p, b.rp.body[b.off:])
		b.off += n
		return n, nil
	}
	if b.rest == nil {
		return 0, io.EOF
	}
	return b.rest.Read(p)
}

func (b *replayBody) Close() error {
	b.closed.Store(true)
	return nil
}
