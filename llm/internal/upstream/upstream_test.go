package upstream

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{}, 0},
		{http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {"-3"}}, 0},
		{http.Header{"Retry-After": {now.Add(time.Minute).Format(http.TimeFormat)}}, time.Minute},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"7"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"x"}, "Retry-After": {"7"}}, 7 * time.Second},
	} {
		if got := RetryAfter(tc.h, now); got != tc.want {
			t.Errorf("RetryAfter(%v) = %v; want %v", tc.h, got, tc.want)
		}
	}
}

func TestReadBounded(t *testing.T) {
	if b, err := ReadBounded(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadBounded(5 bytes, 5) = %q, %v", b, err)
	}
	r := strings.NewReader(strings.Repeat("x", 100))
	if _, err := ReadBounded(r, 5); !errors.Is(err, ErrTooLarge) || r.Len() != 94 {
		t.Errorf("ReadBounded(100 bytes, 5) = %v, left %d; want an error after reading 6", err, r.Len())
	}
}
