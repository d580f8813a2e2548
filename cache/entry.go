// Package cache holds the vocabulary of response caching that the gateway's
// Proxy consumes: the stored [Entry], the cache [Key] of a request, and the
// shared-cache rules of RFC 9111 that decide what may be stored and served.
//
// The rules here are the conservative core: only GET responses with an
// explicit freshness lifetime are stored, and only while fresh are they
// served. What is not stored is forwarded, so a rule that is too strict
// costs a round trip, never a wrong answer.
package cache

import (
	"net/http"
	"strings"
	"time"
)

// Entry is a stored response.
type Entry struct {
	// Status is the response status.
	Status int
	// Header is the response header, without hop-by-hop fields.
	Header http.Header
	// Body is the whole response body.
	Body []byte
	// Stored is when the response was received.
	Stored time.Time
	// Expires is when the response stops being fresh.
	Expires time.Time
}

// Fresh reports whether e may be served without asking the origin at now.
func (e *Entry) Fresh(now time.Time) bool { return now.Before(e.Expires) }

// Age returns e's age at now, for the Age header: the Age it arrived with
// (time spent in caches upstream) plus how long it has been stored (RFC
// 9111 4.2.3).
func (e *Entry) Age(now time.Time) time.Duration {
	a := age(e.Header)
	if now.After(e.Stored) {
		a += now.Sub(e.Stored)
	}
	return a
}

// Key returns the cache key of r: its method, host and request URI. Hosts
// are compared case-insensitively.
func Key(r *http.Request) string {
	host := strings.ToLower(r.Host)
	uri := r.URL.RequestURI()
	var b strings.Builder
	b.Grow(len(r.Method) + len(host) + len(uri) + 2)
	b.WriteString(r.Method)
	b.WriteByte(' ')
	b.WriteString(host)
	b.WriteString(uri)
	return b.String()
}
