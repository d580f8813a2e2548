package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/vivremotion/gateway/internal/errs"
)

// Middleware limits requests per key in front of a handler. Build it with
// [NewMiddleware], or use [PerKey] for the common case. Only a Limiter (or
// Tiers) is required; every other field's zero value works.
type Middleware struct {
	// Limiter decides each request. Required unless Tiers is set.
	Limiter Limiter
	// Tiers, when not nil, chooses the Limiter per request by the client's
	// plan or tenant, and Limiter is ignored.
	Tiers *Tiers
	// Key builds the limiter key. Nil: [ByIP], the connection's peer.
	Key KeyFunc
	// Cost returns what a request spends. Nil: 1 per request. A negative
	// cost is a bug of Cost: such a request is answered with 500 (the
	// ErrorHandler gets [ErrCost]), never passed on, whatever FailOpen says.
	Cost func(r *http.Request) int64
	// MaxWait, when positive, throttles instead of refusing: a request that
	// will fit within MaxWait books its slot and waits for it, in arrival
	// order per key; one that will not is refused at once. The Limiter (each
	// of them, with Tiers) must then be a [Reserver]. A client that leaves
	// while it waits gives back what no later booking needs of its slot
	// (see [Reserver]). A waiting request holds one timer while it waits;
	// allowed and refused requests use none. Zero: refuse at once.
	MaxWait time.Duration
	// Headers chooses the rate limit headers. Zero: [HeadersDraft].
	Headers Headers
	// Policy names the policy in the structured headers. Empty: "default",
	// or the tier's name with Tiers. The name (or each tier's) must be
	// printable ASCII, which the headers' sf-string can hold; a quote or a
	// backslash is escaped.
	Policy string
	// FailOpen lets requests through when the Limiter returns an error (a
	// shared store that cannot be reached). False: such requests are
	// refused with 503, the safe side for a limit that protects something.
	// A negative cost is never let through (see Cost).
	FailOpen bool
	// ErrorHandler, when not nil, writes the refusals: a [*Refusal] (429),
	// the Limiter's error wrapped in a [*LimiterError] (503), or [ErrCost]
	// for a negative cost (a bug, for a 500). The
	// gateway's WriteError fits as it is. The rate limit headers and
	// Retry-After are set before it is called. Nil: a JSON body of the form
	// {"error":{"type":"rate_limited","message":"too many requests"}}.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Refusal is the error a refused request gets. It wraps the gateway's
// ErrRateLimited, and its RetryAfter method tells the gateway's
// WriteError what to send as Retry-After.
type Refusal struct {
	Decision Decision
}

// Error describes the refusal.
func (e *Refusal) Error() string {
	if e.Decision.CostTooHigh {
		return errs.ErrRateLimited.Error() + ": request cost exceeds the limit"
	}
	return errs.ErrRateLimited.Error()
}

// Unwrap returns the gateway's ErrRateLimited.
func (e *Refusal) Unwrap() error { return errs.ErrRateLimited }

// RetryAfter returns when the request may be tried again.
func (e *Refusal) RetryAfter() time.Duration { return e.Decision.RetryAfter }

// LimiterError is a Limiter's failure to decide, for the ErrorHandler.
type LimiterError struct{ Err error }

// Error describes the failure.
func (e *LimiterError) Error() string { return "ratelimit: limiter failed: " + e.Err.Error() }

// Unwrap returns the Limiter's error.
func (e *LimiterError) Unwrap() error { return e.Err }

// Is reports whether target is the gateway's ErrLimiterUnavailable, so
// that its error mapping answers 503 without a type assertion.
func (e *LimiterError) Is(target error) bool { return target == errs.ErrLimiterUnavailable }

// PerKey returns a middleware that refuses requests l does not allow, keyed
// by key (nil: [ByIP]), with the draft rate limit headers. It panics when l
// is nil.
func PerKey(l Limiter, key KeyFunc) func(http.Handler) http.Handler {
	mw, err := NewMiddleware(Middleware{Limiter: l, Key: key})
	if err != nil {
		panic(err)
	}
	return mw
}

// NewMiddleware returns the middleware m describes. It fails when no
// Limiter is given, when Tiers is incomplete, when a policy name is not
// printable ASCII, or when MaxWait is set and a Limiter is not a
// [Reserver]. m is copied; changing it later has no effect.
func NewMiddleware(m Middleware) (func(http.Handler) http.Handler, error) {
	if m.MaxWait < 0 {
		return nil, fmt.Errorf("ratelimit: MaxWait %v is negative", m.MaxWait)
	}
	c := &config{m: m, key: m.Key}
	c.m.Tiers = nil // read once here: later changes to the caller's Tiers have no effect
	if c.key == nil {
		c.key = ByIP
	}
	name := m.Policy
	if m.Tiers != nil {
		if err := m.Tiers.check(); err != nil {
			return nil, err
		}
		c.tierOf = m.Tiers.Of
		c.tiers = make(map[string]*limit, len(m.Tiers.Limits))
		for tier, l := range m.Tiers.Limits {
			n := name
			if n == "" {
				n = tier
			}
			lim, err := c.newLimit(l, n)
			if err != nil {
				return nil, fmt.Errorf("ratelimit: tier %q: %w", tier, err)
			}
			c.tiers[tier] = lim
		}
		m.Limiter = m.Tiers.Default
	}
	if m.Limiter == nil {
		return nil, errors.New("ratelimit: Middleware has no Limiter")
	}
	if name == "" {
		name = "default"
	}
	var err error
	if c.def, err = c.newLimit(m.Limiter, name); err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return &handler{config: c, next: next}
	}, nil
}

