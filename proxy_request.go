package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
)

// outbound builds the request to send upstream from the inbound r. It never
// modifies r. The outbound URL and header are a's own, reused from request
// to request; the rest is a shallow copy of r. The body comes from rp when
// it is not nil (a request that may be retried), else from r's.
func (a *attempt) outbound(ctx context.Context, r *http.Request, upType string, rp *replay) (*http.Request, error) {
	out := r.WithContext(ctx) // the only allocation: a Request's context is set no other way
	switch {
	case r.ContentLength == 0:
		out.Body = nil // the transport then sends no body and retries freely
	case rp != nil:
		rp.setBody(out, r)
	case out.Body != nil:
		out.Body = &inboundBody{rc: out.Body}
	}
	// Shared, not a copy: the server fills r.Trailer in place when the
	// body ends, which is when the transport reads out.Trailer.
	out.Trailer = r.Trailer
	out.Close = false
	out.RequestURI = ""

	h := a.copyHeader(r.Header, 8) // room for the values set below
	out.Header = h
	wantTrailers := headerHasToken(h["Te"], "trailers")
	removeHopByHop(h)
	if wantTrailers {
		h["Te"] = a.value("trailers") // gRPC needs it end to end
	}
	if upType != "" {
		h["Connection"] = a.value("Upgrade")
		h["Upgrade"] = a.value(upType)
	}

	a.setForwarded(h, r)

	t := a.u.URL
	a.url = *r.URL
	out.URL = &a.url
	out.URL.Scheme = t.Scheme
	if t.Scheme == "h2c" {
		out.URL.Scheme = "http"
	}
	out.URL.Host = t.Host
	out.URL.Path, out.URL.RawPath = joinURLPath(t, r.URL)
	q := cleanQuery(r.URL.RawQuery)
	switch {
	case t.RawQuery == "":
		out.URL.RawQuery = q
	case q == "":
		out.URL.RawQuery = t.RawQuery
	default:
		out.URL.RawQuery = t.RawQuery + "&" + q
	}
	if !a.p.PreserveHost {
		out.Host = ""
	}

	if a.p.Rewrite != nil {
		a.pr = ProxyRequest{In: r, Out: out, Upstream: a.u}
		a.p.Rewrite(&a.pr)
	}
	return out, nil
}

// copyHeader copies src into a's header, all values in one backing array
// with room for extra more, and returns it. Each key's slice is capped, so
// that appending to one never overwrites the next.
func (a *attempt) copyHeader(src http.Header, extra int) http.Header {
	n := extra
	for _, vs := range src {
		n += len(vs)
	}
	if cap(a.vals) < n {
		a.vals = make([]string, 0, n)
	}
	vals := a.vals[:0]
	for k, vs := range src {
		i := len(vals)
		vals = append(vals, vs...)
		a.header[k] = vals[i:len(vals):len(vals)]
	}
	a.vals = vals
	return a.header
}

// value returns a header value slice holding v alone, from a's backing
// array while it has room.
func (a *attempt) value(v string) []string {
	i := len(a.vals)
	a.vals = append(a.vals, v)
	return a.vals[i : i+1 : i+1]
}

// inboundBody is the outbound request's view of the client's body. Its
// Close only stops further reads and leaves the client's body open: the
// transport closes the body when it cannot reach the upstream, and closing
// the client's body makes the server drain it, which hangs while the client
// waits for a 100 Continue before sending it. The server closes the client's
// body itself once the handler returns.
type inboundBody struct {
	rc     io.ReadCloser
	closed atomic.Bool
	read   atomic.Bool // a Read was made: the body can no longer be sent again
}

var errInboundBodyClosed = errors.New("gateway: read of the request body after the attempt ended")

func (b *inboundBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, errInboundBodyClosed
	}
	if !b.read.Load() {
		b.read.Store(true)
	}
	return b.rc.Read(p)
}

func (b *inboundBody) Close() error {
	b.closed.Store(true)
	return nil
}

