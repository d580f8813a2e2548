package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
)

// nextFuncID numbers the routes with a Match func, which never count as
// duplicates of each other.
var nextFuncID atomic.Uint64

// Route is the full description of one route, for [Gateway.Route]. The
// shorter [Gateway.Handle] covers the common case of a pattern and a
// handler.
//
// # Patterns
//
// A pattern has the form
//
//	[METHOD ][HOST]/PATH
//
// and follows Go's [http.ServeMux] wherever the two overlap:
//
//   - METHOD, followed by a space or a tab, limits the route to one method.
//     GET also matches HEAD. Without a method the route matches every
//     method.
//   - HOST limits the route to one host: "api.example.com" matches that
//     host in any letter case, whatever port the request names (ports are
//     not allowed in patterns). "*.example.com" matches every subdomain of
//     example.com at any depth ("a.example.com", "a.b.example.com") but not
//     "example.com" itself; the "*" must be the whole first label. A
//     trailing dot is ignored on both sides. Without a host the route
//     matches every host.
//   - PATH is a sequence of segments separated by "/". A literal segment
//     matches itself (the pattern's segments are unescaped, so "a%2Fb"
//     matches the one request segment "a%2Fb"). "{name}" matches any one
//     non-empty segment. "{name...}", only as the last segment, matches the
//     rest of the path, which may be empty. A path ending in "/" matches
//     every path under it, as an unnamed "{...}" does. "{$}", only after a
//     final "/", matches the path that ends there and nothing under it:
//     "/{$}" matches "/" alone. Names are Go identifiers, unique within the
//     pattern. Matched values are read with [http.Request.PathValue]; they
//     are unescaped, and the value of "{name...}" keeps its slashes.
//
// Matching runs on the request's escaped path split at "/", each segment
// compared unescaped, so an escaped slash ("%2F") stays inside its segment.
// A request whose path is not clean (it has "//", "/./" or "/../", or ends
// in "/." or "/..") is redirected with 308 Permanent Redirect to the cleaned
// path, keeping its query, for every method. Unlike ServeMux, a segment
// spelled with escapes that unescapes to "." or ".." ("%2e%2e") is refused
// with 400 Bad Request rather than matched, so that no upstream that
// unescapes the path can be led out of its directory; and a request for
// "/tree" is not redirected to "/tree/".
//
// # Precedence
//
// When several routes match a request, the most specific one serves it.
// Two routes are compared by these rules in turn, the first that tells
// them apart deciding:
//
//  1. The higher Priority wins.
//  2. A route with a host beats one without; an exact host beats a
//     wildcard; a longer wildcard suffix beats a shorter one.
//  3. The route whose path matches a strict subset of the other's paths
//     wins: at the first segment where they differ, a literal beats
//     "{x}", which beats "{x...}" or a trailing "/"; "/a/{$}" beats "/a/".
//  4. A route with a method beats one without; HEAD beats GET (which also
//     matches HEAD).
//  5. A route with predicates beats the same pattern without; more
//     predicates (Headers, Query and Match, each counted) beat fewer.
//
// Two routes that can match the same request and that no rule tells apart
// are ambiguous, and registering the second is an error naming both, as
// registering the same route twice is. Examples are "/a/{x}" with
// "/{y}/b" (both match "/a/b"), and the same pattern twice with equally
// many predicates. Routes whose predicates are provably disjoint (an exact
// Value for the same header or query parameter, different in each) never
// conflict. Priority settles any ambiguity the author means to accept.
type Route struct {
	// Pattern is the route's pattern, described above. It is required.
	Pattern string
	// Handler serves the requests the route matches. It is required unless
	// Variants is set, and must be nil when it is.
	Handler http.Handler
	// Middleware wraps Handler (or the variant split) for this route alone;
	// the first listed runs outermost. Nil means none. Each middleware is
	// called once, when the route is added.
	Middleware []Middleware
	// Headers are conditions on request headers, all of which must hold.
	// Nil means none.
	Headers []Predicate
	// Query are conditions on query parameters, all of which must hold.
	// Nil means none.
	Query []Predicate
	// Match, when not nil, is one more condition the request must meet. It
	// is called only when the pattern, the method and the other predicates
	// hold, on the request path of the gateway, so it must be fast and
	// safe for concurrent use, and must not read the body. It counts as one
	// predicate for precedence. Nil means none.
	Match func(*http.Request) bool
	// Priority orders this route before every route of lower priority,
	// ahead of all the specificity rules. The default 0 leaves the order to
	// specificity; negative values make a fallback.
	Priority int
	// Variants, when set, splits the route's requests between several
	// handlers by weight, as for a canary release. Handler must then be
	// nil. Nil means no split.
	Variants []Variant
	// Sticky lets a request choose its variant. The zero value means no
	// override: every request gets a weighted pick.
	Sticky Sticky
}

