package gateway

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"slices"
	"strings"
)

// table is an immutable routing table. A new one is built for every change
// and swapped in whole, so that lookups take no lock.
//
// Routes are grouped by priority and then by host; the groups are visited
// in precedence order (rules 1 and 2 of [Route]) and the first group whose
// tree matches wins. Within a group, a segment trie is walked depth first,
// literal children before "{x}" before "{x...}", and the routes ending at
// a node are sorted by method and predicates (rules 4 and 5). Because
// conflicting routes are refused when added, the first full match of that
// walk is the most specific route (rule 3): a path that matches a strict
// subset of another's is earlier in that order at the first segment where
// the two differ.
type table struct {
	levels []level // by priority, highest first
}

type level struct {
	priority int
	exact    map[string]*node // by lower-case host
	wild     []wildTree       // longest suffix first
	any      *node            // routes without a host; nil if none
}

type wildTree struct {
	suffix string // ".example.com"
	root   *node
}

// node is one position of the segment trie.
type node struct {
	lits   []litChild       // literal children, in insertion order
	litMap map[string]*node // the same, when there are many
	param  *node            // the "{x}" child
	multi  *node            // the "{x...}" child; only its leaves are used
	leaves []*entry         // routes that end here, most specific first
}

type litChild struct {
	lit  string
	node *node
}

// litMapMin is the number of literal children from which a map beats a
// linear scan.
const litMapMin = 8

// with returns a copy of t with e added. t is left as it was; the two
// share every node off e's path, so that adding a route costs the length
// of its path times the width of the nodes on it, not the size of the
// table. t may be nil.
func (t *table) with(e *entry) *table {
	nt := &table{}
	if t != nil {
		nt.levels = slices.Clone(t.levels)
	}
	i, found := slices.BinarySearchFunc(nt.levels, e.priority, func(l level, p int) int {
		return cmp.Compare(p, l.priority) // highest priority first
	})
	if !found {
		nt.levels = slices.Insert(nt.levels, i, level{priority: e.priority})
	}
	lv := &nt.levels[i]
	switch {
	case e.host == "":
		lv.any = lv.any.with(e, 0)
	case e.wild:
		lv.wild = slices.Clone(lv.wild)
		j := slices.IndexFunc(lv.wild, func(w wildTree) bool { return w.suffix == e.host })
		if j < 0 {
			lv.wild = append(lv.wild, wildTree{suffix: e.host, root: (*node)(nil).with(e, 0)})
			slices.SortFunc(lv.wild, func(a, b wildTree) int {
				return cmp.Or(cmp.Compare(len(b.suffix), len(a.suffix)), strings.Compare(a.suffix, b.suffix))
			})
			break
		}
		lv.wild[j].root = lv.wild[j].root.with(e, 0)
	default:
		exact := make(map[string]*node, len(lv.exact)+1)
		maps.Copy(exact, lv.exact)
		exact[e.host] = exact[e.host].with(e, 0)
		lv.exact = exact
	}
	return nt
}

// with returns a copy of n with e added below it, e.segs[depth:] being
// the rest of e's path. n may be nil.
func (n *node) with(e *entry, depth int) *node {
	c := &node{}
	if n != nil {
		*c = *n
	}
	if depth == len(e.segs) {
		leaves := make([]*entry, 0, len(c.leaves)+1)
		leaves = append(append(leaves, c.leaves...), e)
		slices.SortStableFunc(leaves, func(a, b *entry) int {
			return cmp.Or(
				cmp.Compare(methodRank(b.method), methodRank(a.method)),
				cmp.Compare(b.npreds, a.npreds),
				cmp.Compare(a.seq, b.seq),
			)
		})
		c.leaves = leaves
		return c
	}
	switch s := e.segs[depth]; s.kind {
	case segLit:
		lits := slices.Clone(c.lits)
		k := slices.IndexFunc(lits, func(l litChild) bool { return l.lit == s.lit })
		if k < 0 {
			lits = append(lits, litChild{lit: s.lit})
			k = len(lits) - 1
		}
		lits[k].node = lits[k].node.with(e, depth+1)
		c.lits, c.litMap = lits, nil
		if len(lits) >= litMapMin {
			c.litMap = make(map[string]*node, len(lits))
			for _, l := range lits {
				c.litMap[l.lit] = l.node
			}
		}
	case segParam:
		c.param = c.param.with(e, depth+1)
	case segMulti:
		c.multi = c.multi.with(e, depth+1)
	}
	return c
}

