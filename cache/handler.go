package cache

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Store keeps entries; package cache/store has one in memory and one in
// Redis. Get returns the entry stored under key, if any; Set stores e
// under key. A [Handler] decides what is stored and what is served: a
// Store only keeps entries, and may drop any of them at any time.
//
// Get must not keep key once it returns: a Handler passes a key built in a
// reused buffer, so that a hit allocates nothing. The entry Get returns is
// shared with other requests and must not be modified, nor the one given
// to Set once it is stored.
//
// A Store that also has a method Purge(ctx, key) (n int, err error), as
// package store's do, gets the invalidations of RFC 9111 4.4 (an unsafe
// method's response removes what is stored for its target) and loses the
// entries that a revalidation shows may no longer be stored. Without one,
// such entries stay until they expire.
type Store interface {
	Get(ctx context.Context, key string) (*Entry, bool)
	Set(ctx context.Context, key string, e *Entry)
}

// purger is the optional Purge of a Store.
type purger interface {
	Purge(ctx context.Context, key string) (int, error)
}

// Config configures a [Handler]. Only Store is required.
type Config struct {
	// Store keeps the entries. Required.
	Store Store
	// Policy holds the choices RFC 9111 leaves to a cache; its zero value
	// is a shared cache.
	Policy Policy
	// Name is the cache's name in Cache-Status (RFC 9211), a token. Empty
	// means "gateway".
	Name string
	// MaxBody is the largest response body, in bytes, that is stored;
	// larger bodies stream through to the client and are not stored. Zero
	// means 1 MiB. Negative is an error.
	MaxBody int64
	// BackgroundTimeout bounds each background revalidation (RFC 5861
	// stale-while-revalidate). Zero means 30 seconds. Negative is an error.
	BackgroundTimeout time.Duration
	// MaxBackground bounds the background revalidations in flight at
	// once; a stale hit beyond it is served without starting one (the next
	// stale hit tries again). Zero means 64. Negative is an error.
	MaxBackground int
	// CoalesceWait bounds how long a request waits for the response to
	// another request for the same key (a concurrent miss) before going
	// forward itself, so that a slow client leading a download does not
	// hold up the others for long. Zero means 5 seconds; negative turns
	// coalescing off.
	CoalesceWait time.Duration
	// Origin returns the scheme and host a request is for, as the handler
	// behind the cache sees them; they begin its key, so that responses
	// for different origins are never confused. Nil means the request's
	// own: "https" when it arrived over TLS, "http" otherwise, and its
	// Host. Behind a proxy that terminates TLS and says so in
	// X-Forwarded-Proto, which the handler behind the cache reads (to
	// redirect plain http, or to build links), return that scheme, or an
	// http response would be served to https clients and the reverse. The
	// gateway's Proxy sets it from the first value of the trusted
	// X-Forwarded-Proto and X-Forwarded-Host it passes on (not from a
	// Forwarded field, which it passes on too: an upstream that reads
	// Forwarded rather than X-Forwarded-* must name what it depends on in
	// Vary). It is called for every request and
	// must not allocate to keep hits free of allocations.
	Origin func(r *http.Request) (scheme, host string)
	// Logger receives a record for each background revalidation that
	// fails. Nil means [slog.Default].
	Logger *slog.Logger
}

// Defaults of [Config].
const (
	defaultName              = "gateway"
	defaultMaxBody           = 1 << 20
	defaultBackgroundTimeout = 30 * time.Second
	defaultMaxBackground     = 64
	defaultCoalesceWait      = 5 * time.Second
)