// Predicate is a condition on one request header or query parameter. Set
// at most one of Present and Regexp; when neither is set the condition is
// an exact Value, and an empty Value then means "present and empty".
//
// Only the first value counts, as with [http.Header.Get] and
// [url.Values.Get], so two Value predicates on the same name with
// different values never both hold; the router relies on that to accept
// such routes side by side.
type Predicate struct {
	// Name is the header (in any letter case) or query parameter (exact
	// case) to test. It is required.
	Name string
	// Value is the value the first occurrence must equal, byte for byte
	// (query values are compared unescaped).
	Value string
	// Present, when true, only requires the header or parameter to be
	// there, with any value, even empty.
	Present bool
	// Regexp, when not empty, is a regular expression ([regexp] syntax)
	// that the first value must match. It is not anchored: write ^ and $ to
	// match the whole value. It is compiled when the route is added.
	Regexp string
}

// Variant is one handler of a weighted split (see [Route.Variants]).
type Variant struct {
	// Name identifies the variant for [Sticky] overrides. It is required
	// and unique within the route.
	Name string
	// Weight is the variant's share of the requests, relative to the sum
	// of all weights. Zero means the variant is reached only through
	// Sticky; the sum must be positive.
	Weight int
	// Handler serves the variant's requests. It is required.
	Handler http.Handler
}

// Sticky overrides the weighted pick of a [Route]'s variants: a request
// whose header or cookie equals a variant's Name goes to that variant. The
// header wins when both name a variant; an unknown or missing name falls
// back to the weighted pick.
type Sticky struct {
	// Header names the request header that chooses the variant. Empty
	// means none.
	Header string
	// Cookie names the cookie that chooses the variant. Empty means none.
	Cookie string
}

// segKind is the kind of one pattern segment.
type segKind uint8

const (
	segLit   segKind = iota // a literal segment; "" is the final empty segment of "/{$}"
	segParam                // {name}: one non-empty segment
	segMulti                // {name...} or a trailing slash: one or more segments
)

type segment struct {
	kind segKind
	lit  string // unescaped literal, for segLit
	name string // wildcard name; "" for a trailing slash
}

// entry is a compiled route. It is immutable once added.
type entry struct {
	pattern  string
	method   string // "" for any
	host     string // lower case; for a wildcard host the suffix with its leading dot
	wild     bool
	segs     []segment
	priority int
	headers  []pred
	query    []pred
	match    func(*http.Request) bool
	npreds   int
	predKey  string // canonical form of the predicates, for duplicate detection; "" if none
	handler  http.Handler
	seq      int // registration order, the last tie-break
}

type predKind uint8

const (
	predValue predKind = iota
	predPresent
	predRegexp
)

type pred struct {
	kind  predKind
	name  string // canonical header key, or query name
	value string
	re    *regexp.Regexp
}

