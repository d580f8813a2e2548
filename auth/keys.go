package auth

import "net/http"

// KeySubject appends the Subject of the request's [Principal] to dst, and
// nothing for an anonymous request. It has the shape of package
// ratelimit's KeyFunc, so that each caller gets its own limit:
//
//	ratelimit.PerKey(lim, auth.KeySubject)
//
// It allocates nothing.
func KeySubject(dst []byte, r *http.Request) []byte {
	if p := PrincipalFrom(r.Context()); p != nil {
		dst = append(dst, p.Subject...)
	}
	return dst
}

// KeyTenant appends the Tenant of the request's [Principal] to dst, and
// nothing for an anonymous request or one with no tenant, so that the
// callers of a tenant share its limit. It has the shape of package
// ratelimit's KeyFunc and allocates nothing.
func KeyTenant(dst []byte, r *http.Request) []byte {
	if p := PrincipalFrom(r.Context()); p != nil {
		dst = append(dst, p.Tenant...)
	}
	return dst
}

// PlanOf returns the Plan of the request's [Principal], or "" for an
// anonymous request, for package ratelimit's Tiers.Of, which picks the
// limit by plan. It allocates nothing.
func PlanOf(r *http.Request) string {
	if p := PrincipalFrom(r.Context()); p != nil {
		return p.Plan
	}
	return ""
}
