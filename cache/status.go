package cache

import (
	"strconv"
	"strings"
	"time"
)

// Fwd is why a request went forward to the origin, the fwd parameter of
// Cache-Status (RFC 9211 2.2).
type Fwd uint8

const (
	// FwdNone: the request was not forwarded; no fwd parameter.
	FwdNone Fwd = iota
	// FwdBypass: the cache was configured not to handle the request.
	FwdBypass
	// FwdMethod: the request's method is not cacheable.
	FwdMethod
	// FwdURIMiss: nothing was stored for the target URI.
	FwdURIMiss
	// FwdVaryMiss: responses were stored, but none for the request's
	// Vary fields.
	FwdVaryMiss
	// FwdMiss: the request was not satisfied by the cache, for another
	// reason.
	FwdMiss
	// FwdRequest: the request's directives asked for it.
	FwdRequest
	// FwdStale: the stored response was stale.
	FwdStale
	// FwdPartial: only part of the response was stored.
	FwdPartial
)

var fwdNames = [...]string{"", "bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale", "partial"}

// String returns the token of f as Cache-Status writes it, "" for FwdNone.
func (f Fwd) String() string {
	if int(f) < len(fwdNames) {
		return fwdNames[f]
	}
	return "miss"
}

// Status is one member of a Cache-Status field (RFC 9211): what one cache
// did with one request. The zero value with a Cache name is a bare member
// (neither hit nor forwarded, which 2.1 reads as a miss).
type Status struct {
	// Cache names the cache, a token such as "gateway" (RFC 9211 2). It
	// is written as is when it is a token; any other name is written as a
	// quoted string (an sf-string, with characters outside printable
	// ASCII replaced by '?'), so that it cannot break the field. There is
	// no constructor to check it: choose a token.
	Cache string
	// Hit: the response came from the cache without going forward
	// (2.1).
	Hit bool
	// Fwd is why the request went forward (2.2).
	Fwd Fwd
	// FwdStatus is the status the next hop answered when forwarded, 0 for
	// none (2.3).
	FwdStatus int
	// TTL is the response's remaining freshness, negative when stale;
	// written when HasTTL (2.4), in whole seconds rounded away from zero.
	TTL time.Duration
	// HasTTL says to write TTL.
	HasTTL bool
	// Stored: the forwarded response was stored (2.5).
	Stored bool
	// Collapsed: the forwarded request was collapsed with another (2.6).
	Collapsed bool
	// Detail, when not empty, is written as the detail parameter (2.8),
	// as a token when it is one and as a string otherwise.
	Detail string
}

// Append appends s, as a Cache-Status member, to dst and returns the
// extended slice, e.g. "gateway; fwd=stale; fwd-status=304; stored;
// ttl=60". It allocates only when dst must grow.
func (s Status) Append(dst []byte) []byte {
	dst = appendCacheName(dst, s.Cache)
	if s.Hit {
		dst = append(dst, "; hit"...)
	}
	if s.Fwd != FwdNone {
		dst = append(dst, "; fwd="...)
		dst = append(dst, s.Fwd.String()...)
	}
	if s.FwdStatus != 0 {
		dst = append(dst, "; fwd-status="...)
		dst = strconv.AppendInt(dst, int64(s.FwdStatus), 10)
	}
	if s.Stored {
		dst = append(dst, "; stored"...)
	}
	if s.Collapsed {
		dst = append(dst, "; collapsed"...)
	}
	if s.HasTTL {
		dst = append(dst, "; ttl="...)
		// Whole seconds rounded away from zero, so that the sign is
		// always right (a response stale by a fraction of a second is not
		// written as ttl=0) and one just stored with max-age=60 shows 60.
		ttl := s.TTL / time.Second
		switch r := s.TTL % time.Second; {
		case r < 0:
			ttl--
		case r > 0:
			ttl++
		}
		dst = strconv.AppendInt(dst, int64(ttl), 10)
	}
	if s.Detail != "" {
		dst = append(dst, "; detail="...)
		dst = appendCacheName(dst, s.Detail)
	}
	return dst
}

// String returns s as a Cache-Status member.
func (s Status) String() string {
	var buf [96]byte // by value: one allocation, for the string
	return string(s.Append(buf[:0]))
}

// appendCacheName appends name (a cache name or a detail) as a Structured
// Fields token when it is one (RFC 8941 3.3.4), else as a string (3.3.3).
func appendCacheName(dst []byte, name string) []byte {
	if isSFToken(name) {
		return append(dst, name...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c > 0x7e:
			dst = append(dst, '?')
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// isSFToken reports whether s is a Structured Fields token: ALPHA or "*",
// then tchar, ":" or "/".
func isSFToken(s string) bool {
	if s == "" || !(s[0] == '*' || 'a' <= s[0]|0x20 && s[0]|0x20 <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0) {
			return false
		}
	}
	return true
}