// matcher carries one request through a lookup. It lives on the stack.
type matcher struct {
	r       *http.Request
	method  string
	host    string // port and trailing dot removed; letter case as sent
	path    string // the routing path, see routingPath
	escaped bool   // path is escaped: compare segments unescaped
	// methodMiss records that some route matched the path but not the
	// method, so that a failed lookup knows to look for a 405.
	methodMiss bool
	// allow, when not nil, switches the walk to collecting the methods of
	// every route that matches all but the method (the 405 pass).
	allow *[]string
}

// lookup returns the most specific route for m, or nil.
func (t *table) lookup(m *matcher) *entry {
	if t == nil {
		return nil
	}
	// A host with upper-case letters is lowered into buf for the map
	// lookup; m[string(b)] does not allocate.
	var buf [256]byte
	var lower []byte
	host := m.host
	for i := 0; i < len(host); i++ {
		if c := host[i]; 'A' <= c && c <= 'Z' {
			if len(host) > len(buf) {
				host = strings.ToLower(host) // a host this long is not a real one
				break
			}
			lower = buf[:len(host)]
			for j := 0; j < len(host); j++ {
				c := host[j]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				lower[j] = c
			}
			break
		}
	}
	for i := range t.levels {
		lv := &t.levels[i]
		if lv.exact != nil && host != "" {
			var n *node
			if lower != nil {
				n = lv.exact[string(lower)]
			} else {
				n = lv.exact[host]
			}
			if e := n.match(m, 1); e != nil {
				return e
			}
		}
		for j := range lv.wild {
			w := &lv.wild[j]
			if len(host) > len(w.suffix) && strings.EqualFold(host[len(host)-len(w.suffix):], w.suffix) {
				if e := w.root.match(m, 1); e != nil {
					return e
				}
			}
		}
		if e := lv.any.match(m, 1); e != nil {
			return e
		}
	}
	return nil
}

// allowed returns the methods of the routes that match m in all but the
// method, for a 405's Allow header, sorted; "" if there are none.
func (t *table) allowed(m *matcher) string {
	var methods []string
	m.allow = &methods
	t.lookup(m) // returns nil: in this mode no route is taken
	m.allow = nil
	if len(methods) == 0 {
		return ""
	}
	if slices.Contains(methods, http.MethodGet) {
		methods = append(methods, http.MethodHead)
	}
	slices.Sort(methods)
	return strings.Join(slices.Compact(methods), ", ")
}

// match walks the trie from n with the path segment that starts at i
// (just after its "/"); i > len(m.path) means the path is used up.
func (n *node) match(m *matcher, i int) *entry {
	if n == nil {
		return nil
	}
	p := m.path
	if i > len(p) {
		return n.pick(m)
	}
	j := strings.IndexByte(p[i:], '/')
	if j < 0 {
		j = len(p)
	} else {
		j += i
	}
	seg := p[i:j]
	if c := n.child(seg, m.escaped); c != nil {
		if e := c.match(m, j+1); e != nil {
			return e
		}
	}
	if n.param != nil && seg != "" {
		if e := n.param.match(m, j+1); e != nil {
			return e
		}
	}
	if n.multi != nil {
		return n.multi.pick(m)
	}
	return nil
}

// child returns the literal child for the request segment seg.
func (n *node) child(seg string, escaped bool) *node {
	if escaped && strings.IndexByte(seg, '%') >= 0 {
		for _, l := range n.lits {
			if unescapedEqual(seg, l.lit) {
				return l.node
			}
		}
		return nil
	}
	if n.litMap != nil {
		return n.litMap[seg]
	}
	for k := range n.lits {
		if n.lits[k].lit == seg {
			return n.lits[k].node
		}
	}
	return nil
}

