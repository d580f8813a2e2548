package introspect

import "net/http"

// bearerToken returns the token of the request's `Authorization: Bearer`
// header without allocating. It returns auth.ErrNoCredentials (through
// errNone) when there is no such header, and an *auth.Error when the header
// is malformed.
func bearerToken(h http.Header, maxLen int) (string, error) {
	vs := h["Authorization"] // the canonical key, read directly: Get would do the same
	if len(vs) == 0 {
		return "", errNone
	}
	// A second Authorization header is ambiguous whatever it holds.
	if len(vs) > 1 {
		return "", errMultipleHeaders
	}
	v := vs[0]
	const scheme = "bearer"
	if len(v) < len(scheme) || !equalFoldASCII(v[:len(scheme)], scheme) {
		return "", errNone
	}
	rest := v[len(scheme):]
	if rest != "" && rest[0] != ' ' {
		return "", errNone // another scheme that starts with "Bearer", such as "Bearerx"
	}
	for rest != "" && rest[0] == ' ' {
		rest = rest[1:]
	}
	if rest == "" {
		return "", errEmptyToken
	}
	if len(rest) > maxLen || !isB64Token(rest) {
		return "", errMalformedToken
	}
	return rest, nil
}

// equalFoldASCII reports whether a and b, of the same length, are equal
// under ASCII case folding; b is lower case.
func equalFoldASCII(a, b string) bool {
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

// isB64Token reports whether s matches b64token of RFC 6750 section 2.1:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
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
