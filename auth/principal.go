package auth

import (
	"context"
	"slices"
)

// Principal is who a request comes from, once an [Authenticator] has
// vouched for it. A Principal may be shared between requests (a cache of
// verified tokens hands out the same one): treat it as read-only.
type Principal struct {
	// Subject identifies the caller: a user id, a client id, a key's id.
	Subject string
	// Tenant is the organization the caller belongs to, when known.
	Tenant string
	// Plan is the caller's plan or tier, which rate limits may be chosen
	// by, when known.
	Plan string
	// Scopes are the OAuth2 scopes, or permissions, granted to the caller.
	Scopes []string
	// Roles are the caller's roles.
	Roles []string
	// Method names the Authenticator that vouched for the caller: "jwt",
	// "apikey", "basic", "mtls", "introspection", "forward".
	Method string
	// Claims holds what else the credential said (a JWT's claims, an
	// introspection answer's members, a forward-auth service's headers),
	// for policies and for the headers forwarded upstream. Nil when there
	// is nothing more.
	Claims map[string]any
}

// HasScope reports whether p was granted scope.
func (p *Principal) HasScope(scope string) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

// HasRole reports whether p has role.
func (p *Principal) HasRole(role string) bool {
	return p != nil && slices.Contains(p.Roles, role)
}

// principalKey is the context key of the Principal: a pointer to an
// unexported type, so that no other package can collide with it.
type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the Principal that ctx carries, or nil when the
// request was not authenticated.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
