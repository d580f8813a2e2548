// Package auth authenticates requests and authorizes them: who is calling
// (a [Principal]) and whether they may.
//
// An [Authenticator] reads one kind of credential from a request. The
// middleware in this package asks its authenticators in turn, puts the
// Principal in the request's context ([PrincipalFrom]) and answers 401,
// with a WWW-Authenticate challenge, or 403 when the caller is known but
// not allowed. The kinds of credential live in their own packages, each an
// Authenticator: auth/jwtauth (JWT, with keys from PEM, JWK or a JWKS URL),
// auth/apikey (API keys of tenants and plans), auth/introspect (OAuth2
// token introspection), and in this package HTTP Basic, client
// certificates and forward auth.
package auth
