package llm

import (
	"fmt"
	"time"
)

// ErrorKind classifies an [Error] the same way for every format, so that
// each ingress can answer in its client's own terms.
type ErrorKind string

// The kinds of errors, with the HTTP status each is answered with.
const (
	ErrInvalidRequest  ErrorKind = "invalid_request"   // 400
	ErrAuthentication  ErrorKind = "authentication"    // 401
	ErrPermission      ErrorKind = "permission"        // 403
	ErrNotFound        ErrorKind = "not_found"         // 404 (an unknown model)
	ErrRequestTooLarge ErrorKind = "request_too_large" // 413
	ErrRateLimit       ErrorKind = "rate_limit"        // 429
	ErrServer          ErrorKind = "server"            // 500
	ErrUnavailable     ErrorKind = "unavailable"       // 503
	ErrOverloaded      ErrorKind = "overloaded"        // 529 (Anthropic), 503 elsewhere
	ErrTimeout         ErrorKind = "timeout"           // 504
)

// Error is an error of a provider or of the gateway, in the model's terms.
// Codecs make one from each format's error body and write one in each
// format's shape.
type Error struct {
	// Kind classifies the error.
	Kind ErrorKind
	// Status is the HTTP status that came with it, or that it is answered
	// with; 0 means the Kind's.
	Status int
	// Message says what went wrong, for the client.
	Message string
	// Code and Param are the provider's error code and the request field
	// at fault, when it gave them (OpenAI code, param).
	Code  string
	Param string
	// RetryAfter is how long the provider asked to wait, 0 when it did
	// not say.
	RetryAfter time.Duration
	// Provider names the provider that failed, "" for the gateway itself.
	Provider string
}

// Error returns "llm: provider: kind: message".
func (e *Error) Error() string {
	if e.Provider != "" {
		return fmt.Sprintf("llm: %s: %s: %s", e.Provider, e.Kind, e.Message)
	}
	return fmt.Sprintf("llm: %s: %s", e.Kind, e.Message)
}

// HTTPStatus returns Status, or the status of Kind when Status is 0.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Kind.Status()
}

// Status returns the HTTP status an error of kind k is answered with.
func (k ErrorKind) Status() int {
	switch k {
	case ErrInvalidRequest:
		return 400
	case ErrAuthentication:
		return 401
	case ErrPermission:
		return 403
	case ErrNotFound:
		return 404
	case ErrRequestTooLarge:
		return 413
	case ErrRateLimit:
		return 429
	case ErrUnavailable, ErrOverloaded:
		return 503
	case ErrTimeout:
		return 504
	}
	return 500
}

// KindOf returns the kind of an error that came with HTTP status code.
func KindOf(status int) ErrorKind {
	switch {
	case status == 400 || status == 422:
		return ErrInvalidRequest
	case status == 401:
		return ErrAuthentication
	case status == 403:
		return ErrPermission
	case status == 404:
		return ErrNotFound
	case status == 413:
		return ErrRequestTooLarge
	case status == 429:
		return ErrRateLimit
	case status == 503:
		return ErrUnavailable
	case status == 529:
		return ErrOverloaded
	case status == 504 || status == 408:
		return ErrTimeout
	case status >= 400 && status < 500:
		return ErrInvalidRequest
	}
	return ErrServer
}
