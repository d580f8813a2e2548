package balancer

import "time"

// Class sorts the result of one attempt into what policies act on.
type Class uint8

// The classes of an attempt's result.
const (
	// OK: the upstream answered with a status below 500.
	OK Class = iota
	// ServerError: the upstream answered with a 5xx status.
	ServerError
	// Timeout: dialing, the response head or the attempt timed out.
	Timeout
	// ConnectionError: the upstream could not be reached, or it broke the
	// connection before the response was complete.
	ConnectionError
	// Canceled: the client went away; the upstream is not to blame.
	Canceled
	// Refused: a local policy (limiter, breaker) refused the attempt before
	// it reached the upstream.
	Refused
)

var classNames = [...]string{"ok", "server_error", "timeout", "connection_error", "canceled", "refused"}

// String returns the class name in snake case, as logs and metrics show it.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// Outcome is what happened in one attempt against an upstream. The proxy
// builds one value per attempt and gives the same value to the upstream's
// statistics, the breaker and the metrics, so they never disagree.
type Outcome struct {
	// Status is the upstream's response status; 0 when there was none.
	Status int
	// Class sorts the result.
	Class Class
	// TTFB is the time from the start of the attempt to the response head.
	TTFB time.Duration
	// Duration is the time from the start of the attempt to the end of the
	// response body, or to the failure.
	Duration time.Duration
}

// Failed reports whether the outcome counts against the upstream: a 5xx
// status, a timeout or a connection error. A client that went away and a
// local refusal do not count.
func (o Outcome) Failed() bool {
	return o.Class == ServerError || o.Class == Timeout || o.Class == ConnectionError
}
