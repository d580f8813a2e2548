package cache

import (
	"net/http"
	"strings"
)

// NotModified reports whether a cache that answers req from e should send
// 304 (Not Modified) rather than e itself (RFC 9111 4.3.2, RFC 9110
// 13.1.2 and 13.1.3): e's status is 2xx (RFC 9110 13.2.1: conditions are
// not evaluated for other responses), req is a GET or HEAD and either its
// If-None-Match names e's ETag under weak comparison (or is "*"), or, with
// no If-None-Match, its If-Modified-Since is not earlier than e's
// Last-Modified (or Date, or the time it was stored, when it has none). An
// invalid If-Modified-Since is ignored. It does not allocate.
func NotModified(req *http.Request, e *Entry) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead || e.Status < 200 || e.Status > 299 {
		return false
	}
	if inm := req.Header["If-None-Match"]; len(inm) > 0 {
		var etag string
		if v := e.Header["Etag"]; len(v) > 0 {
			etag = strings.TrimSpace(v[0])
		}
		for _, line := range inm {
			for line != "" {
				var t string
				t, line, _ = strings.Cut(line, ",")
				t = strings.TrimSpace(t)
				if t == "*" || etag != "" && weakEqual(t, etag) {
					return true
				}
			}
		}
		return false
	}
	ims := req.Header["If-Modified-Since"]
	if len(ims) == 0 {
		return false
	}
	since, err := http.ParseTime(ims[0])
	if err != nil {
		return false
	}
	modified := e.Stored
	if v := e.Header["Last-Modified"]; len(v) > 0 {
		if t, err := http.ParseTime(v[0]); err == nil {
			modified = t
		}
	} else {
		modified = dateOf(e.Header, e.Stored)
	}
	return !modified.After(since)
}