// config is a Middleware made ready, shared by every handler it wraps.
type config struct {
	m      Middleware
	key    KeyFunc
	def    *limit
	tierOf func(*http.Request) string
	tiers  map[string]*limit
}

// limit is one Limiter with what is prepared for it.
type limit struct {
	l      Limiter
	res    Reserver // l as a Reserver, when MaxWait is set
	name   string   // the policy's name, escaped for an sf-string
	policy []string
}

func (c *config) newLimit(l Limiter, name string) (*limit, error) {
	name, err := sfString(name)
	if err != nil {
		return nil, err
	}
	lim := &limit{l: l, name: name, policy: policyValue(name, l)}
	if c.m.MaxWait > 0 {
		res, ok := l.(Reserver)
		if !ok {
			return nil, fmt.Errorf("ratelimit: MaxWait is set but %T is not a Reserver", l)
		}
		lim.res = res
	}
	return lim, nil
}

// sfString returns name escaped as the inside of a structured field
// string (RFC 8941): a quote or a backslash gets a backslash. It fails for
// a byte that is not printable ASCII, which an sf-string cannot hold.
func sfString(name string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("ratelimit: policy name %q is not printable ASCII", name)
		}
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

func (c *config) limitOf(r *http.Request) *limit {
	if c.tiers != nil {
		if lim, ok := c.tiers[c.tierOf(r)]; ok {
			return lim
		}
	}
	return c.def
}

type handler struct {
	*config
	next http.Handler
}

// keyBuf is a pooled buffer for keys.
type keyBuf struct{ b []byte }

var keyBufs = sync.Pool{New: func() any { return &keyBuf{b: make([]byte, 0, 128)} }}