// pick returns the first of n's routes that the request meets.
func (n *node) pick(m *matcher) *entry {
	for _, e := range n.leaves {
		if !methodMatches(e.method, m.method) {
			if m.allow != nil {
				if e.holds(m.r) {
					*m.allow = append(*m.allow, e.method)
				}
			} else {
				m.methodMiss = true
			}
			continue
		}
		if m.allow == nil && e.holds(m.r) {
			return e
		}
	}
	return nil
}

func methodMatches(route, req string) bool {
	return route == "" || route == req || route == http.MethodGet && req == http.MethodHead
}

// holds reports whether r meets all of e's predicates.
func (e *entry) holds(r *http.Request) bool {
	for i := range e.headers {
		if !e.headers[i].header(r.Header) {
			return false
		}
	}
	for i := range e.query {
		if !e.query[i].query(r.URL.RawQuery) {
			return false
		}
	}
	return e.match == nil || e.match(r)
}

func (p *pred) header(h http.Header) bool {
	vs := h[p.name]
	if len(vs) == 0 {
		return false
	}
	switch p.kind {
	case predPresent:
		return true
	case predRegexp:
		return p.re.MatchString(vs[0])
	}
	return vs[0] == p.value
}

func (p *pred) query(raw string) bool {
	v, ok := queryValue(raw, p.name)
	if !ok {
		return false
	}
	switch p.kind {
	case predPresent:
		return true
	case predRegexp:
		if strings.ContainsAny(v, "%+") {
			u, err := url.QueryUnescape(v) // allocates; only for escaped values
			if err != nil {
				return false
			}
			v = u
		}
		return p.re.MatchString(v)
	}
	return queryUnescapedEqual(v, p.value)
}

// queryValue returns the still escaped value of the first parameter
// called name in the raw query, without parsing the query into a map.
func queryValue(raw, name string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == "" && v == "" {
			continue
		}
		if queryUnescapedEqual(k, name) {
			return v, true
		}
	}
	return "", false
}

// unescapedEqual reports whether the escaped path segment esc unescapes
// to s. An invalid escape stands for itself.
func unescapedEqual(esc, s string) bool { return unescEqual(esc, s, false) }

// queryUnescapedEqual is unescapedEqual for query text, where "+" is a
// space.
func queryUnescapedEqual(esc, s string) bool { return unescEqual(esc, s, true) }

func unescEqual(esc, s string, plus bool) bool {
	j := 0
	for i := 0; i < len(esc); i++ {
		c := esc[i]
		switch {
		case c == '%' && i+2 < len(esc) && isHex(esc[i+1]) && isHex(esc[i+2]):
			c = unhex(esc[i+1])<<4 | unhex(esc[i+2])
			i += 2
		case c == '+' && plus:
			c = ' '
		}
		if j == len(s) || s[j] != c {
			return false
		}
		j++
	}
	return j == len(s)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// routingPath returns the path to route on. Without a RawPath the decoded
// Path is exact and is used as it is; with one (the request escaped
// something that matters, such as "%2F"), RawPath is used and its segments
// are compared unescaped, provided it still agrees with Path. This is
// [url.URL.EscapedPath] without its allocations.
func routingPath(u *url.URL) (path string, escaped bool) {
	if u.RawPath != "" && validEncodedPath(u.RawPath) && unescapedEqual(u.RawPath, u.Path) {
		return u.RawPath, true
	}
	return u.Path, false
}

// validEncodedPath reports whether s holds only what an escaped path may
// hold unescaped, as EscapedPath requires of RawPath.
func validEncodedPath(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.~!$&'()*+,;=:@[]%/", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// pathState classifies a routing path.
type pathState uint8

const (
	pathOK      pathState = iota
	pathUnclean           // "//", "/./", "/../" or a final "/." or "/..": redirect
	pathBad               // not absolute, or an escaped "." or "..": 400
)

func checkPath(p string, escaped bool) pathState {
	if p == "" || p[0] != '/' {
		return pathBad
	}
	for i := 1; i <= len(p); {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p)
		} else {
			j += i
		}
		seg := p[i:j]
		switch {
		case seg == "" && j < len(p), seg == ".", seg == "..":
			return pathUnclean
		case escaped && strings.IndexByte(seg, '%') >= 0 && (unescapedEqual(seg, ".") || unescapedEqual(seg, "..")):
			return pathBad
		}
		i = j + 1
	}
	return pathOK
}

