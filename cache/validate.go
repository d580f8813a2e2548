package cache

import (
	"net/http"
	"strings"
	"time"
)

// SetConditional makes h, the header of a request forwarded to validate
// stored responses, conditional on them (RFC 9111 4.3.1): If-None-Match
// lists the ETag of each entry that has one (all variants may be named at
// once, 4.3.1), and If-Modified-Since carries the Last-Modified of the
// entry when there is exactly one. It replaces any such fields h had, and
// leaves h unconditional when the entries have no validator.
func SetConditional(h http.Header, entries ...*Entry) {
	h.Del("If-None-Match")
	h.Del("If-Modified-Since")
	var tags []string
	for _, e := range entries {
		if e == nil {
			continue
		}
		for _, t := range e.Header["Etag"] {
			if t = strings.TrimSpace(t); t != "" && !containsString(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	if len(tags) > 0 {
		h["If-None-Match"] = []string{strings.Join(tags, ", ")}
	}
	if len(entries) == 1 && entries[0] != nil {
		if lm := entries[0].Header["Last-Modified"]; len(lm) > 0 {
			h["If-Modified-Since"] = []string{lm[0]}
		}
	}
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// strongETag reports whether an entity-tag is strong (RFC 9110 8.8.3).
func strongETag(t string) bool { return t != "" && !strings.HasPrefix(t, "W/") }

// SelectForUpdate returns the indexes of the entries (the stored variants
// under one key) that res, a 304 to a conditional request, updates (RFC
// 9111 4.3.4):
//
//   - when res has a strong ETag, every entry with that same ETag, and none
//     when no entry has it;
//   - else, when res has a weak ETag or a Last-Modified, the most recently
//     stored entry with that same validator;
//   - else, when there is one entry and it has no validator either, that
//     one.
//
// Last-Modified is treated as a weak validator here, which RFC 9110 8.8.2.2
// allows.
func SelectForUpdate(entries []*Entry, res *http.Response) []int {
	etag := strings.TrimSpace(res.Header.Get("Etag"))
	lm := res.Header.Get("Last-Modified")
	var out []int
	if strongETag(etag) {
		for i, e := range entries {
			if e != nil && e.Header.Get("Etag") == etag {
				out = append(out, i)
			}
		}
		return out
	}
	if etag != "" || lm != "" {
		best := -1
		for i, e := range entries {
			if e == nil {
				continue
			}
			same := etag != "" && weakEqual(e.Header.Get("Etag"), etag) ||
				etag == "" && lm != "" && e.Header.Get("Last-Modified") == lm
			if same && (best < 0 || e.Stored.After(entries[best].Stored)) {
				best = i
			}
		}
		if best >= 0 {
			out = append(out, best)
		}
		return out
	}
	if len(entries) == 1 && entries[0] != nil && entries[0].Header.Get("Etag") == "" && entries[0].Header.Get("Last-Modified") == "" {
		out = append(out, 0)
	}
	return out
}

// weakEqual is the weak comparison of entity-tags (RFC 9110 8.8.3.2).
func weakEqual(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/") && a != ""
}

// notUpdated lists the fields a 304 does not replace in a stored response
// (RFC 9111 3.2): those that describe the stored body (Content-Length,
// Content-Encoding, Content-Type, Content-Range), Vary, since the entry
// keeps the request values it was selected by (4.1), and Set-Cookie, which
// a shared entry never carries.
var notUpdated = [...]string{"Content-Length", "Content-Encoding", "Content-Type", "Content-Range", "Vary", "Set-Cookie"}

// Freshen returns a copy of e updated from res, a 304 (Not Modified) that
// [SelectForUpdate] chose e for, sent at requestTime and received at
// responseTime (RFC 9111 4.3.4, 3.2): each header field of res replaces
// the stored one, except the fields that are never stored (3.1, and those
// named by a qualified private or no-cache in res or in e), and
// Content-Length, Content-Encoding, Content-Type and Content-Range (they
// describe the stored body), Vary (e keeps the request values it was
// selected by) and Set-Cookie (a shared entry never carries one); the
// times of 4.2.3 and the freshness lifetime are computed again from the
// result. Body, Status and Vary are kept. e itself is not changed, since a store may be
// serving it.
//
// keep reports whether the updated response may still be stored by a
// shared cache: it is false when the merged Cache-Control says no-store
// (without must-understand) or an unqualified private. When keep is false
// the caller deletes the entry and passes the response through rather
// than serving n from the cache.
func (p Policy) Freshen(e *Entry, res *http.Response, requestTime, responseTime time.Time) (n *Entry, keep bool) {
	cc := p.ResponseDirectives(res.Header)
	stored := p.ResponseDirectives(e.Header)
	h := e.Header.Clone()
	if h == nil {
		h = make(http.Header, len(res.Header))
	}
	for k, vs := range res.Header {
		if !storableField(res.Header, cc, k) || containsString(notUpdated[:], k) ||
			hasField(stored.PrivateFields(), k) || hasField(stored.NoCacheFields(), k) {
			continue
		}
		h[k] = append([]string(nil), vs...)
	}
	ne := *e
	n = &ne
	n.Header = h
	n.RequestTime = requestTime
	n.Stored = responseTime
	if len(res.Header["Date"]) == 0 {
		// The stored Date describes the old response: date the update
		// (RFC 9110 6.6.1).
		h["Date"] = []string{responseTime.UTC().Format(http.TimeFormat)}
	}
	// The Age that counts is the 304's: a stored Age it does not replace
	// described the old response (4.2.3). Nothing is removed from the
	// stored header for being absent from the 304 (3.2).
	merged := p.ResponseDirectives(h)
	p.setTimes(n, merged, age(res.Header))
	keep = !(merged.NoStore() && !merged.MustUnderstand()) && !(merged.Private() && merged.PrivateFields() == "")
	return n, keep
}
