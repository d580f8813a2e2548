package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/vivremotion/gateway/internal/errs"
)

// Sentinel errors. Test for them with [errors.Is]; the [ErrorHandler] maps
// each to a status code (see [StatusOf]). Leaf packages return the same
// values, so a test against the root sentinel works for their errors too.
var (
	// ErrNoUpstream means the pool had no healthy upstream to pick: 503.
	ErrNoUpstream = errs.ErrNoUpstream
	// ErrUpstreamTimeout means dialing, awaiting the response head, or the
	// whole attempt took longer than its limit: 504.
	ErrUpstreamTimeout = errs.ErrUpstreamTimeout
	// ErrUpstreamConnection means the upstream could not be reached or hung
	// up before it answered: 502.
	ErrUpstreamConnection = errs.ErrUpstreamConnection
	// ErrRateLimited means a [Limiter] refused the request: 429 with
	// Retry-After.
	ErrRateLimited = errs.ErrRateLimited
	// ErrLimiterUnavailable: a rate limiter could not decide, as when its
	// shared store cannot be reached and it fails closed (503).
	ErrLimiterUnavailable = errs.ErrLimiterUnavailable
	// ErrCircuitOpen means a [Breaker] refused the request: 503.
	ErrCircuitOpen = errs.ErrCircuitOpen
	// ErrBodyTooLarge means the request body passed its limit: 413.
	ErrBodyTooLarge = errs.ErrBodyTooLarge
	// ErrUnauthorized means the request carried no valid credentials: 401
	// with WWW-Authenticate.
	ErrUnauthorized = errs.ErrUnauthorized
	// ErrForbidden means the credentials do not grant the request: 403.
	ErrForbidden = errs.ErrForbidden
	// ErrAuthUnavailable: what authenticates requests could not decide
	// (a key store or an introspection endpoint that cannot be reached),
	// so the request is refused without a verdict on its credential (503).
	ErrAuthUnavailable = errs.ErrAuthUnavailable
	// ErrNotFound means no route matched the request: 404.
	ErrNotFound = errs.ErrNotFound
	// ErrMethodNotAllowed means a route matched the path but not the
	// method: 405 with Allow.
	ErrMethodNotAllowed = errs.ErrMethodNotAllowed
	// ErrClientGone means the client went away before the answer was
	// ready. Nothing is written; logs and metrics record it as 499.
	ErrClientGone = errs.ErrClientGone
	// ErrBadRequest means the request could not be forwarded as sent: 400.
	ErrBadRequest = errs.ErrBadRequest
)

// StatusClientClosedRequest is the status that logs and metrics record when
// the client went away before the gateway answered. It is never sent.
const StatusClientClosedRequest = 499

// Error is the detailed error of a gateway operation. It wraps one of the
// sentinels (or a cause that [StatusOf] classifies) and carries what the
// error response needs.
type Error struct {
	// Op names what failed: "route", "limit", "breaker", "balance",
	// "round trip", "copy response".
	Op string
	// Upstream is the upstream's host, when one was involved. It goes to
	// logs, never into the response body.
	Upstream string
	// Status, when not zero, is the status to answer with; zero means the
	// status follows from Err.
	Status int
	// RetryAfter, when positive, is sent as Retry-After in whole seconds,
	// rounded up.
	RetryAfter time.Duration
	// Header holds extra response headers, such as Allow or
	// WWW-Authenticate. Nil means none.
	Header http.Header
	// Err is the cause.
	Err error
}

