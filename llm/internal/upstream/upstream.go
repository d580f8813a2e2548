// Package upstream holds what the LLM providers share in talking to their
// APIs over HTTP: the default transport, bounded reads of response bodies,
// and how long a response asks to wait before a retry.
package upstream

import (
	"errors"
	"fmt"
	"io"
	"math"
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

// Client returns the client a provider sends its requests with, over rt.
// It follows no redirect: net/http would copy the provider's key fields
// (x-api-key, api-key, x-goog-api-key) to the new location, another
// host's included; the 3xx is the provider's answer.
func Client(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// maxRetryAfter bounds the wait RetryAfter returns: a day, beyond which a
// value is no advice a caller can follow.
const maxRetryAfter = 24 * time.Hour

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
// HTTP date; 0 when it says neither, or a time already past; at most a
// day.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && !math.IsInf(ms, 0) {
			return time.Duration(min(ms, float64(maxRetryAfter/time.Millisecond)) * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(s) || s <= 0 {
			return 0
		}
		return time.Duration(min(s, float64(maxRetryAfter/time.Second)) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}
