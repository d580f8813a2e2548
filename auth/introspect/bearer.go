package introspect

import (
	"errors"
	"net/http"

	"github.com/vivremotion/gateway/auth"
)

// bearerToken returns the token of the request's `Authorization: Bearer`
// header without allocating. It returns auth.ErrNoCredentials (through
// errNone) when there is no such header, and an *auth.Error when the header
// is malformed or the token longer than maxLen.
func bearerToken(h http.Header, maxLen int) (string, error) {
	tok, err := auth.BearerToken(h)
	switch {
	case err == nil && len(tok) > maxLen:
		return "", errMalformedToken
	case err == nil:
		return tok, nil
	case errors.Is(err, auth.ErrNoCredentials):
		return "", errNone
	case errors.Is(err, auth.ErrBearerDuplicate):
		return "", errMultipleHeaders
	case errors.Is(err, auth.ErrBearerEmpty):
		return "", errEmptyToken
	}
	return "", errMalformedToken
}
