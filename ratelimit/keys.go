package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/vivremotion/gateway/internal/clientip"
)

// KeyFunc appends the limiter key of r to dst and returns the extended
// slice, as strconv.AppendInt does. The middleware hands it a pooled
// buffer, so that a key built from several parts costs no allocation. A
// KeyFunc that finds nothing appends nothing: all such requests then share
// one key (the empty one, or the parts that were found).
type KeyFunc func(dst []byte, r *http.Request) []byte

// ClientIP says how to find the client's address for [ByClientIP]. The zero
// value believes no forwarding header and keys IPv6 clients by /64.
type ClientIP struct {
	// TrustedProxies lists the proxies whose forwarding header is believed.
	// Nil: none; the header is ignored and the connection's peer is the
	// client. The header is walked from the right, skipping trusted hops,
	// so what a client writes to its left is never believed.
	TrustedProxies []netip.Prefix
	// Header is the header the trusted proxies append to:
	// "X-Forwarded-For" (the default when empty) or "Forwarded" (RFC 7239).
	// Only one is read: a client could forge the other.
	Header string
	// IPv6Bits is how many leading bits of an IPv6 address make the key,
	// since one client commonly holds a whole /64. Zero means 64; 128 keys
	// each address apart. IPv4 addresses are always whole.
	IPv6Bits int
}

// ByClientIP returns a KeyFunc keyed by the client's address as c finds it,
// in text ("192.0.2.1", "2001:db8::/64"). It fails for an invalid prefix, an
// unknown header or IPv6Bits outside 0..128. A request whose RemoteAddr
// holds no address (a Unix socket, say) is keyed by RemoteAddr as it is.
func ByClientIP(c ClientIP) (KeyFunc, error) {
	res, err := clientip.New(c.TrustedProxies, c.Header)
	if err != nil {
		return nil, err
	}
	bits := c.IPv6Bits
	switch {
	case bits == 0:
		bits = 64
	case bits < 0 || bits > 128:
		return nil, fmt.Errorf("ratelimit: IPv6Bits %d is outside 0..128", bits)
	}
	return func(dst []byte, r *http.Request) []byte {
		a, err := res.ClientIP(r.RemoteAddr, r.Header)
		if err != nil {
			return append(dst, r.RemoteAddr...)
		}
		return appendAddr(dst, a, bits)
	}, nil
}

// appendAddr appends a, or its prefix of bits when a is IPv6.
func appendAddr(dst []byte, a netip.Addr, bits int) []byte {
	if !a.Is6() || bits == 128 {
		return a.AppendTo(dst)
	}
	p, _ := a.Prefix(bits)
	return p.AppendTo(dst)
}

// ipKey is ByClientIP of the zero ClientIP, which cannot fail.
var ipKey, _ = ByClientIP(ClientIP{})

// ByIP keys a request by its connection's peer address, never by a
// forwarding header, with IPv6 addresses keyed by /64. It is the default
// key of [Middleware]. Behind a proxy, use [ByClientIP] with the proxy's
// address.
func ByIP(dst []byte, r *http.Request) []byte { return ipKey(dst, r) }

// ByRoute keys a request by the pattern of the route that matched it
// (r.Pattern, as http.ServeMux sets it), so that each route has its own
// allowance. Compose it with a client key for per-client, per-route limits.
func ByRoute(dst []byte, r *http.Request) []byte { return append(dst, r.Pattern...) }

// ByHeader returns a KeyFunc keyed by the first value of the header name.
// A client chooses its headers: key by one only where something in front
// (an authenticating middleware, a proxy) vouches for it.
func ByHeader(name string) KeyFunc {
	name = http.CanonicalHeaderKey(name) // once, not per request
	return func(dst []byte, r *http.Request) []byte {
		if vs := r.Header[name]; len(vs) > 0 {
			dst = append(dst, vs[0]...)
		}
		return dst
	}
}

// ByQuery returns a KeyFunc keyed by the first value of the query
// parameter name, unescaped: the value r.URL.Query().Get(name) returns,
// so that a client cannot get a fresh allowance by escaping the same
// value another way ("abc", "%61bc", "a%62c"). It follows net/url: '+' is
// a space, a pair whose name or value holds an invalid escape, or that
// holds a ';', is skipped, and the parameter's name may itself be
// escaped. It reads r.URL.RawQuery without parsing it into a map, and
// unescapes into dst: no allocation.
func ByQuery(name string) KeyFunc {
	return func(dst []byte, r *http.Request) []byte {
		n := len(dst)
		q := r.URL.RawQuery
		for q != "" {
			var pair string
			pair, q, _ = strings.Cut(q, "&")
			if pair == "" || strings.IndexByte(pair, ';') >= 0 {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			var ok bool
			if dst, ok = appendUnescape(dst[:n], k); !ok || string(dst[n:]) != name {
				continue
			}
			if dst, ok = appendUnescape(dst[:n], v); ok {
				return dst
			}
		}
		return dst[:n]
	}
}

// appendUnescape appends s unescaped as a query component ('+' is a
// space, %XX a byte) to dst. It reports false for an invalid escape.
func appendUnescape(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return dst, false
			}
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// ByFunc returns a KeyFunc keyed by what f returns. f allocates or not as
// it pleases; returning a string held by the request costs nothing.
func ByFunc(f func(r *http.Request) string) KeyFunc {
	return func(dst []byte, r *http.Request) []byte { return append(dst, f(r)...) }
}

// ByContext returns a KeyFunc keyed by the request context's value for key,
// when it is a string, a []byte or a fmt.Stringer. It is the hook for an
// authenticating middleware that stores who the caller is (an API key's
// id, a tenant, a principal) in the context.
func ByContext(key any) KeyFunc {
	return func(dst []byte, r *http.Request) []byte {
		return appendValue(dst, r.Context(), key)
	}
}

func appendValue(dst []byte, ctx context.Context, key any) []byte {
	switch v := ctx.Value(key).(type) {
	case string:
		return append(dst, v...)
	case []byte:
		return append(dst, v...)
	case fmt.Stringer:
		return append(dst, v.String()...)
	}
	return dst
}

// Separator is the byte [Compose] puts between parts. Neither header values
// nor URLs nor addresses can hold it, so two different requests cannot
// make the same composite key by moving text from one part to another.
const Separator = 0

// Compose returns a KeyFunc that appends each of keys in turn, joined by
// [Separator].
func Compose(keys ...KeyFunc) KeyFunc {
	keys = append([]KeyFunc(nil), keys...) // the caller may reuse its slice
	return func(dst []byte, r *http.Request) []byte {
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, Separator)
			}
			dst = k(dst, r)
		}
		return dst
	}
}
