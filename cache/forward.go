package cache

import (
	"bufio"
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// flight is a request gone forward for a key, whose response the other
// requests for that key wait for rather than going forward too.
type flight struct {
	done chan struct{} // closed when entry and status are set
	// entry is the response the leader stored, nil when it stored none;
	// status is the status the origin answered. When failed, the origin
	// answered an error that stale-if-error covers, and entry is the stale
	// response the leader served instead.
	entry  *Entry
	status int
	failed bool
}

// join returns the flight in progress for key, or starts one; leader
// reports whether the caller started it (and must land it).
func (h *Handler) join(key string) (fl *flight, leader bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if fl := h.flights[key]; fl != nil {
		return fl, false
	}
	fl = &flight{done: make(chan struct{})}
	h.flights[key] = fl
	return fl, true
}

// land ends fl, the flight for key, with what it stored, or with the
// stale entry served when failed.
func (h *Handler) land(key string, fl *flight, e *Entry, status int, failed bool) {
	h.mu.Lock()
	if h.flights[key] == fl {
		delete(h.flights, key)
	}
	h.mu.Unlock()
	fl.entry, fl.status, fl.failed = e, status, failed
	close(fl.done)
}

// coalescable reports whether r, going forward as d says, may lead or
// follow a flight: a GET the cache looked up, for a whole response, and,
// unless r is validating a stored response, not conditional (the answer to
// a client's own conditional request cannot serve others).
func coalescable(r *http.Request, l lookup, d Decision) bool {
	if r.Method != http.MethodGet || d.Fwd == FwdBypass || len(r.Header["Range"]) > 0 {
		return false
	}
	if l.e != nil && validates(d) {
		return true
	}
	for _, f := range [...]string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since"} {
		if len(r.Header[f]) > 0 {
			return false
		}
	}
	return true
}

// validates reports whether a request forwarded as d says is made
// conditional on the stored entry.
func validates(d Decision) bool { return d.Action == MustValidate || d.Action == StaleIfError }

// follow waits for fl, up to CoalesceWait, and answers r with what it
// stored, when that may answer r, or with 504 when r's context ends first;
// it reports false when r must go forward itself.
func (h *Handler) follow(w http.ResponseWriter, r *http.Request, fl *flight, d Decision) bool {
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case <-fl.done:
	case <-t.C:
		return false
	case <-r.Context().Done():
		// Its deadline passed, or its client left, while it waited: 504,
		// not an empty 200, and no trip to the origin for nobody.
		hdr := w.Header()
		hdr["Cache-Status"] = h.status(Status{Fwd: d.Fwd, Detail: "coalesce-wait"})
		hdr["Content-Type"] = []string{"text/plain; charset=utf-8"}
		w.WriteHeader(http.StatusGatewayTimeout)
		io.WriteString(w, "the request ended while it waited for the same resource\n")
		return true
	}
	e := fl.entry
	if e == nil || !e.Matches(r) {
		return false
	}
	if fl.failed {
		// The origin failed the leader; stale-if-error lets this request
		// have the stale response too, rather than ask again.
		if d.Action != StaleIfError {
			return false
		}
		age := e.Age(time.Now())
		h.serveEntry(w, r, e, age, h.status(Status{Fwd: FwdStale, FwdStatus: fl.status, Collapsed: true, TTL: e.Lifetime - age, HasTTL: true}))
		return true
	}
	dd := h.policy.Decide(r, e, time.Now())
	if !dd.Action.Serves() {
		return false
	}
	h.serveEntry(w, r, e, dd.Age, h.status(Status{Fwd: d.Fwd, FwdStatus: fl.status, Collapsed: true}))
	return true
}

// forward sends r on to next, as d says, and stores what may be stored.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, next http.Handler, l lookup, d Decision) {
	x := &exchange{h: h, w: w, r: r, l: l, d: d, gen: h.gen(l.primary).Load()}
	if h.wait > 0 && coalescable(r, l, d) {
		fl, leader := h.join(l.primary)
		if !leader {
			if h.follow(w, r, fl, d) {
				return
			}
		} else {
			x.fl = fl
		}
	}
	defer x.land() // also when next panics: the followers must not wait on
	out := r
	if l.e != nil && validates(d) {
		out = r.Clone(r.Context())
		SetConditional(out.Header, l.e)
	}
	x.header = make(http.Header)
	x.sent = time.Now()
	next.ServeHTTP(x, out)
	x.finish(next)
}