// Handler is an RFC 9111 shared cache in front of an [http.Handler]: as
// [Handler.Middleware] before any handler, or through [Handler.Serve], as
// the gateway's Proxy uses it. It is safe for concurrent use. Build it
// with [New]; [Handler.Close] stops its background revalidations.
//
// For each GET or HEAD it looks up the stored response (the variant that
// matches the request's Vary fields) and does what [Policy.Decide] says:
//
//   - serves it, fresh or, when the request or the response allows it,
//     stale, with its Age, and answers the client's own conditional
//     request (304) and Range request (206) from it;
//   - on a stale-while-revalidate hit, also refreshes it in the
//     background, one revalidation per key at a time;
//   - forwards a request made conditional on it ([SetConditional]), and
//     on a 304 serves it updated ([Policy.Freshen]) and stores it again;
//     with stale-if-error, serves it stale when the origin answers 500,
//     502, 503 or 504 (as the Proxy does when it cannot reach one);
//   - answers only-if-cached with 504 when it has nothing to serve;
//   - otherwise forwards the request and stores the response when
//     [Policy.Storable] allows it and its body fits MaxBody.
//
// Concurrent misses of one key are coalesced: one request goes forward,
// the others wait for its response and are served what it stored, or go
// forward themselves as soon as its head shows it will not be stored.
// Requests with Authorization or Upgrade are not looked up (their
// responses are still stored when RFC 9111 3.5 allows), and a connection
// next hijacks (a WebSocket) is left to it. A response to an
// unsafe method (POST, PUT, DELETE, PATCH...) that is not an error removes
// what is stored for its target and for a same-origin Location or
// Content-Location ([Invalidates]), when the Store can Purge.
//
// Every response that passes the Handler carries a Cache-Status member
// ([Status]); those served from the store carry their Age. The member of
// a forwarded response goes out with its head, so "stored" there says the
// response is being stored: one of unknown length that then passes MaxBody,
// or ends short, is not. Header values
// of a response served from the store are shared with the store and other
// requests: a handler or middleware after the Handler may replace them but
// must not modify them in place.
type Handler struct {
	store     Store
	purger    purger // nil when the store cannot purge
	policy    Policy
	name      string
	hit       []string // the Cache-Status of a fresh hit
	maxBody   int64
	bgTimeout time.Duration
	wait      time.Duration // CoalesceWait; negative: no coalescing
	origin    func(*http.Request) (scheme, host string)
	logger    *slog.Logger

	bgCtx    context.Context // canceled by Close
	bgCancel context.CancelFunc
	bgSlots  chan struct{} // one per background revalidation in flight
	bg       sync.WaitGroup

	// gens counts the invalidations of the keys that hash to each slot:
	// a response whose key's count moved while it was forward is not
	// stored, since what it says may be older than the invalidation. A
	// collision only costs a response that is not stored.
	gens [256]atomic.Uint64
	seed maphash.Seed

	mu           sync.Mutex
	flights      map[string]*flight  // misses in flight, by primary key
	revalidating map[string]struct{} // storage keys with a background revalidation
	closed       bool
}

// New returns a Handler configured by c. It fails when c has no Store or
// a negative bound.
func New(c Config) (*Handler, error) {
	switch {
	case c.Store == nil:
		return nil, errors.New("cache: Config.Store is nil")
	case c.MaxBody < 0:
		return nil, errors.New("cache: negative MaxBody")
	case c.BackgroundTimeout < 0:
		return nil, errors.New("cache: negative BackgroundTimeout")
	case c.MaxBackground < 0:
		return nil, errors.New("cache: negative MaxBackground")
	}
	h := &Handler{
		store:     c.Store,
		policy:    c.Policy,
		name:      c.Name,
		maxBody:   c.MaxBody,
		bgTimeout: c.BackgroundTimeout,
		wait:      c.CoalesceWait,
		origin:    c.Origin,
		logger:    c.Logger,
	}
	if h.wait == 0 {
		h.wait = defaultCoalesceWait
	}
	h.purger, _ = c.Store.(purger)
	h.seed = maphash.MakeSeed()
	if h.name == "" {
		h.name = defaultName
	}
	if h.maxBody == 0 {
		h.maxBody = defaultMaxBody
	}
	if h.bgTimeout == 0 {
		h.bgTimeout = defaultBackgroundTimeout
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	n := c.MaxBackground
	if n == 0 {
		n = defaultMaxBackground
	}
	h.bgSlots = make(chan struct{}, n)
	h.hit = []string{Status{Cache: h.name, Hit: true}.String()}
	h.bgCtx, h.bgCancel = context.WithCancel(context.Background())
	h.flights = make(map[string]*flight)
	h.revalidating = make(map[string]struct{})
	return h, nil
}

// Middleware returns next behind the cache.
func (h *Handler) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Serve(w, r, next) })
}

// Close cancels the background revalidations in flight, waits for them to
// end, and starts no more. Requests are still served afterwards.
func (h *Handler) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.bgCancel()
	h.bg.Wait()
}

// keyBuf holds a key being built, so that a lookup allocates nothing.
type keyBuf struct{ b []byte }

var keyBufs = sync.Pool{New: func() any { return &keyBuf{b: make([]byte, 0, 256)} }}

// maxPooledKey bounds the buffers kept in keyBufs.
const maxPooledKey = 4 << 10

func releaseKeyBuf(k *keyBuf) {
	if cap(k.b) <= maxPooledKey {
		k.b = k.b[:0]
		keyBufs.Put(k)
	}
}

