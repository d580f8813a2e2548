package cache

import (
	"net/http"
	"net/url"
	"strings"
)

// Invalidates returns the keys whose stored responses a cache must
// invalidate after res, the response to req (RFC 9111 4.4): when req's
// method is unsafe (anything but GET, HEAD, OPTIONS and TRACE, RFC 9110
// 9.2.1) and res is not an error (its status is 2xx or 3xx), the GET and
// HEAD [Key] of the target URI, and of the URIs in Location and
// Content-Location when they have the same origin as the target (4.4
// forbids the others, against denial of service). It returns nil
// otherwise.
func Invalidates(req *http.Request, res *http.Response) []string {
	return invalidates(req, res, schemeOf(req), req.Host)
}

// invalidates is [Invalidates] for a request whose target is at scheme
// and host.
func invalidates(req *http.Request, res *http.Response, scheme, host string) []string {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return nil
	}
	if res.StatusCode < 200 || res.StatusCode >= 400 {
		return nil
	}
	target := &url.URL{Scheme: strings.ToLower(scheme), Host: strings.ToLower(host), Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	keys := invalidateURI(nil, target)
	for _, f := range [...]string{"Location", "Content-Location"} {
		v := res.Header.Get(f)
		if v == "" {
			continue
		}
		u, err := target.Parse(v)
		if err != nil || !strings.EqualFold(u.Scheme, target.Scheme) || !strings.EqualFold(u.Host, target.Host) {
			continue
		}
		u.Host = strings.ToLower(u.Host)
		u.Fragment, u.RawFragment = "", ""
		keys = invalidateURI(keys, u)
	}
	return keys
}

func invalidateURI(keys []string, u *url.URL) []string {
	uri := u.RequestURI()
	for _, m := range [...]string{http.MethodGet, http.MethodHead} {
		k := key(m, strings.ToLower(u.Scheme), u.Host, uri)
		if !containsString(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}
