package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/ratelimit"
)

type retryErr struct{ d time.Duration }

func (e retryErr) Error() string             { return "gateway: circuit open (test)" }
func (e retryErr) Unwrap() error             { return gateway.ErrCircuitOpen }
func (e retryErr) RetryAfter() time.Duration { return e.d }

func TestStatusOf(t *testing.T) {
	live := httptest.NewRequest(http.MethodGet, "/", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gone := live.WithContext(ctx)
	dnsTimeout := &net.DNSError{Err: "timeout", IsTimeout: true}
	tests := []struct {
		name string
		r    *http.Request
		err  error
		want int
	}{
		{"no upstream", live, gateway.ErrNoUpstream, 503},
		{"circuit open", live, retryErr{}, 503},
		{"rate limited", live, &gateway.Error{Op: "limit", Err: gateway.ErrRateLimited}, 429},
		{"timeout sentinel", live, fmt.Errorf("%w: x", gateway.ErrUpstreamTimeout), 504},
		{"deadline", live, context.DeadlineExceeded, 504},
		{"net timeout", live, dnsTimeout, 504},
		{"net error", live, &net.OpError{Op: "dial", Err: errors.New("refused")}, 502},
		{"connection", live, gateway.ErrUpstreamConnection, 502},
		{"body too large", live, &http.MaxBytesError{Limit: 10}, 413},
		{"unauthorized", live, gateway.ErrUnauthorized, 401},
		{"forbidden", live, gateway.ErrForbidden, 403},
		{"not found", live, gateway.ErrNotFound, 404},
		{"method", live, gateway.ErrMethodNotAllowed, 405},
		{"bad request", live, gateway.ErrBadRequest, 400},
		{"explicit status wins", live, &gateway.Error{Status: 418, Err: gateway.ErrNoUpstream}, 418},
		{"client gone sentinel", live, gateway.ErrClientGone, 499},
		{"canceled with done context", gone, context.Canceled, 499},
		{"canceled with live context", live, context.Canceled, 500},
		{"unknown", live, os.ErrPermission, 500},
		{"nil request", nil, gateway.ErrNotFound, 404},
	}
	for _, tt := range tests {
		if got := gateway.StatusOf(tt.r, tt.err); got != tt.want {
			t.Errorf("%s: StatusOf(%v) = %d; want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		err        error
		wantStatus int
		wantType   string
		wantHeader map[string]string
	}{
		{"retry after rounds up", "GET", &gateway.Error{Err: gateway.ErrRateLimited, RetryAfter: 1500 * time.Millisecond},
			429, "rate_limited", map[string]string{"Retry-After": "2"}},
		{"retry after from leaf error", "GET", retryErr{d: 3 * time.Second},
			503, "circuit_open", map[string]string{"Retry-After": "3"}},
		{"no upstream", "GET", gateway.ErrNoUpstream, 503, "unavailable", nil},
		{"limiter failed", "GET", &ratelimit.LimiterError{Err: errors.New("redis down")}, 503, "unavailable", nil},
		{"no retry after when unknown", "GET", gateway.ErrRateLimited,
			429, "rate_limited", map[string]string{"Retry-After": ""}},
		{"default challenge", "GET", gateway.ErrUnauthorized,
			401, "unauthorized", map[string]string{"WWW-Authenticate": "Bearer"}},
		{"error headers copied", "GET", &gateway.Error{Err: gateway.ErrMethodNotAllowed, Header: http.Header{"Allow": {"GET, HEAD"}}},
			405, "method_not_allowed", map[string]string{"Allow": "GET, HEAD"}},
		{"custom challenge kept", "GET", &gateway.Error{Err: gateway.ErrUnauthorized, Header: http.Header{"Www-Authenticate": {`Basic realm="x"`}}},
			401, "unauthorized", map[string]string{"WWW-Authenticate": `Basic realm="x"`}},
		{"timeout", "GET", gateway.ErrUpstreamTimeout, 504, "upstream_timeout", nil},
		{"head has no body", "HEAD", gateway.ErrNotFound, 404, "", nil},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		gateway.WriteError(w, httptest.NewRequest(tt.method, "/", nil), tt.err)
		if w.Code != tt.wantStatus {
			t.Errorf("%s: status = %d; want %d", tt.name, w.Code, tt.wantStatus)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type = %q; want application/json", tt.name, ct)
		}
		for k, want := range tt.wantHeader {
			if got := w.Header().Get(k); got != want {
				t.Errorf("%s: %s = %q; want %q", tt.name, k, got, want)
			}
		}
		if tt.method == "HEAD" {
			if w.Body.Len() != 0 {
				t.Errorf("%s: body = %q; want none", tt.name, w.Body)
			}
			continue
		}
		var body struct {
			Error struct{ Type, Message string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: body %q: %v", tt.name, w.Body, err)
		}
		if body.Error.Type != tt.wantType || body.Error.Message == "" {
			t.Errorf("%s: error = %+v; want type %q and a message", tt.name, body.Error, tt.wantType)
		}
		if got := w.Header().Get("Content-Length"); got != fmt.Sprint(w.Body.Len()) {
			t.Errorf("%s: Content-Length = %s; want %d", tt.name, got, w.Body.Len())
		}
	}
}

// The body never carries the cause's text, which may hold upstream
// addresses.
func TestWriteErrorHidesCause(t *testing.T) {
	w := httptest.NewRecorder()
	err := &gateway.Error{Op: "round trip", Upstream: "10.1.2.3:8080", Err: fmt.Errorf("%w: dial tcp 10.1.2.3:8080: refused", gateway.ErrUpstreamConnection)}
	gateway.WriteError(w, httptest.NewRequest("GET", "/", nil), err)
	if w.Code != 502 {
		t.Fatalf("status = %d; want 502", w.Code)
	}
	if b := w.Body.String(); strings.Contains(b, "10.1.2.3") {
		t.Errorf("body = %q; want no upstream address", b)
	}
}

func TestWriteErrorClientGone(t *testing.T) {
	w := httptest.NewRecorder()
	gateway.WriteError(w, httptest.NewRequest("GET", "/", nil), gateway.ErrClientGone)
	if w.Body.Len() != 0 || len(w.Header()) != 0 {
		t.Errorf("wrote %d bytes and headers %v; want nothing", w.Body.Len(), w.Header())
	}
}

func TestErrorMessage(t *testing.T) {
	e := &gateway.Error{Op: "round trip", Upstream: "u:1", Err: gateway.ErrUpstreamTimeout}
	if got, want := e.Error(), "round trip u:1: gateway: upstream timed out"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if !errors.Is(e, gateway.ErrUpstreamTimeout) {
		t.Error("errors.Is(e, ErrUpstreamTimeout) = false; want true")
	}
}
