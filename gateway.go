package gateway

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Middleware wraps an [http.Handler] in another. It is an alias, not a new
// type, so that middleware written for net/http, chi or otelhttp plugs in
// without conversion.
type Middleware = func(http.Handler) http.Handler

// Chain composes middleware into one. The first listed runs outermost: it
// sees the request first and the response last. Chain() returns its
// argument unchanged.
func Chain(mw ...Middleware) Middleware {
	mw = append([]Middleware(nil), mw...) // the caller may reuse its slice
	return func(h http.Handler) http.Handler {
		for i := len(mw) - 1; i >= 0; i-- {
			h = mw[i](h)
		}
		return h
	}
}

// Config configures a [Gateway]. The zero value is ready to use.
type Config struct {
	// Logger receives the gateway's own log lines (route changes, at
	// debug level). Nil means [slog.Default].
	Logger *slog.Logger
	// ErrorHandler writes the gateway's own error responses: 404 when no
	// route matches, 405 (with Allow) when routes match the path but not
	// the method, and 400 for a path that cannot be routed. The error is
	// an [*Error] with Op "route" wrapping [ErrNotFound],
	// [ErrMethodNotAllowed] or [ErrBadRequest]. Nil means [WriteError].
	ErrorHandler ErrorHandler
}

// Gateway is an [http.Handler] that sends each request to the most
// specific of its routes (see [Route] for patterns and precedence),
// through the global middleware added with [Gateway.Use].
//
// Routes and middleware may be added while the gateway serves: each
// change builds a new routing table and swaps it in whole, so that
// ServeHTTP takes no lock and a request sees either the table before a
// change or the one after it. Adding a route costs time proportional to
// the number of routes for the conflict check, and copies only the part
// of the table on the new route's path.
//
// The zero Gateway is ready to use, as New(Config{}) is.
//
// # Performance
//
// Choosing a route allocates nothing: the path is walked in place through
// a segment trie, hosts are looked up in a map, predicates read the
// request's header map and raw query directly, and a variant is picked
// with math/rand/v2. A route without wildcards is served with no
// allocation at all. A route with wildcards stores their values with
// [http.Request.SetPathValue], whose map net/http allocates on the first
// value of each request (two allocations, 336 bytes, with Go 1.26); that
// cost is net/http's, and is measured apart by BenchmarkSetPathValue.
// Query predicates with a Regexp allocate to unescape a value that holds
// "%" or "+".
type Gateway struct {
	cfg Config

	// mu serializes changes: it guards routes, global and the stores to
	// table and chain. Readers never take it.
	mu     sync.Mutex
	routes []*entry // in registration order; never modified in place
	global []Middleware

	table atomic.Pointer[table]
	chain atomic.Pointer[chained] // global middleware around dispatch; nil means none
}

// chained holds the global middleware chain, so that an atomic pointer
// can hold an interface.
type chained struct{ h http.Handler }

// New returns a Gateway with no routes, configured by a copy of cfg: later
// changes to the caller's Config have no effect.
func New(cfg Config) *Gateway {
	return &Gateway{cfg: cfg}
}

// Use adds global middleware. It runs for every request, including those
// answered with 404, 405, 400 or a redirect, around the route's own
// middleware; the first listed runs outermost, and middleware added by an
// earlier call runs outside that of a later one. Each call builds the
// global chain anew, calling every global middleware again.
// Use panics on a nil middleware.
func (g *Gateway) Use(mw ...Middleware) {
	for _, m := range mw {
		if m == nil {
			panic("gateway: Use of nil middleware")
		}
	}
	g.mu.Lock()
	global := append(g.global[:len(g.global):len(g.global)], mw...)
	g.global = global
	g.mu.Unlock()
	// Built outside the lock: the middleware is the user's code. Two
	// concurrent calls may finish out of order, so the later build only
	// wins if it holds all the middleware.
	h := Chain(global...)((*dispatcher)(g))
	for {
		old := g.chain.Load()
		g.mu.Lock()
		current := len(g.global) == len(global)
		g.mu.Unlock()
		if !current {
			return // a later Use builds a longer chain
		}
		if g.chain.CompareAndSwap(old, &chained{h}) {
			return
		}
	}
}

