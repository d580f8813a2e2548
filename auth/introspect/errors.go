package introspect

import (
	"errors"
	"net/http"

	"github.com/vivremotion/gateway/auth"
)

// The causes of the errors that [Introspector.Authenticate] returns, for
// errors.Is. Each comes wrapped in an [*auth.Error] that says what the
// client is told; none of them reaches the client.
var (
	// ErrMalformed: the Authorization header is not a well-formed bearer
	// token (more than one header, an empty or over-long token, bytes that
	// RFC 6750 section 2.1 does not allow). 401 invalid_request or
	// invalid_token.
	ErrMalformed = errors.New("introspect: malformed bearer token")
	// ErrInactive: the introspection server answered "active": false.
	// 401 invalid_token.
	ErrInactive = errors.New("introspect: token not active")
	// ErrExpired: the answer said active, with an "exp" that has passed.
	// 401 invalid_token.
	ErrExpired = errors.New("introspect: token expired")
	// ErrNotYetValid: the answer said active, with an "nbf" still to come.
	// 401 invalid_token.
	ErrNotYetValid = errors.New("introspect: token not yet valid")
	// ErrAudience: the answer's "aud" does not name [Config.Audience].
	// 401 invalid_token.
	ErrAudience = errors.New("introspect: token not meant for this audience")
	// ErrIssuer: the answer's "iss" is not [Config.Issuer]. 401
	// invalid_token.
	ErrIssuer = errors.New("introspect: token from another issuer")
	// ErrTokenType: the answer said active, with a "token_type" of
	// refresh_token: not an access token. 401 invalid_token.
	ErrTokenType = errors.New("introspect: not an access token")
	// ErrTooManyCalls: [Config.MaxInflight] calls to the endpoint were
	// under way; the token was not checked. It comes with
	// [ErrUnavailable] (503).
	ErrTooManyCalls = errors.New("introspect: too many introspection calls in flight")
	// ErrCoolingDown: a call to the endpoint failed less than
	// [Config.FailureCooldown] ago; the token was not checked. It comes
	// with [ErrUnavailable] (503).
	ErrCoolingDown = errors.New("introspect: endpoint failed recently")
	// ErrUnavailable: the token could not be checked. The introspection
	// server could not be reached, did not answer in time, answered with a
	// status other than 200, or with a body that is not a valid
	// introspection response. The [*auth.Error] has Status 503: the token
	// may well be valid, so the client is not told it is not. Such failures
	// are never cached.
	ErrUnavailable = errors.New("introspect: introspection unavailable")
)

// The errors handed out, made once so that returning one allocates
// nothing. They are shared: do not modify them.
var (
	errMultipleHeaders = &auth.Error{Code: auth.CodeInvalidRequest, Description: "more than one Authorization header", Err: ErrMalformed}
	errEmptyToken      = &auth.Error{Code: auth.CodeInvalidRequest, Description: "the bearer token is missing", Err: ErrMalformed}
	errMalformedToken  = &auth.Error{Code: auth.CodeInvalidToken, Description: "the access token is malformed", Err: ErrMalformed}
	errInactive        = &auth.Error{Code: auth.CodeInvalidToken, Description: "the access token is not active", Err: ErrInactive}
	errExpired         = &auth.Error{Code: auth.CodeInvalidToken, Description: "the access token expired", Err: ErrExpired}
	errNotYetValid     = &auth.Error{Code: auth.CodeInvalidToken, Description: "the access token is not valid yet", Err: ErrNotYetValid}
	errAudience        = &auth.Error{Code: auth.CodeInvalidToken, Description: "the access token is not meant for this service", Err: ErrAudience}
	errIssuer          = &auth.Error{Code: auth.CodeInvalidToken, Description: "the access token is not from a trusted issuer", Err: ErrIssuer}
	errTokenType       = &auth.Error{Code: auth.CodeInvalidToken, Description: "the token is not an access token", Err: ErrTokenType}
	errTooManyCalls    = unavailable(ErrTooManyCalls)
	errCoolingDown     = unavailable(ErrCoolingDown)
)

// unavailable returns the 503 error for a failed introspection, with cause
// for logs. cause never holds the token: it is sent in the body, and the
// body is never quoted.
func unavailable(cause error) error {
	return &auth.Error{
		Status:      http.StatusServiceUnavailable,
		Description: "the access token could not be checked; try again later",
		Err:         &unavailableError{cause},
	}
}

// unavailableError is [ErrUnavailable] with its cause.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string   { return ErrUnavailable.Error() + ": " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.cause} }