func putKeyBuf(kb *keyBuf) {
	if cap(kb.b) <= 4<<10 { // a huge key's buffer is left to the collector
		keyBufs.Put(kb)
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lim := h.limitOf(r)
	cost := int64(1)
	if h.m.Cost != nil {
		if cost = h.m.Cost(r); cost < 0 {
			h.badCost(w, r)
			return
		}
	}
	kb := keyBufs.Get().(*keyBuf)
	kb.b = h.key(kb.b[:0], r)
	// The key lives in the pooled buffer until it is put back, after the
	// last limiter call; the Limiter contract allows no longer.
	key := unsafe.String(unsafe.SliceData(kb.b), len(kb.b))
	var d Decision
	var err error
	if lim.res != nil {
		d, err = lim.res.Reserve(r.Context(), key, cost, h.m.MaxWait)
		if err == nil && d.Allowed && d.Delay > 0 {
			if !sleep(r.Context(), d.Delay) {
				lim.res.Cancel(key, cost, d.Booking)
				putKeyBuf(kb)
				return // the client left: nothing to write
			}
			d.Reset = max(0, d.Reset-d.Delay)
		}
	} else {
		d, err = lim.l.Allow(r.Context(), key, cost)
	}
	putKeyBuf(kb)
	if err != nil {
		if h.m.FailOpen {
			h.next.ServeHTTP(w, r)
			return
		}
		h.fail(w, r, err)
		return
	}
	setHeaders(w.Header(), h.m.Headers, lim.name, lim.policy, d)
	if !d.Allowed {
		h.refuse(w, r, d)
		return
	}
	h.next.ServeHTTP(w, r)
}

// sleep waits d, or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (h *handler) refuse(w http.ResponseWriter, r *http.Request, d Decision) {
	if h.m.ErrorHandler != nil {
		h.m.ErrorHandler(w, r, &Refusal{Decision: d})
		return
	}
	body := bodyLimited
	if d.CostTooHigh {
		body = bodyTooCostly
	}
	writeBody(w, r, http.StatusTooManyRequests, body)
}

// badCost answers a request whose Cost func returned a negative cost.
func (h *handler) badCost(w http.ResponseWriter, r *http.Request) {
	if h.m.ErrorHandler != nil {
		h.m.ErrorHandler(w, r, ErrCost)
		return
	}
	writeBody(w, r, http.StatusInternalServerError, bodyBadCost)
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h.m.ErrorHandler != nil {
		h.m.ErrorHandler(w, r, &LimiterError{Err: err})
		return
	}
	writeBody(w, r, http.StatusServiceUnavailable, bodyUnavailable)
}

// The JSON error bodies, in the shape of the gateway's WriteError, with
// their header values ready.
var (
	bodyLimited     = newBody("rate_limited", "too many requests")
	bodyTooCostly   = newBody("rate_limited", "request cost exceeds the limit")
	bodyUnavailable = newBody("unavailable", "rate limiter unavailable")
	bodyBusy        = newBody("unavailable", "service unavailable")
	bodyBadCost     = newBody("internal_error", "invalid request cost")
	contentType     = []string{"application/json"}
	noSniff         = []string{"nosniff"}
)

type body struct {
	b      []byte
	length []string
}

func newBody(typ, msg string) body {
	b := []byte(`{"error":{"type":`)
	b = strconv.AppendQuote(b, typ)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, msg)
	b = append(b, "}}\n"...)
	return body{b: b, length: []string{strconv.Itoa(len(b))}}
}

// writeBody writes an error response. The header values are shared,
// read-only slices of capacity one: no allocation.
func writeBody(w http.ResponseWriter, r *http.Request, status int, b body) {
	h := w.Header()
	h["Content-Type"] = contentType[:1:1]
	h["X-Content-Type-Options"] = noSniff[:1:1]
	h["Content-Length"] = b.length[:1:1]
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b.b)
	}
}

// AllowRequest asks l about r, keyed by key (nil: [ByIP]) at cost. It builds
// the key in a pooled buffer and passes it to l for the call alone, as the
// [Limiter] contract allows, so that it allocates nothing of its own. It is
// how a handler other than [Middleware] (the gateway's Proxy, say) consults
// a Limiter with a [KeyFunc].
func AllowRequest(r *http.Request, l Limiter, key KeyFunc, cost int64) (Decision, error) {
	if key == nil {
		key = ByIP
	}
	kb := keyBufs.Get().(*keyBuf)
	kb.b = key(kb.b[:0], r)
	d, err := l.Allow(r.Context(), unsafe.String(unsafe.SliceData(kb.b), len(kb.b)), cost)
	putKeyBuf(kb)
	return d, err
}
