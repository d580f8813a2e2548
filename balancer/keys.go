package balancer

import (
	"net"
	"net/http"
	"net/textproto"
	"strings"
)

// A key function returns what [ConsistentHash] hashes for a request. The
// ones here allocate nothing per request.

// KeyClientIP returns the host part of r.RemoteAddr, the address of the
// peer that connected. Behind another proxy that is the proxy, not the
// client; use [KeyHeader] with a header that proxy sets, once it is
// trusted.
func KeyClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// KeyPath returns the request's URL path.
func KeyPath(r *http.Request) string { return r.URL.Path }

// KeyHeader returns a key function that gives the first value of the
// request header name, "" when there is none.
func KeyHeader(name string) func(*http.Request) string {
	name = textproto.CanonicalMIMEHeaderKey(name) // once, not per request
	return func(r *http.Request) string {
		if v := r.Header[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
}

// KeyCookie returns a key function that gives the value of the request's
// cookie name, "" when there is none.
func KeyCookie(name string) func(*http.Request) string {
	return func(r *http.Request) string { return cookieValue(r, name) }
}

// cookieValue returns the value of the first cookie called name in r's
// Cookie headers, without its double quotes, or "". Unlike
// [http.Request.Cookie] it parses only as far as it needs and allocates
// nothing; the value is not checked for invalid bytes, as it is only
// compared or hashed.
func cookieValue(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return ""
}
