package cache

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// age returns the Age field of h (RFC 9111 5.1): the first member when it
// is a list, zero when it is invalid, and at most 2^31 seconds (1.2.2).
func age(h http.Header) time.Duration {
	lines := h["Age"]
	if len(lines) == 0 {
		return 0
	}
	v, _, _ := strings.Cut(lines[0], ",")
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) || err == nil && n > maxDelta:
		n = maxDelta
	case err != nil:
		return 0
	}
	return time.Duration(n) * time.Second
}
