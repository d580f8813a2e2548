package upstream

import (
	"net/http"
	"testing"
	"time"
)

// TestRetryAfterHuge: a value too large for a Duration converts
// float to int64 out of range (implementation-defined in Go: a negative
// number on amd64), so a provider asking to wait very long is read as
// "no wait". It should saturate; and NaN or Inf should not be taken.
func TestRetryAfterHuge(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ k, v string }{
		{"Retry-After", "1e20"},
		{"Retry-After-Ms", "1e300"},
		{"Retry-After", "Inf"},
	} {
		got := RetryAfter(http.Header{tc.k: {tc.v}}, now)
		if got < 0 {
			t.Errorf("RetryAfter(%s: %s) = %v; want a non-negative wait", tc.k, tc.v, got)
		}
	}
	if got := RetryAfter(http.Header{"Retry-After": {"NaN"}}, now); got != 0 {
		t.Errorf("RetryAfter(Retry-After: NaN) = %v; want 0", got)
	}
}
