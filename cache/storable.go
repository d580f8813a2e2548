package cache

import (
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// Storable reports whether a shared cache may store res, the response to
// req (RFC 9111 section 3). It requires all of:
//
//   - req is a GET; responses to other methods are not stored;
//   - the status is final and understood by this cache: the heuristically
//     cacheable codes of RFC 9110 15.1 and the redirects 302, 303 and 307;
//     206 is not stored (ranges pass through) and 304 only ever updates an
//     entry ([Policy.Freshen]);
//   - no no-store in the request (5.2.1.5) or the response (5.2.2.5), unless
//     the response also says must-understand, which with an understood status
//     overrides no-store (5.2.2.3);
//   - no unqualified private (5.2.2.7): a qualified one only keeps the named
//     fields out of the stored header;
//   - when req has Authorization, the response says public, must-revalidate
//     or s-maxage (3.5);
//   - the response has explicit freshness (public, max-age, s-maxage or
//     Expires, which is ignored when CDN-Cache-Control is in use, RFC 9213
//     2.2) or a heuristically cacheable status;
//   - a Set-Cookie, if any, is named by a qualified no-cache or private, so
//     that it is never stored: one client's cookie is not given to another.
//     This is stricter than RFC 9111, which leaves cookies to RFC 6265.
func (p Policy) Storable(req *http.Request, res *http.Response) bool {
	if req.Method != http.MethodGet || !statusIn(&understoodStatus, res.StatusCode) {
		return false
	}
	if RequestDirectives(req.Header).NoStore() {
		return false
	}
	cc := p.ResponseDirectives(res.Header)
	if cc.NoStore() && !cc.MustUnderstand() {
		return false
	}
	if cc.Private() && cc.PrivateFields() == "" {
		return false
	}
	_, sMaxAge := cc.SMaxAge()
	if len(req.Header["Authorization"]) > 0 && !(cc.Public() || cc.MustRevalidate() || sMaxAge) {
		return false
	}
	if len(res.Header["Set-Cookie"]) > 0 && !hasField(cc.NoCacheFields(), "Set-Cookie") && !hasField(cc.PrivateFields(), "Set-Cookie") {
		return false
	}
	_, maxAge := cc.MaxAge()
	_, cdn := p.cdnDirectives(res.Header)
	expires := len(res.Header["Expires"]) > 0 && !cdn // RFC 9213 2.2
	return cc.Public() || maxAge || sMaxAge || expires || statusIn(&heuristicStatus, res.StatusCode)
}

// NewEntry returns the entry to store for res, the response to req, with
// body its whole body; requestTime is when req was sent upstream and
// responseTime when res arrived (RFC 9111 4.2.3). It assumes
// [Policy.Storable] said yes. The stored header leaves out what RFC 9111
// 3.1 keeps out of a cache (Connection and the fields it names,
// Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade and the
// Proxy-Authenticate family) and the fields named by a qualified private
// (5.2.2.7) or no-cache (5.2.2.4, so that they are never served without
// revalidation), and gains a Date when it had none (RFC 9110 6.6.1).
func (p Policy) NewEntry(req *http.Request, res *http.Response, body []byte, requestTime, responseTime time.Time) *Entry {
	cc := p.ResponseDirectives(res.Header)
	h := storedHeader(res.Header, cc)
	if len(h["Date"]) == 0 {
		h["Date"] = []string{responseTime.UTC().Format(http.TimeFormat)}
	}
	e := &Entry{
		Status:      res.StatusCode,
		Header:      h,
		Body:        body,
		RequestTime: requestTime,
		Stored:      responseTime,
	}
	e.Vary, e.VaryValues = varyOf(res.Header, req.Header)
	p.setTimes(e, cc, age(res.Header))
	return e
}

// setTimes fills e's Date, Lifetime and Expires from its header, Stored
// and RequestTime, and sets its AgeValue.
func (p Policy) setTimes(e *Entry, cc Directives, ageValue time.Duration) {
	e.Date = dateOf(e.Header, e.Stored)
	e.AgeValue = ageValue
	e.Lifetime, _ = p.FreshnessLifetime(e.Header, e.Status, cc, e.Date)
	e.Expires = e.Stored.Add(e.Lifetime - correctedInitialAge(e.RequestTime, e.Stored, e.Date, e.AgeValue))
}

// unstored lists the fields a cache must not store (RFC 9111 3.1) or use
// to answer other requests (the proxy's own authentication, RFC 9110
// 11.7), in canonical form.
var unstored = [...]string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Te", "Transfer-Encoding", "Upgrade",
	"Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization",
}

// storedHeader returns a copy of h without the fields that are not stored.
func storedHeader(h http.Header, cc Directives) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if !storableField(h, cc, k) {
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// storableField reports whether the field k of h may be stored.
func storableField(h http.Header, cc Directives, k string) bool {
	for _, u := range unstored {
		if k == u {
			return false
		}
	}
	for _, c := range h["Connection"] {
		if hasField(c, k) {
			return false
		}
	}
	return !hasField(cc.PrivateFields(), k) && !hasField(cc.NoCacheFields(), k)
}

// canonicalList returns the canonical names of a comma-separated list of
// field names, skipping empty members.
func canonicalList(dst []string, lines []string) []string {
	for _, line := range lines {
		for line != "" {
			var f string
			f, line, _ = strings.Cut(line, ",")
			if f = strings.TrimSpace(f); f != "" {
				dst = append(dst, textproto.CanonicalMIMEHeaderKey(f))
			}
		}
	}
	return dst
}