// transient returns b as a string without copying: it must not outlive
// b's next change, which is why only Store.Get sees it.
func transient(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Serve answers r from the cache or through next, as described on
// [Handler].
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		h.serveOther(w, r, next)
		return
	case len(r.Header["Authorization"]) > 0 || len(r.Header["Upgrade"]) > 0:
		// Not looked up; the response is stored where RFC 9111 3.5
		// allows, and a switch of protocols (101, then the connection
		// hijacked) passes through.
		h.forward(w, r, next, lookup{primary: string(h.appendKey(nil, r))}, Decision{Action: Miss, Fwd: FwdBypass})
		return
	}
	kb := keyBufs.Get().(*keyBuf)
	defer releaseKeyBuf(kb)
	kb.b = h.appendKey(kb.b[:0], r)
	l := h.lookup(r.Context(), kb, r)
	now := time.Now()
	d := h.policy.Decide(r, l.e, now)
	if l.e == nil && l.marker != nil {
		d.Fwd = FwdVaryMiss
	}
	switch d.Action {
	case Fresh:
		h.serveEntry(w, r, l.e, d.Age, h.hit)
		return
	case StaleOK, StaleWhileRevalidate:
		if d.Action == StaleWhileRevalidate {
			h.revalidate(r, l.keys(kb), l.e, next)
		}
		h.serveEntry(w, r, l.e, d.Age, h.status(Status{Hit: true, TTL: d.TTL, HasTTL: true}))
		return
	case GatewayTimeout:
		h.gatewayTimeout(w, r)
		return
	}
	h.forward(w, r, next, l.keys(kb), d)
}

// appendKey appends to dst the primary key of r: that of a GET of its
// target, since a HEAD is answered by the GET.
func (h *Handler) appendKey(dst []byte, r *http.Request) []byte {
	if h.origin == nil {
		return appendKey(dst, http.MethodGet, r)
	}
	scheme, host := h.origin(r)
	return appendKeyAt(dst, http.MethodGet, scheme, host, r.URL)
}

// invalidates lists what the response res to r invalidates
// ([Invalidates]), at r's origin.
func (h *Handler) invalidates(r *http.Request, res *http.Response) []string {
	if h.origin == nil {
		return Invalidates(r, res)
	}
	scheme, host := h.origin(r)
	return invalidates(r, res, scheme, host)
}

// lookup is what a lookup found: the entry that may answer the request,
// if any, and the variant index under the primary key, if any.
type lookup struct {
	e      *Entry
	marker *Entry
	// primary and variant are the keys: the primary key of the request,
	// and the key e is stored under when it is a variant. They are set
	// by keys, once the request goes forward, so that a hit allocates
	// neither.
	primary, variant string
	primaryLen       int // the length of the primary key in the buffer
}

// lookup finds in the store what may answer r, whose primary key is in
// kb; on return kb holds the primary key, followed, when the primary key
// holds a variant index, by the rest of the variant's key.
func (h *Handler) lookup(ctx context.Context, kb *keyBuf, r *http.Request) lookup {
	l := lookup{primaryLen: len(kb.b)}
	e, ok := h.store.Get(ctx, transient(kb.b))
	if !ok || e == nil {
		return l
	}
	if !isIndex(e) {
		l.e = e
		return l
	}
	l.marker = e
	kb.b = appendVariantKey(kb.b, e, r)
	if v, ok := h.store.Get(ctx, transient(kb.b)); ok && v != nil && !isIndex(v) && v.Matches(r) {
		l.e = v
	}
	return l
}

// keys returns l with its keys copied out of kb.
func (l lookup) keys(kb *keyBuf) lookup {
	l.primary = string(kb.b[:l.primaryLen])
	if l.marker != nil {
		l.variant = string(kb.b)
	}
	return l
}

// storageKey returns the key l.e is stored under.
func (l lookup) storageKey() string {
	if l.variant != "" {
		return l.variant
	}
	return l.primary
}

// status returns s, named after h, as a header value.
func (h *Handler) status(s Status) []string {
	s.Cache = h.name
	return []string{s.String()}
}

// gen returns the invalidation count of key's slot.
func (h *Handler) gen(key string) *atomic.Uint64 {
	return &h.gens[maphash.String(h.seed, key)%uint64(len(h.gens))]
}

// purge removes what is stored under key, when the store can.
func (h *Handler) purge(ctx context.Context, key string) {
	if h.purger != nil {
		h.purger.Purge(ctx, key)
	}
}
