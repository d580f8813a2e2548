// Package clientip finds a request's client address behind trusted
// proxies, from X-Forwarded-For or Forwarded (RFC 7239), without
// allocating.
//
// The forwarding header is believed only as far as trusted proxies wrote
// it: the walk starts at the connection's peer and moves right to left
// through the header while the hop it stands on is a trusted proxy. The
// first address that is not a trusted proxy is the client. A client can
// write anything to the left of what the proxies appended, so the
// leftmost entries are never believed unless every hop to their right is
// trusted.
package clientip
