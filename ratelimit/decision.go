package ratelimit

import "time"

// Decision is a limiter's answer for one request. Limiters return it by
// value: a pointer would escape and allocate on every request.
type Decision struct {
	// Allowed reports whether the request may go ahead.
	Allowed bool
	// Limit is the number of requests (or cost units) the key may spend in
	// one window; 0 when the limiter has no such figure.
	Limit int64
	// Remaining is what the key may still spend now.
	Remaining int64
	// RetryAfter, for a refused request, is how long until the same request
	// would be allowed. Zero when allowed, and zero when no wait helps (see
	// CostTooHigh) or the limiter cannot tell.
	RetryAfter time.Duration
	// Reset is how long until the key's allowance is whole again.
	Reset time.Duration

	// Delay, for a request allowed by a reservation ([Reserver]), is how
	// long the caller must wait before going ahead. Zero for Allow.
	Delay time.Duration
	// Booking, for a request allowed by [Reserver.Reserve], marks its place
	// in the key's line, for [Reserver.Cancel]: the limiter alone gives it
	// a meaning. Zero for Allow.
	Booking int64
	// CostTooHigh reports a refusal that no wait can lift: the request's
	// cost is above what the key may ever spend at once (the burst).
	CostTooHigh bool
}