// Handle adds a route for pattern (see [Route] for the syntax) served by h
// through the route middleware mw, the first listed outermost. It panics
// if the pattern is malformed, h is nil, or the route conflicts with one
// already added, as [http.ServeMux.Handle] does; use [Gateway.Route] to
// get an error instead.
func (g *Gateway) Handle(pattern string, h http.Handler, mw ...Middleware) {
	if err := g.Route(Route{Pattern: pattern, Handler: h, Middleware: mw}); err != nil {
		panic(err)
	}
}

// HandleFunc is [Gateway.Handle] for a handler function.
func (g *Gateway) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request), mw ...Middleware) {
	var h http.Handler
	if f != nil {
		h = http.HandlerFunc(f)
	}
	g.Handle(pattern, h, mw...)
}

// Route adds rt. It returns an error, and leaves the gateway as it was,
// when rt is invalid (a malformed pattern, a bad predicate or regular
// expression, no handler, bad variants) or when it duplicates or
// conflicts with a route already added (see [Route] for precedence).
func (g *Gateway) Route(rt Route) error {
	e, err := compile(rt) // calls the route middleware: not under the lock
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, old := range g.routes {
		if err := conflict(old, e); err != nil {
			return err
		}
	}
	e.seq = len(g.routes)
	routes := append(g.routes[:len(g.routes):len(g.routes)], e) // copy on write
	g.table.Store(g.table.Load().with(e))
	g.routes = routes
	g.logger().Debug("gateway: route added", "pattern", e.pattern, "priority", e.priority, "routes", len(routes))
	return nil
}

func (g *Gateway) logger() *slog.Logger {
	if g.cfg.Logger != nil {
		return g.cfg.Logger
	}
	return slog.Default()
}

// ServeHTTP sends r through the global middleware to the most specific
// route, or answers it with a redirect or an error (see [Config]). Before
// calling the route's handler it sets r.Pattern to the route's pattern and
// the values of its wildcards (see [http.Request.PathValue]).
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c := g.chain.Load(); c != nil {
		c.h.ServeHTTP(w, r)
		return
	}
	(*dispatcher)(g).ServeHTTP(w, r)
}

// dispatcher is the Gateway seen as the handler inside the global
// middleware: a conversion, so that it costs no allocation.
type dispatcher Gateway

func (d *dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := (*Gateway)(d)
	p, escaped := routingPath(r.URL)
	switch checkPath(p, escaped) {
	case pathBad:
		g.fail(w, r, &Error{Op: "route", Err: ErrBadRequest})
		return
	case pathUnclean:
		redirectClean(w, r)
		return
	}
	m := matcher{r: r, method: r.Method, host: requestHost(r.Host), path: p, escaped: escaped}
	t := g.table.Load()
	e := t.lookup(&m)
	if e == nil {
		if m.methodMiss {
			if allow := t.allowed(&m); allow != "" {
				g.fail(w, r, &Error{Op: "route", Header: http.Header{"Allow": {allow}}, Err: ErrMethodNotAllowed})
				return
			}
		}
		g.fail(w, r, &Error{Op: "route", Err: ErrNotFound})
		return
	}
	setPathValues(r, e, p, escaped)
	r.Pattern = e.pattern
	e.handler.ServeHTTP(w, r)
}

func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h := g.cfg.ErrorHandler; h != nil {
		h(w, r, err)
		return
	}
	WriteError(w, r, err)
}

// redirectClean answers 308 Permanent Redirect to the cleaned path, which
// keeps the method and the body. The target is built from the escaped
// path, so it never starts with "//" or holds a raw backslash, and cannot
// send the client to another host.
func redirectClean(w http.ResponseWriter, r *http.Request) {
	target := cleanPath(r.URL.EscapedPath())
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusPermanentRedirect)
}

// requestHost returns the host of a Host header without its port or a
// trailing dot.
func requestHost(h string) string {
	if h != "" && h[0] == '[' {
		if i := strings.IndexByte(h, ']'); i >= 0 {
			return h[:i+1]
		}
		return h
	}
	for i := len(h) - 1; i >= 0; i-- {
		if h[i] == ':' {
			h = h[:i]
			break
		}
	}
	if n := len(h); n > 0 && h[n-1] == '.' {
		h = h[:n-1]
	}
	return h
}