// Error returns the operation, the upstream and the cause.
func (e *Error) Error() string {
	s := e.Op
	if e.Upstream != "" {
		s += " " + e.Upstream
	}
	if e.Err == nil {
		return s
	}
	if s == "" {
		return e.Err.Error()
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorHandler writes the response for an error that stopped a request.
// [WriteError] is the default. A replacement should keep its mapping (see
// [StatusOf]) unless it means to change it, and write nothing when the
// status is [StatusClientClosedRequest].
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// StatusOf returns the status code for err:
//
//   - 499 ([StatusClientClosedRequest]) when the client went away: err is
//     [ErrClientGone], or it is [context.Canceled] and r's context is done;
//   - the Status of an [*Error] in the chain, when it is not zero;
//   - 504 for [ErrUpstreamTimeout], [context.DeadlineExceeded] and network
//     timeouts;
//   - 502 for [ErrUpstreamConnection] and other network errors;
//   - 503 for [ErrNoUpstream], [ErrCircuitOpen], [ErrAuthUnavailable] and
//     [ErrLimiterUnavailable] (which [*ratelimit.LimiterError] matches);
//   - 429 for [ErrRateLimited];
//   - 413 for [ErrBodyTooLarge] and [*http.MaxBytesError];
//   - 401, 403, 404, 405 and 400 for [ErrUnauthorized], [ErrForbidden],
//     [ErrNotFound], [ErrMethodNotAllowed] and [ErrBadRequest];
//   - 500 for anything else.
//
// r may be nil.
func StatusOf(r *http.Request, err error) int {
	if errors.Is(err, ErrClientGone) {
		return StatusClientClosedRequest
	}
	if r != nil && r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		return StatusClientClosedRequest
	}
	var ge *Error
	if errors.As(err, &ge) && ge.Status != 0 {
		return ge.Status
	}
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.Is(err, ErrUpstreamTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, ErrUpstreamConnection):
		return http.StatusBadGateway
	case errors.Is(err, ErrNoUpstream), errors.Is(err, ErrCircuitOpen), errors.Is(err, ErrLimiterUnavailable), errors.Is(err, ErrAuthUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrBodyTooLarge), errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.As(err, &ne):
		if ne.Timeout() {
			return http.StatusGatewayTimeout
		}
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// retryAfterer is implemented by leaf-package errors that know when a
// refused request may be tried again.
type retryAfterer interface{ RetryAfter() time.Duration }

// WriteError is the default [ErrorHandler]. It answers with the status of
// [StatusOf] and a JSON body of the form
//
//	{"error":{"type":"rate_limited","message":"too many requests"}}
//
// The type and message are fixed per status, but for an open circuit, whose
// 503 has the type "circuit_open", so that no upstream address or internal
// detail reaches the client. It sets Retry-After for 429 and 503 when the
// error knows it, and the headers of an [*Error] (Allow, WWW-Authenticate).
// For a client that went away it writes nothing.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(r, err)
	if status == StatusClientClosedRequest {
		return
	}
	h := w.Header()
	var ge *Error
	if errors.As(err, &ge) {
		for k, vs := range ge.Header {
			h[k] = vs
		}
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if d := retryAfter(err, ge); d > 0 {
			h.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
		}
	}
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", "Bearer")
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	body := errorBody(status)
	if status == http.StatusServiceUnavailable && errors.Is(err, ErrCircuitOpen) {
		body = circuitOpenBody
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r == nil || r.Method != http.MethodHead {
		w.Write(body)
	}
}

func retryAfter(err error, ge *Error) time.Duration {
	if ge != nil && ge.RetryAfter > 0 {
		return ge.RetryAfter
	}
	var ra retryAfterer
	if errors.As(err, &ra) {
		return ra.RetryAfter()
	}
	return 0
}

// errorTypes names the "type" of the JSON error body for each status.
var errorTypes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusInternalServerError:   "internal_error",
	http.StatusBadGateway:            "bad_gateway",
	http.StatusServiceUnavailable:    "unavailable",
	http.StatusGatewayTimeout:        "upstream_timeout",
}

// circuitOpenBody is the 503 body for an open circuit, the same as package
// breaker's middleware writes.
var circuitOpenBody = renderErrorBody("circuit_open", "circuit open")

// errorBodies holds the rendered body for each status in errorTypes, built
// once so that writing an error allocates nothing for the body.
var errorBodies = func() map[int][]byte {
	m := make(map[int][]byte, len(errorTypes))
	for status, typ := range errorTypes {
		m[status] = renderErrorBody(typ, lowerStatusText(status))
	}
	return m
}()

func errorBody(status int) []byte {
	if b, ok := errorBodies[status]; ok {
		return b
	}
	return renderErrorBody("error", lowerStatusText(status))
}

func renderErrorBody(typ, msg string) []byte {
	b := make([]byte, 0, 48+len(typ)+len(msg))
	b = append(b, `{"error":{"type":`...)
	b = strconv.AppendQuote(b, typ)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, msg)
	b = append(b, "}}\n"...)
	return b
}

func lowerStatusText(status int) string {
	t := []byte(http.StatusText(status))
	if len(t) == 0 {
		return "status " + strconv.Itoa(status)
	}
	for i, c := range t {
		if 'A' <= c && c <= 'Z' {
			t[i] = c + 'a' - 'A'
		}
	}
	return string(t)
}