// mode is what an exchange does with the response it is given.
type mode uint8

const (
	// undecided: no head yet.
	undecided mode = iota
	// pass: the response goes to the client, and is kept to be stored
	// when it may be.
	pass
	// notModified: a 304 to the cache's own conditional request; the
	// stored response is updated and served instead.
	notModified
	// failed: an error under stale-if-error; the stale response is served
	// instead.
	failed
)

// exchange is the http.ResponseWriter that next writes a forwarded
// response into: it passes the response to the client (w, nil for a
// background revalidation), keeps a copy of a response to be stored, and
// holds back a 304 to the cache's own conditional request or an error
// that stale-if-error covers.
type exchange struct {
	h   *Handler
	w   http.ResponseWriter
	r   *http.Request // the client's request
	l   lookup
	d   Decision
	fl  *flight // the flight x leads, if any
	gen uint64  // the invalidation count of the key when x began

	// header is what next writes the head into: a map of x's own, so that
	// what handlers before the cache set in w's (rate limit or CORS
	// fields of this client) is never stored.
	header   http.Header
	sent     time.Time
	received time.Time
	status   int
	mode     mode
	entry    *Entry // the entry being kept, without its body yet
	body     []byte
	stored   *Entry // what was stored
	hijacked bool   // next took the connection: there is no response
}

// Header returns the header map the response's head is written into.
func (x *exchange) Header() http.Header { return x.header }

// WriteHeader decides what becomes of the response from its status and
// head, and writes the head to the client when the response passes.
func (x *exchange) WriteHeader(code int) {
	if x.status != 0 {
		return
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		x.informational(code)
		return
	}
	x.status, x.received = code, time.Now()
	switch {
	case x.l.e != nil && validates(x.d) && code == http.StatusNotModified:
		x.mode = notModified
		return
	case x.l.e != nil && x.d.Action == StaleIfError && staleIfErrorStatus(code):
		x.mode = failed
		return
	}
	x.mode = pass
	x.entry = x.keep(code)
	if x.entry == nil {
		x.land() // the followers need not wait for the body
	}
	if x.w == nil {
		return
	}
	h := x.w.Header()
	for k, vs := range x.header {
		if len(h[k]) == 0 {
			h[k] = vs
		} else {
			h[k] = append(h[k][:len(h[k]):len(h[k])], vs...)
		}
	}
	s := Status{Cache: x.h.name, Fwd: x.d.Fwd, FwdStatus: code}
	if x.entry != nil {
		s.Stored, s.TTL, s.HasTTL = true, x.entry.Lifetime-x.entry.Age(x.received), true
	}
	cs := h["Cache-Status"]
	h["Cache-Status"] = append(cs[:len(cs):len(cs)], s.String())
	x.w.WriteHeader(code)
}

// informational passes a 1xx response (103 Early Hints) to the client, with
// the fields next set for it, which do not stay for the final response.
func (x *exchange) informational(code int) {
	if x.w == nil {
		return
	}
	h := x.w.Header()
	before := maps.Clone(h)
	maps.Copy(h, x.header)
	x.w.WriteHeader(code)
	clear(h)
	maps.Copy(h, before)
}

// staleIfErrorStatus reports whether stale-if-error covers an answer with
// status code (RFC 5861 4).
func staleIfErrorStatus(code int) bool {
	return code == 500 || code == 502 || code == 503 || code == 504
}

