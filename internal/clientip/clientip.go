package clientip

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Canonical header names.
const (
	XForwardedFor = "X-Forwarded-For"
	Forwarded     = "Forwarded"
)

// Resolver finds client addresses. The zero value trusts no proxy and
// answers with the connection's peer.
type Resolver struct {
	trusted   []netip.Prefix
	header    string
	forwarded bool
}

// New returns a Resolver that believes header (X-Forwarded-For when empty,
// or Forwarded; case does not matter) when written by a proxy in trusted.
// It fails for an invalid prefix or another header.
func New(trusted []netip.Prefix, header string) (*Resolver, error) {
	r := &Resolver{trusted: make([]netip.Prefix, 0, len(trusted))}
	for _, p := range trusted {
		if !p.IsValid() {
			return nil, fmt.Errorf("clientip: invalid trusted proxy prefix %q", p)
		}
		p = p.Masked()
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(0, p.Bits()-96))
		}
		r.trusted = append(r.trusted, p)
	}
	switch {
	case header == "" || strings.EqualFold(header, XForwardedFor):
		r.header = XForwardedFor
	case strings.EqualFold(header, Forwarded):
		r.header, r.forwarded = Forwarded, true
	default:
		return nil, fmt.Errorf("clientip: header %q is neither X-Forwarded-For nor Forwarded", header)
	}
	return r, nil
}

// ErrNoAddr reports a RemoteAddr without an IP address in it.
var ErrNoAddr = errors.New("clientip: no address in RemoteAddr")

// Trusted reports whether a is a trusted proxy.
func (r *Resolver) Trusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address for a request from remoteAddr
// (as in http.Request.RemoteAddr) with header h. The address has no zone
// and IPv4-mapped IPv6 addresses are unmapped. When the forwarding header
// holds an entry that cannot be parsed, the walk stops at the trusted hop
// before it, which is returned: a proxy's address, never one the client
// chose.
func (r *Resolver) ClientIP(remoteAddr string, h http.Header) (netip.Addr, error) {
	peer, ok := parseNode(remoteAddr)
	if !ok {
		return netip.Addr{}, ErrNoAddr
	}
	if len(r.trusted) == 0 || !r.Trusted(peer) {
		return peer, nil
	}
	hop := peer
	lines := h[r.header]
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for end := len(line); end >= 0; {
			start := lastComma(line[:end])
			elem := line[start+1 : end]
			end = start
			if strings.TrimSpace(elem) == "" {
				continue // empty list elements are allowed and mean nothing
			}
			node := elem
			if r.forwarded {
				node, ok = forParam(elem)
				if !ok {
					return hop, nil
				}
			}
			a, ok := parseNode(node)
			if !ok {
				return hop, nil
			}
			if !r.Trusted(a) {
				return a, nil
			}
			hop = a
		}
	}
	return hop, nil
}

// lastComma returns the index of the last comma of s outside a quoted
// string, or -1.
func lastComma(s string) int {
	quoted := false
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				return i
			}
		}
	}
	return -1
}

// forParam returns the value of the for= parameter of one Forwarded
// element, unquoted.
func forParam(elem string) (string, bool) {
	for elem != "" {
		var pair string
		pair, elem, _ = strings.Cut(elem, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(k, "for") {
			continue
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return v, true
	}
	return "", false
}

// parseNode parses an address with an optional port: "192.0.2.1",
// "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:80".
func parseNode(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, false
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		rest := s[end+1:]
		if rest != "" && (rest[0] != ':' || !isPort(rest[1:])) {
			return netip.Addr{}, false
		}
		s = s[1:end]
	} else if i := strings.IndexByte(s, ':'); i >= 0 && strings.LastIndexByte(s, ':') == i {
		// One colon: an IPv4 address and a port.
		if !isPort(s[i+1:]) {
			return netip.Addr{}, false
		}
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// isPort reports whether s is a decimal port, or an obfuscated one as RFC
// 7239 allows ("_" then letters, digits, ".", "_" or "-").
func isPort(s string) bool {
	if s == "" {
		return false
	}
	obf := s[0] == '_'
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case obf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}
