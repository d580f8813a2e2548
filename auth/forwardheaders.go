package auth

import (
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// ForwardHeaders maps request headers for the upstream to what of the
// [Principal] each carries, as in
//
//	auth.ForwardHeaders{"X-User-Id": "sub", "X-Tenant": "tenant", "X-Scopes": "scope"}
//
// A source is one of the Principal's fields, "sub" (or "subject"),
// "tenant", "plan", "method", "scope" (the scopes, space-separated, as in
// RFC 6749) or "roles" (comma-separated), or else the name of one of its
// Claims: a string as it is, a number or a bool in text, a list of
// strings space-separated. A header whose value is empty, or would hold a
// control byte, is not set.
//
// A list element is sent only if it is printable ASCII with no white
// space, '"', '\' or the list's separator (',' for roles): others are left
// out, so that a role "viewer,admin" cannot reach the upstream as two
// roles, one of which the gateway never granted.
//
// Every inbound copy of each header is removed from every request before
// the Authenticators are asked, whether the request turns out anonymous or
// the source is missing, so that no client can spoof them. A header whose
// name differs from a configured one only by case or by '_' for '-' is
// removed too, since some upstreams (CGI-style ones) read X_User_Id as
// X-User-Id. Their names are removed from the Connection header, which
// would otherwise make a proxy drop the headers set from the Principal.
// They are removed from the request's trailers as well, which
// a proxy sends on: up front, and when the body has been read to its end
// (when the server adds the trailers it received, declared or not).
type ForwardHeaders map[string]string

// forwarder is compiled [ForwardHeaders].
type forwarder struct {
	names   []string // canonical, sorted
	sources []string // per name
}

// refusedForward are headers that make no sense to forward and whose
// removal would break the request or its authentication.
var refusedForward = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true,
	"Host": true, "Content-Length": true, "Content-Type": true,
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Proxy-Authenticate": true, // hop-by-hop: a Proxy drops it
}

func (f ForwardHeaders) compile() (*forwarder, error) {
	if len(f) == 0 {
		return nil, nil
	}
	fw := &forwarder{}
	seen := make(map[string]bool, len(f))
	for name := range f {
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, fmt.Errorf("auth: forwarded header %q is not a valid header name", name)
		}
		c := textproto.CanonicalMIMEHeaderKey(name)
		if refusedForward[c] {
			return nil, fmt.Errorf("auth: header %q cannot be forwarded", name)
		}
		k := foldName(c)
		if seen[k] {
			return nil, fmt.Errorf("auth: forwarded header %q is named twice", name)
		}
		seen[k] = true
		if f[name] == "" {
			return nil, fmt.Errorf("auth: forwarded header %q has no source", name)
		}
		fw.names = append(fw.names, c)
	}
	sort.Strings(fw.names)
	for _, c := range fw.names {
		for name, src := range f {
			if textproto.CanonicalMIMEHeaderKey(name) == c {
				fw.sources = append(fw.sources, src)
			}
		}
	}
	return fw, nil
}

// foldName is name in lower case with '_' for '-'.
func foldName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// sameName reports whether a and b are the same header name but for case
// and '_' for '-'.
func sameName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == '_' {
			x = '-'
		}
		if y == '_' {
			y = '-'
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// strip removes every copy of the configured headers from h, and their
// names from its Connection header: a proxy removes the headers that
// Connection names, and would so remove the ones set from the Principal.
func (f *forwarder) strip(h http.Header) {
	if f == nil {
		return
	}
	for k := range h {
		if f.named(k) {
			delete(h, k)
		}
	}
	if conn := h["Connection"]; len(conn) > 0 && f.namedIn(conn) {
		h["Connection"] = f.withoutNamed(conn)
		if len(h["Connection"]) == 0 {
			delete(h, "Connection")
		}
	}
}

// named reports whether k is one of the configured names, but for case
// and '_' for '-'.
func (f *forwarder) named(k string) bool {
	for _, n := range f.names {
		if sameName(k, n) {
			return true
		}
	}
	return false
}

// namedIn reports whether a token of the comma-separated lists vs is one
// of the configured names. It does not allocate.
func (f *forwarder) namedIn(vs []string) bool {
	for _, v := range vs {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if f.named(strings.TrimSpace(tok)) {
				return true
			}
		}
	}
	return false
}