// keep returns the entry for a response with status code and x.header
// when it is to be stored, nil otherwise: when [Policy.Storable] allows
// it, its announced length fits MaxBody, it announces no trailers, and it
// is fresh or can be validated.
func (x *exchange) keep(code int) *Entry {
	if x.r.Method != http.MethodGet || x.invalidated() {
		return nil
	}
	if len(x.header["Trailer"]) > 0 {
		return nil // trailers are not stored: the response would be served without them
	}
	res := &http.Response{StatusCode: code, Header: x.header, ContentLength: -1}
	if cl := x.header["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
			res.ContentLength = n
		}
	}
	if res.ContentLength > x.h.maxBody || !x.h.policy.Storable(x.r, res) {
		return nil
	}
	if x.staleOnArrival(code) {
		// With nothing to validate it by, it could only ever be fetched
		// again whole. Most API responses, which carry no freshness, are
		// such: they cost no copy of their header.
		return nil
	}
	e := x.h.policy.NewEntry(x.r, res, nil, x.sent, x.received)
	if len(e.Vary) > 0 && e.Vary[0] == "*" {
		// It answers no request, and what was stored is outdated.
		x.h.purge(context.WithoutCancel(x.r.Context()), x.l.primary)
		return nil
	}
	if res.ContentLength >= 0 {
		x.body = make([]byte, 0, res.ContentLength)
	}
	return e
}

// staleOnArrival reports whether the response with status code and
// x.header is stale when it arrives and has no validator (ETag or
// Last-Modified), as [Policy.NewEntry] would compute it, without making
// the entry.
func (x *exchange) staleOnArrival(code int) bool {
	h := x.header
	if len(h["Etag"]) > 0 || len(h["Last-Modified"]) > 0 {
		return false
	}
	p := x.h.policy
	date := dateOf(h, x.received)
	life, _ := p.FreshnessLifetime(h, code, p.ResponseDirectives(h), date)
	return life <= correctedInitialAge(x.sent, x.received, date, age(h))
}

// Write passes p to the client, keeping a copy when the response is to be
// stored.
func (x *exchange) Write(p []byte) (int, error) {
	if x.status == 0 {
		x.WriteHeader(http.StatusOK)
	}
	if x.mode != pass {
		return len(p), nil // held back: the client gets the stored response
	}
	if x.entry != nil {
		if int64(len(x.body))+int64(len(p)) > x.h.maxBody {
			x.entry, x.body = nil, nil // too large: streamed, not stored
			x.land()
		} else {
			x.body = append(x.body, p...)
		}
	}
	if x.w == nil {
		return len(p), nil
	}
	return x.w.Write(p)
}

// Flush sends what was written so far to the client. A response that is
// not being stored, or is an event stream, whose end may be far off,
// releases the requests waiting for it, which go forward themselves at
// once; one being stored keeps them (up to CoalesceWait), since the gateway's
// Proxy flushes the head of every response of unknown length.
func (x *exchange) Flush() {
	if x.status == 0 {
		x.WriteHeader(http.StatusOK)
	}
	if x.entry == nil || strings.HasPrefix(x.header.Get("Content-Type"), "text/event-stream") {
		x.land()
	}
	if x.mode != pass || x.w == nil {
		return
	}
	if f, ok := x.w.(http.Flusher); ok {
		f.Flush()
		return
	}
	http.NewResponseController(x.w).Flush()
}

// Unwrap returns the client's ResponseWriter, for
// [http.ResponseController].
func (x *exchange) Unwrap() http.ResponseWriter { return x.w }

// Hijack hands the client's connection to next, which then answers on it
// alone: nothing is stored and nothing more is written.
func (x *exchange) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if x.w == nil {
		return nil, nil, http.ErrNotSupported
	}
	c, rw, err := http.NewResponseController(x.w).Hijack()
	if err == nil {
		x.hijacked, x.entry, x.body = true, nil, nil
		x.land()
		// next writes the response itself now, from Header: give it the
		// fields set before the cache, as a head through x would have had.
		for k, vs := range x.w.Header() {
			x.header[k] = append(vs[:len(vs):len(vs)], x.header[k]...)
		}
	}
	return c, rw, err
}

// land ends the flight x leads, if it has not ended yet.
func (x *exchange) land() {
	if fl := x.fl; fl != nil {
		x.fl = nil
		x.h.land(x.l.primary, fl, x.stored, x.status, false)
	}
}

// invalidated reports whether an unsafe method invalidated x's key since x
// began.
func (x *exchange) invalidated() bool { return x.h.gen(x.l.primary).Load() != x.gen }

// store puts e, the response to x.r, unless the key was invalidated while
// x was forward, and reports whether it did. An invalidation that comes
// between the check and the put is seen after it, and undone.
func (x *exchange) store(ctx context.Context, e *Entry) bool {
	if x.invalidated() {
		return false
	}
	x.h.put(ctx, x.l.primary, x.r, e)
	if x.invalidated() {
		x.h.purge(ctx, x.l.primary)
		return false
	}
	return true
}