// cleanPath is [path.Clean] keeping a final slash, as ServeMux does.
func cleanPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// setPathValues stores the values of e's wildcards in r. Matching has
// checked the path, so the walk cannot run short.
func setPathValues(r *http.Request, e *entry, p string, escaped bool) {
	i := 1
	for _, s := range e.segs {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p)
		} else {
			j += i
		}
		switch s.kind {
		case segParam:
			r.SetPathValue(s.name, unescapePath(p[i:j], escaped))
		case segMulti:
			if s.name != "" {
				r.SetPathValue(s.name, unescapePath(p[i:], escaped))
			}
			return
		}
		i = j + 1
	}
}

func unescapePath(s string, escaped bool) string {
	if !escaped || strings.IndexByte(s, '%') < 0 {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// split is the handler of a route with variants.
type split struct {
	variants []Variant
	cum      []int // cumulative weights
	header   string
	cookie   string
}

func newSplit(vs []Variant, st Sticky) (*split, error) {
	if len(vs) == 0 {
		return nil, fmt.Errorf("empty Variants")
	}
	s := &split{variants: slices.Clone(vs), cum: make([]int, len(vs)), cookie: st.Cookie}
	if st.Header != "" {
		if !isToken(st.Header) {
			return nil, fmt.Errorf("bad Sticky header name %q", st.Header)
		}
		s.header = textproto.CanonicalMIMEHeaderKey(st.Header)
	}
	sum := 0
	for i, v := range vs {
		switch {
		case v.Name == "":
			return nil, fmt.Errorf("variant %d has no Name", i)
		case v.Weight < 0:
			return nil, fmt.Errorf("variant %q has negative weight %d", v.Name, v.Weight)
		case v.Handler == nil:
			return nil, fmt.Errorf("variant %q has a nil Handler", v.Name)
		case slices.ContainsFunc(vs[:i], func(w Variant) bool { return w.Name == v.Name }):
			return nil, fmt.Errorf("duplicate variant name %q", v.Name)
		}
		if sum += v.Weight; sum < 0 {
			return nil, fmt.Errorf("variant weights overflow")
		}
		s.cum[i] = sum
	}
	if sum == 0 {
		return nil, fmt.Errorf("variant weights sum to zero")
	}
	return s, nil
}

func (s *split) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.variants[s.pick(r)].Handler.ServeHTTP(w, r)
}

// pick returns the index of the variant for r: the one its sticky header
// or cookie names, else a weighted random one.
func (s *split) pick(r *http.Request) int {
	if s.header != "" {
		if vs := r.Header[s.header]; len(vs) > 0 {
			if i := s.byName(vs[0]); i >= 0 {
				return i
			}
		}
	}
	if s.cookie != "" {
		if v, ok := cookieValue(r.Header, s.cookie); ok {
			if i := s.byName(v); i >= 0 {
				return i
			}
		}
	}
	// math/rand/v2's top-level functions are safe for concurrent use and
	// keep their state per thread: no lock, no allocation.
	x := rand.IntN(s.cum[len(s.cum)-1])
	i, _ := slices.BinarySearch(s.cum, x+1)
	return i
}

func (s *split) byName(name string) int {
	for i := range s.variants {
		if s.variants[i].Name == name {
			return i
		}
	}
	return -1
}

// cookieValue returns the value of the first cookie called name, without
// the allocations of [http.Request.Cookie].
func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}