// compile checks rt and turns it into an entry. It calls the route's
// middleware, so it must not run under the gateway's lock.
func compile(rt Route) (*entry, error) {
	e, err := parsePattern(rt.Pattern)
	if err != nil {
		return nil, err
	}
	e.priority = rt.Priority
	if e.headers, err = compilePreds("header", rt.Headers, true); err != nil {
		return nil, fmt.Errorf("gateway: route %q: %w", rt.Pattern, err)
	}
	if e.query, err = compilePreds("query", rt.Query, false); err != nil {
		return nil, fmt.Errorf("gateway: route %q: %w", rt.Pattern, err)
	}
	e.match = rt.Match
	e.npreds = len(e.headers) + len(e.query)
	if e.match != nil {
		e.npreds++
	}
	e.predKey = predKey(e)

	var h http.Handler
	switch {
	case rt.Variants != nil && rt.Handler != nil:
		return nil, fmt.Errorf("gateway: route %q: both Handler and Variants are set", rt.Pattern)
	case rt.Variants != nil:
		s, err := newSplit(rt.Variants, rt.Sticky)
		if err != nil {
			return nil, fmt.Errorf("gateway: route %q: %w", rt.Pattern, err)
		}
		h = s
	case rt.Handler == nil:
		return nil, fmt.Errorf("gateway: route %q: nil handler", rt.Pattern)
	case rt.Sticky != Sticky{}:
		return nil, fmt.Errorf("gateway: route %q: Sticky needs Variants", rt.Pattern)
	default:
		h = rt.Handler
	}
	for i, mw := range rt.Middleware {
		if mw == nil {
			return nil, fmt.Errorf("gateway: route %q: middleware %d is nil", rt.Pattern, i)
		}
	}
	e.handler = Chain(rt.Middleware...)(h)
	return e, nil
}

// parsePattern parses "[METHOD ][HOST]/PATH".
func parsePattern(s string) (*entry, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("gateway: bad pattern %q: %s", s, fmt.Sprintf(format, args...))
	}
	if s == "" {
		return nil, bad("empty")
	}
	e := &entry{pattern: s}
	rest := s
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		e.method, rest = s[:i], strings.TrimLeft(s[i+1:], " \t")
		if !isToken(e.method) {
			return nil, bad("invalid method %q", e.method)
		}
	}
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return nil, bad("no path (a path starts with /)")
	}
	host, path := rest[:i], rest[i:]
	var err error
	if e.host, e.wild, err = parseHost(host); err != nil {
		return nil, bad("%v", err)
	}
	names := make(map[string]bool)
	for path != "" {
		path = path[1:] // drop the "/"
		if path == "" {
			e.segs = append(e.segs, segment{kind: segMulti})
			break
		}
		var seg string
		if j := strings.IndexByte(path, '/'); j >= 0 {
			seg, path = path[:j], path[j:]
		} else {
			seg, path = path, ""
		}
		if !strings.Contains(seg, "{") {
			if strings.Contains(seg, "}") {
				return nil, bad("stray '}' in segment %q", seg)
			}
			lit, err := url.PathUnescape(seg)
			if err != nil {
				return nil, bad("segment %q: %v", seg, err)
			}
			if lit == "" || lit == "." || lit == ".." {
				return nil, bad("unclean path: segment %q never matches a cleaned path", seg)
			}
			e.segs = append(e.segs, segment{kind: segLit, lit: lit})
			continue
		}
		if seg[0] != '{' || seg[len(seg)-1] != '}' {
			return nil, bad("a wildcard must be a whole segment: %q", seg)
		}
		name := seg[1 : len(seg)-1]
		if name == "$" {
			if path != "" {
				return nil, bad("{$} not at the end")
			}
			// "/a/{$}" is "/a/" without what lies under it: the final
			// empty segment, as a literal.
			e.segs = append(e.segs, segment{kind: segLit, lit: ""})
			break
		}
		name, multi := strings.CutSuffix(name, "...")
		if multi && path != "" {
			return nil, bad("{%s...} not at the end", name)
		}
		if !isIdent(name) {
			return nil, bad("wildcard name %q is not a Go identifier", name)
		}
		if names[name] {
			return nil, bad("duplicate wildcard name %q", name)
		}
		names[name] = true
		k := segParam
		if multi {
			k = segMulti
		}
		e.segs = append(e.segs, segment{kind: k, name: name})
	}
	return e, nil
}