// finish completes the exchange once next has returned: it stores the
// response kept, or serves the stored one in place of what was held back.
func (x *exchange) finish(next http.Handler) {
	if x.hijacked {
		return
	}
	if x.status == 0 {
		x.WriteHeader(http.StatusOK) // what net/http sends for a silent handler
	}
	// The client may be gone: what is stored is for the others.
	ctx := func() context.Context { return context.WithoutCancel(x.r.Context()) }
	switch x.mode {
	case pass:
		if x.entry != nil && x.complete() {
			x.entry.Body = x.body
			if len(x.entry.Header["Content-Length"]) == 0 {
				x.entry.Header["Content-Length"] = []string{strconv.Itoa(len(x.body))}
			}
			if x.store(ctx(), x.entry) {
				x.stored = x.entry
			}
		}
		if x.w != nil {
			x.copyTrailers()
		}
	case notModified:
		x.notModified(ctx(), next)
	case failed:
		e := x.l.e
		if fl := x.fl; fl != nil {
			x.fl = nil
			x.h.land(x.l.primary, fl, e, x.status, true)
		}
		if x.w == nil {
			return
		}
		age := e.Age(time.Now())
		x.h.serveEntry(x.w, x.r, e, age, x.h.status(Status{Fwd: FwdStale, FwdStatus: x.status, TTL: e.Lifetime - age, HasTTL: true}))
	}
	x.land()
}

// complete reports whether the body kept is the whole body the head
// announced.
func (x *exchange) complete() bool {
	cl := x.entry.Header["Content-Length"]
	return len(cl) == 0 || cl[0] == strconv.Itoa(len(x.body))
}

// copyTrailers copies to the client the trailers next set in x.header
// after the head went out.
func (x *exchange) copyTrailers() {
	h := x.w.Header()
	declared := x.header["Trailer"]
	for k, vs := range x.header {
		if strings.HasPrefix(k, http.TrailerPrefix) || listed(declared, k) {
			h[k] = vs
		}
	}
}

// listed reports whether the comma-separated lists name k, in any case.
func listed(lists []string, k string) bool {
	for _, l := range lists {
		if hasField(l, k) {
			return true
		}
	}
	return false
}

// notModified handles a 304 to the cache's conditional request: it updates
// and stores the entry, and serves it. A 304 that selects no stored
// response (its validator is not the entry's, RFC 9111 4.3.4) leaves the
// entry alone, and the client's request goes forward again as it came. A
// 304 with no validator at all is taken for the one entry the request was
// made conditional on: RFC 9110 15.4.5 does not ask a 304 to repeat
// Last-Modified, and an entry with only that would otherwise never be
// refreshed.
func (x *exchange) notModified(ctx context.Context, next http.Handler) {
	res := &http.Response{StatusCode: http.StatusNotModified, Header: x.header}
	e := x.l.e
	noValidator := len(x.header["Etag"]) == 0 && len(x.header["Last-Modified"]) == 0
	if !noValidator && len(SelectForUpdate([]*Entry{e}, res)) == 0 {
		if x.w == nil {
			return
		}
		x.land()
		y := &exchange{h: x.h, w: x.w, r: x.r, l: lookup{primary: x.l.primary}, d: Decision{Action: Miss, Fwd: x.d.Fwd}, gen: x.gen}
		y.header, y.sent = make(http.Header), time.Now()
		next.ServeHTTP(y, x.r)
		y.finish(next)
		return
	}
	n, keep := x.h.policy.Freshen(e, res, x.sent, x.received)
	switch {
	case !keep:
		x.h.purge(ctx, x.l.storageKey())
	case x.store(ctx, n):
		x.stored = n
	}
	if x.w == nil {
		return
	}
	x.land()
	now := time.Now()
	age := n.Age(now)
	s := Status{Fwd: x.d.Fwd, FwdStatus: http.StatusNotModified}
	if x.stored != nil {
		s.Stored, s.TTL, s.HasTTL = true, n.Lifetime-age, true
	}
	x.h.serveEntry(x.w, x.r, n, age, x.h.status(s))
}