// setForwarded sets X-Forwarded-For, -Host and -Proto on h, the header of
// the outbound copy of r. The Forwarded and X-Forwarded-* headers that r
// arrived with are kept only when r comes from a trusted proxy.
func (a *attempt) setForwarded(h http.Header, r *http.Request) {
	ip := remoteIP(r.RemoteAddr)
	if !a.p.trusted(ip) {
		delete(h, "Forwarded")
		delete(h, "X-Forwarded-For")
		delete(h, "X-Forwarded-Host")
		delete(h, "X-Forwarded-Proto")
		delete(h, "X-Real-Ip")
	}
	if ip != "" {
		if prior := h["X-Forwarded-For"]; len(prior) > 0 {
			h["X-Forwarded-For"] = a.value(strings.Join(prior, ", ") + ", " + ip)
		} else {
			h["X-Forwarded-For"] = a.value(ip)
		}
	}
	if len(h["X-Forwarded-Host"]) == 0 {
		h["X-Forwarded-Host"] = a.value(r.Host)
	}
	if len(h["X-Forwarded-Proto"]) == 0 {
		if r.TLS != nil {
			h["X-Forwarded-Proto"] = a.value("https")
		} else {
			h["X-Forwarded-Proto"] = a.value("http")
		}
	}
}

// trusted reports whether ip, a client address, lies in TrustedProxies.
func (p *Proxy) trusted(ip string) bool {
	if len(p.TrustedProxies) == 0 {
		return false
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, n := range p.TrustedProxies {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

// hopByHop lists the headers that apply to one connection only (RFC 9110
// section 7.6.1, plus the legacy ones that proxies still see).
var hopByHop = [...]string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// removeHopByHop deletes from h the hop-by-hop headers and the headers that
// Connection names.
func removeHopByHop(h http.Header) {
	for _, line := range h["Connection"] {
		for line != "" {
			var name string
			name, line, _ = strings.Cut(line, ",")
			if name = textprotoTrim(name); name != "" {
				delete(h, http.CanonicalHeaderKey(name))
			}
		}
	}
	for _, name := range hopByHop {
		delete(h, name)
	}
}

// upgradeType returns the protocol that h asks to upgrade to, or "" when
// h's Connection header does not include "upgrade".
func upgradeType(h http.Header) string {
	if !headerHasToken(h["Connection"], "upgrade") {
		return ""
	}
	return h.Get("Upgrade")
}

// headerHasToken reports whether the comma-separated lines contain token,
// compared case-insensitively.
func headerHasToken(lines []string, token string) bool {
	for _, line := range lines {
		for line != "" {
			var v string
			v, line, _ = strings.Cut(line, ",")
			if strings.EqualFold(textprotoTrim(v), token) {
				return true
			}
		}
	}
	return false
}

// textprotoTrim trims the spaces and tabs that may surround a list element.
func textprotoTrim(s string) string {
	return strings.Trim(s, " \t")
}

// joinURLPath joins the upstream's path prefix with the request's path,
// with exactly one slash between them, keeping the request's escaping.
func joinURLPath(t, r *url.URL) (path, rawpath string) {
	if t.RawPath == "" && r.RawPath == "" {
		return singleJoin(t.Path, r.Path), ""
	}
	tp, rp := t.EscapedPath(), r.EscapedPath()
	tSlash, rSlash := strings.HasSuffix(tp, "/"), strings.HasPrefix(rp, "/")
	switch {
	case tSlash && rSlash:
		return t.Path + r.Path[1:], tp + rp[1:]
	case !tSlash && !rSlash:
		return t.Path + "/" + r.Path, tp + "/" + rp
	}
	return t.Path + r.Path, tp + rp
}

func singleJoin(a, b string) string {
	aSlash, bSlash := strings.HasSuffix(a, "/"), strings.HasPrefix(b, "/")
	switch {
	case aSlash && bSlash:
		return a + b[1:]
	case !aSlash && !bSlash && a != "" && b != "":
		return a + "/" + b
	case a == "":
		if b == "" || bSlash {
			return b
		}
		return "/" + b
	}
	return a + b
}

// maxQueryParams is the number of query parameters above which Go's query
// parser (net/url.ParseQuery, with its default GODEBUG urlmaxqueryparams)
// rejects the whole query.
const maxQueryParams = 10000

// cleanQuery returns q unchanged when Go's query parser accepts all of it.
// Otherwise it returns the parameters the parser accepts, re-encoded: a
// parameter with a semicolon or a bad escape is dropped, and a query with
// more parameters than the parser takes is dropped whole, so that the
// upstream cannot read the query differently from the gateway's own
// policies (parameter smuggling).
func cleanQuery(q string) string {
	if strings.Count(q, "&") >= maxQueryParams {
		return reencodeQuery(q)
	}
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case ';':
			return reencodeQuery(q)
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return reencodeQuery(q)
			}
			i += 2
		}
	}
	return q
}

func reencodeQuery(q string) string {
	v, _ := url.ParseQuery(q) // keeps what parses, drops the rest
	return v.Encode()
}