// parseHost returns the lower-cased host of a pattern, or for "*.suffix"
// the suffix with its leading dot and wild set.
func parseHost(h string) (host string, wild bool, err error) {
	if h == "" {
		return "", false, nil
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if strings.HasPrefix(h, "*.") {
		h, wild = h[1:], true
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") && !wild {
		if strings.Trim(h[1:len(h)-1], "0123456789abcdef:.") != "" {
			return "", false, fmt.Errorf("bad IPv6 host %q", h)
		}
		return h, false, nil
	}
	labels := h
	if wild {
		labels = h[1:]
	}
	if labels == "" {
		return "", false, errors.New("empty host after *.")
	}
	for _, label := range strings.Split(labels, ".") {
		if label == "" {
			return "", false, fmt.Errorf("empty label in host %q", h)
		}
		for _, c := range label {
			switch {
			case c == ':':
				return "", false, fmt.Errorf("port in host %q: leave it out, the request's port is ignored", h)
			case c == '*':
				return "", false, fmt.Errorf("'*' in host %q: only a whole first label may be *", h)
			case c == '{':
				return "", false, fmt.Errorf("'{' in host %q (missing initial '/'?)", h)
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			default:
				return "", false, fmt.Errorf("bad character %q in host %q", c, h)
			}
		}
	}
	return h, wild, nil
}

func compilePreds(kind string, ps []Predicate, header bool) ([]pred, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]pred, 0, len(ps))
	for _, p := range ps {
		if p.Name == "" {
			return nil, fmt.Errorf("%s predicate without a Name", kind)
		}
		q := pred{name: p.Name, value: p.Value}
		if header {
			if !isToken(p.Name) {
				return nil, fmt.Errorf("bad header name %q", p.Name)
			}
			q.name = textproto.CanonicalMIMEHeaderKey(p.Name)
		}
		switch {
		case p.Present && (p.Regexp != "" || p.Value != ""):
			return nil, fmt.Errorf("%s predicate %q: set only one of Value, Present and Regexp", kind, p.Name)
		case p.Regexp != "" && p.Value != "":
			return nil, fmt.Errorf("%s predicate %q: set only one of Value, Present and Regexp", kind, p.Name)
		case p.Present:
			q.kind = predPresent
		case p.Regexp != "":
			re, err := regexp.Compile(p.Regexp)
			if err != nil {
				return nil, fmt.Errorf("%s predicate %q: %w", kind, p.Name, err)
			}
			q.kind, q.re = predRegexp, re
		}
		out = append(out, q)
	}
	return out, nil
}

// predKey renders e's predicates in a canonical order, so that two routes
// with the same conditions compare equal. A Match func cannot be compared,
// so it makes the key unique.
func predKey(e *entry) string {
	if e.npreds == 0 {
		return ""
	}
	if e.match != nil {
		return "func:" + strconv.Itoa(int(nextFuncID.Add(1)))
	}
	var keys []string
	add := func(where string, ps []pred) {
		for _, p := range ps {
			v := p.value
			if p.kind == predRegexp {
				v = p.re.String()
			}
			keys = append(keys, where+"\x00"+p.name+"\x00"+strconv.Itoa(int(p.kind))+"\x00"+v)
		}
	}
	add("h", e.headers)
	add("q", e.query)
	slices.Sort(keys)
	return strings.Join(keys, "\x01")
}

// Precedence and conflicts.

// overlapPath reports whether some request path matches both a and b.
func overlapPath(a, b []segment) bool {
	for i := 0; ; i++ {
		if i == len(a) || i == len(b) {
			return len(a) == len(b)
		}
		x, y := a[i], b[i]
		if x.kind == segMulti || y.kind == segMulti {
			return true // the other has at least one segment left, as a multi needs
		}
		switch {
		case x.kind == segLit && y.kind == segLit:
			if x.lit != y.lit {
				return false
			}
		case x.kind == segLit:
			if x.lit == "" { // {y} never matches the empty final segment
				return false
			}
		case y.kind == segLit:
			if y.lit == "" {
				return false
			}
		}
	}
}