// withoutNamed returns vs without the tokens that are configured names,
// and without the values left empty.
func (f *forwarder) withoutNamed(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		var keep []string
		for tok := range strings.SplitSeq(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" && !f.named(tok) {
				keep = append(keep, tok)
			}
		}
		if len(keep) > 0 {
			out = append(out, strings.Join(keep, ", "))
		}
	}
	return out
}

// stripTrailer removes the configured headers from r's trailers, now and
// when its body ends: the server adds every trailer it receives, declared
// or not, to r.Trailer at the end of a chunked body, and a proxy sends
// r.Trailer on. A request whose body has a known length and no declared
// trailer can carry none, and costs nothing; any other body (chunked, or
// of unknown length, as over HTTP/2 and HTTP/3) is wrapped.
func (f *forwarder) stripTrailer(r *http.Request) {
	if f == nil || r.Body == nil || r.Body == http.NoBody ||
		(r.Trailer == nil && len(r.TransferEncoding) == 0 && r.ContentLength >= 0) {
		return
	}
	f.strip(r.Trailer)
	r.Body = &trailerStripper{ReadCloser: r.Body, f: f, r: r}
}

// trailerStripper is a request body that removes the forwarded headers
// from the request's trailers once the body is read to its end, before its
// reader sees the end, and when it is closed.
type trailerStripper struct {
	io.ReadCloser
	f *forwarder
	r *http.Request
}

func (b *trailerStripper) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.f.strip(b.r.Trailer) // the trailers are in at io.EOF
	}
	return n, err
}

func (b *trailerStripper) Close() error {
	err := b.ReadCloser.Close()
	b.f.strip(b.r.Trailer)
	return err
}

// set sets the configured headers from p.
func (f *forwarder) set(h http.Header, p *Principal) {
	if f == nil {
		return
	}
	for i, n := range f.names {
		v := sourceValue(p, f.sources[i])
		if v != "" && validHeaderValue(v) {
			h[n] = []string{v}
		}
	}
}

// sourceValue is the value of src in p, as [ForwardHeaders] describes.
func sourceValue(p *Principal, src string) string {
	switch src {
	case "sub", "subject":
		return p.Subject
	case "tenant":
		return p.Tenant
	case "plan":
		return p.Plan
	case "method":
		return p.Method
	case "scope", "scopes":
		return joinElements(p.Scopes, ' ')
	case "roles":
		return joinElements(p.Roles, ',')
	}
	switch v := p.Claims[src].(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case fmt.Stringer:
		return v.String() // json.Number among others
	case []string:
		return joinElements(v, ' ')
	case []any:
		var b strings.Builder
		for _, e := range v {
			s, ok := e.(string)
			if !ok || !listElement(s, ' ') {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s)
		}
		return b.String()
	}
	return ""
}

// listElement reports whether s can be an element of a list separated by
// sep: not empty, printable ASCII, no space, '"', '\' or sep (the
// scope-token of RFC 6749 section 3.3, less sep).
func listElement(s string, sep byte) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == sep {
			return false
		}
	}
	return true
}

// joinElements joins the elements of list that are [listElement]s with
// sep, leaving out the others, so that no element reads as two.
func joinElements(list []string, sep byte) string {
	n := 0
	for _, e := range list {
		if listElement(e, sep) {
			n++
		}
	}
	if n == len(list) {
		return strings.Join(list, string(rune(sep)))
	}
	var b strings.Builder
	for _, e := range list {
		if !listElement(e, sep) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(sep)
		}
		b.WriteString(e)
	}
	return b.String()
}
