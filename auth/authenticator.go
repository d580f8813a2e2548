package auth

import (
	"errors"
	"net/http"

	"github.com/vivremotion/gateway/internal/errs"
)

// Authenticator reads one kind of credential from a request and says who
// it belongs to. It returns:
//
//   - the [Principal] and no error, when the credential is valid;
//   - an error that wraps [ErrNoCredentials], when the request carries no
//     credential of this kind, so that the next Authenticator is asked;
//   - any other error when the credential is there but not valid
//     (expired, revoked, a bad signature, an unknown key). Such an error
//     ends the request with 401; an [*Error] says what to tell the client.
//   - an error that wraps the gateway's ErrUpstreamConnection or
//     ErrUpstreamTimeout (package internal/errs) when it could not decide,
//     as when the service it asks is down or slow. The middleware then
//     fails closed with 502 or 504 and no challenge, rather than telling
//     a client with a good credential that it is not valid.
//
// Implementations are safe for concurrent use, and must not keep r.
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// Challenger is an optional ability of an [Authenticator]: the challenge
// it sends in WWW-Authenticate with a 401 (RFC 9110 section 11.6.1), such as
// `Bearer realm="api"` or `Basic realm="api", charset="UTF-8"`.
type Challenger interface {
	Challenge() string
}

// ErrNoCredentials reports a request that carries no credential of the
// kind an [Authenticator] reads.
var ErrNoCredentials = errors.New("auth: no credentials")

// The error codes of RFC 6750 section 3.1, for [Error.Code].
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// Error is a failed authentication or authorization, with what the client
// is told: the status (401 or 403), the RFC 6750 error code and a short
// description for the WWW-Authenticate challenge. Err is the cause, for
// logs; it never reaches the client. It wraps the gateway's
// ErrUnauthorized or ErrForbidden, by Status.
type Error struct {
	// Status is 401 (unauthenticated), 403 (authenticated, not allowed),
	// or 503 when the Authenticator could not decide (its store or service
	// cannot be reached), which is no verdict on the credential. Zero means
	// 401.
	Status int
	// Code is the RFC 6750 error code: [CodeInvalidRequest],
	// [CodeInvalidToken] or [CodeInsufficientScope]; empty for none.
	Code string
	// Description is a short text for humans, sent as error_description.
	// It must not carry secrets or internal detail.
	Description string
	// Scope, for [CodeInsufficientScope], lists the scopes the request
	// needs, space-separated.
	Scope string
	// Challenge, when not empty, replaces the challenge of the
	// Authenticator that returned the error in WWW-Authenticate, as when a
	// forward-auth service sends its own. Code and Description are then
	// not added to it.
	Challenge string
	// Err is the cause.
	Err error
}

// Error describes the failure, cause included.
func (e *Error) Error() string {
	s := "auth: " + http.StatusText(e.status())
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) status() int {
	if e.Status == 0 {
		return http.StatusUnauthorized
	}
	return e.Status
}

// Unwrap returns the cause and the gateway's sentinel for the status, so
// that errors.Is finds either: ErrUnauthorized for 401, ErrForbidden for
// 403, and ErrAuthUnavailable (503) for a 5xx Status, which an
// Authenticator sets when it cannot decide.
func (e *Error) Unwrap() []error {
	sentinel := errs.ErrUnauthorized
	switch st := e.status(); {
	case st == http.StatusForbidden:
		sentinel = errs.ErrForbidden
	case st >= 500:
		sentinel = errs.ErrAuthUnavailable
	}
	if e.Err == nil {
		return []error{sentinel}
	}
	return []error{sentinel, e.Err}
}