// subsetPath reports whether every path that a matches, b matches too.
func subsetPath(a, b []segment) bool {
	for i := 0; ; i++ {
		if i == len(b) {
			return i == len(a)
		}
		if i == len(a) {
			return false
		}
		x, y := a[i], b[i]
		switch y.kind {
		case segMulti:
			return true
		case segParam:
			if x.kind == segMulti || x.kind == segLit && x.lit == "" {
				return false
			}
		case segLit:
			if x.kind != segLit || x.lit != y.lit {
				return false
			}
		}
	}
}

// methodSubset reports whether every method a matches, b matches too.
func methodSubset(a, b string) bool {
	return b == "" || a == b || a == http.MethodHead && b == http.MethodGet
}

// methodRank orders the routes of one path: the narrower method first.
func methodRank(m string) int {
	switch m {
	case "":
		return 0
	case http.MethodGet:
		return 1
	}
	return 2
}

// disjointPreds reports whether no request can satisfy the predicates of
// both a and b: both hold an exact Value for the same name, different.
func disjointPreds(a, b *entry) bool {
	return disjointList(a.headers, b.headers) || disjointList(a.query, b.query)
}

func disjointList(a, b []pred) bool {
	for _, p := range a {
		if p.kind != predValue {
			continue
		}
		for _, q := range b {
			if q.kind == predValue && q.name == p.name && q.value != p.value {
				return true
			}
		}
	}
	return false
}

// conflict returns an error when old and e can match the same request and
// no precedence rule orders them. Only routes of equal priority and host
// are compared: the first two rules order all others.
func conflict(old, e *entry) error {
	if old.priority != e.priority || old.wild != e.wild || old.host != e.host {
		return nil
	}
	if !overlapPath(old.segs, e.segs) {
		return nil
	}
	if !methodSubset(old.method, e.method) && !methodSubset(e.method, old.method) {
		return nil
	}
	oe, eo := subsetPath(old.segs, e.segs), subsetPath(e.segs, old.segs)
	if oe != eo {
		return nil // one path is strictly narrower
	}
	if !oe {
		return fmt.Errorf("gateway: route %q conflicts with %q: both match %s and neither is more specific; change one or set Priority",
			e.pattern, old.pattern, commonPath(old.segs, e.segs))
	}
	if old.method != e.method {
		return nil // one method set is strictly narrower
	}
	if disjointPreds(old, e) {
		return nil
	}
	if old.npreds != e.npreds {
		return nil
	}
	if old.predKey == e.predKey {
		return fmt.Errorf("gateway: route %q duplicates %q", e.pattern, old.pattern)
	}
	return fmt.Errorf("gateway: route %q conflicts with %q: equally many predicates, not provably disjoint; change one or set Priority",
		e.pattern, old.pattern)
}

// commonPath returns a path that both a and b match, for error messages.
// They must overlap.
func commonPath(a, b []segment) string {
	var sb strings.Builder
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x.kind == segMulti {
			x, y = y, x
		}
		if x.kind == segMulti { // both multi
			sb.WriteString("/")
			break
		}
		if y.kind == segMulti { // x is the more specific; finish with a's or b's rest
			rest := a[i:]
			if a[i].kind == segMulti {
				rest = b[i:]
			}
			for _, s := range rest {
				sb.WriteString("/")
				sb.WriteString(sampleSeg(s))
			}
			break
		}
		if y.kind == segLit {
			x = y
		}
		sb.WriteString("/")
		sb.WriteString(sampleSeg(x))
	}
	return sb.String()
}

func sampleSeg(s segment) string {
	switch s.kind {
	case segLit:
		return url.PathEscape(s.lit)
	case segParam:
		return "x"
	}
	return ""
}

// isToken reports whether s is an HTTP token (RFC 9110), as method and
// header names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !unicode.IsLetter(c) && c != '_' && (i == 0 || !unicode.IsDigit(c)) {
			return false
		}
	}
	return true
}
