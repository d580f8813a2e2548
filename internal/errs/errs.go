// Package errs holds the sentinel errors shared by the root package and the
// leaf packages. The root package re-exports each of them under the same
// name, so errors.Is works whichever package a caller imports; leaf packages
// use this package because they must not import the root.
package errs

import "errors"

// The sentinels. Their messages carry the "gateway:" prefix because users
// see them through the root package.
var (
	ErrNoUpstream         = errors.New("gateway: no healthy upstream")
	ErrUpstreamTimeout    = errors.New("gateway: upstream timed out")
	ErrUpstreamConnection = errors.New("gateway: upstream connection failed")
	ErrRateLimited        = errors.New("gateway: rate limited")
	ErrLimiterUnavailable = errors.New("gateway: rate limiter could not decide")
	ErrCircuitOpen        = errors.New("gateway: circuit open")
	ErrBodyTooLarge       = errors.New("gateway: request body too large")
	ErrUnauthorized       = errors.New("gateway: unauthorized")
	ErrForbidden          = errors.New("gateway: forbidden")
	ErrAuthUnavailable    = errors.New("gateway: authentication service unavailable")
	ErrNotFound           = errors.New("gateway: no route matches")
	ErrMethodNotAllowed   = errors.New("gateway: method not allowed")
	ErrClientGone         = errors.New("gateway: client closed the request")
	ErrBadRequest         = errors.New("gateway: bad request")
)
