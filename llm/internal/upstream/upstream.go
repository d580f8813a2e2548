// Package upstream holds what the LLM providers share in talking to their
// APIs over HTTP: the default transport, bounded reads of response bodies,
// and how long a response asks to wait before a retry.
package upstream

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Transport returns the transport a provider uses when its Config names
// none: 10 s to dial and to shake hands, connections kept for reuse, and
// responseHeader to wait for a response's head (an API that answers a
// whole generation sends its head only when done).
func Transport(responseHeader time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: responseHeader,
		ExpectContinueTimeout: time.Second,
	}
}

// ErrTooLarge is the error of [ReadBounded] for a body over its limit.
var ErrTooLarge = errors.New("response body too large")

// ReadBounded reads r whole, and fails with [ErrTooLarge] when it holds
// more than limit bytes, having read no more than limit+1.
func ReadBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// RetryAfter returns how long a response's header asks to wait at now:
// retry-after-ms (OpenAI, Anthropic), else Retry-After in seconds or as an
// HTTP date; 0 when it says neither, or a time already past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(max(s, 0) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
