package auth

import (
	"errors"
	"net/http"
)

// The ways a bearer credential can be malformed, as [BearerToken] reports
// them. An Authenticator answers each with its own [*Error], code
// invalid_request or invalid_token (RFC 6750 section 3.1).
var (
	// ErrBearerDuplicate: the request has more than one Authorization
	// header, which is ambiguous whatever they hold.
	ErrBearerDuplicate = errors.New("auth: more than one Authorization header")
	// ErrBearerEmpty: the Bearer scheme with no token.
	ErrBearerEmpty = errors.New("auth: empty bearer token")
	// ErrBearerMalformed: a token that is not a b64token (RFC 6750
	// section 2.1).
	ErrBearerMalformed = errors.New("auth: malformed bearer token")
)

// BearerToken returns the token of the request's Authorization header
// when its scheme is Bearer (in any case), without allocating. It returns
// [ErrNoCredentials] when there is no Authorization header or it holds
// another scheme, so that another Authenticator may read it, and
// [ErrBearerDuplicate], [ErrBearerEmpty] or [ErrBearerMalformed] for a
// header that is not one well-formed bearer credential.
func BearerToken(h http.Header) (string, error) {
	vs := h["Authorization"] // the canonical key, read directly: no allocation
	if len(vs) == 0 {
		return "", ErrNoCredentials
	}
	v := vs[0]
	const scheme = "bearer"
	if len(v) < len(scheme) || !equalFoldLower(v[:len(scheme)], scheme) {
		return "", ErrNoCredentials
	}
	rest := v[len(scheme):]
	if rest != "" && rest[0] != ' ' {
		return "", ErrNoCredentials // another scheme that starts with "Bearer", such as "Bearerx"
	}
	if len(vs) > 1 {
		return "", ErrBearerDuplicate
	}
	for rest != "" && rest[0] == ' ' {
		rest = rest[1:]
	}
	for rest != "" && rest[len(rest)-1] == ' ' {
		rest = rest[:len(rest)-1]
	}
	if rest == "" {
		return "", ErrBearerEmpty
	}
	if !IsB64Token(rest) {
		return "", ErrBearerMalformed
	}
	return rest, nil
}

// equalFoldLower reports whether a equals b, which is lower case and as
// long, under ASCII case folding.
func equalFoldLower(a, b string) bool {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

// IsB64Token reports whether s matches b64token of RFC 6750 section 2.1,
// the characters a bearer token may hold:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func IsB64Token(s string) bool {
	i := 0
	for i < len(s) && isB64Char(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

func isB64Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}
