package anthropic_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

func TestDecodeError(t *testing.T) {
	tests := []struct {
		status int
		typ    string
		want   llm.ErrorKind
	}{
		{400, "invalid_request_error", llm.ErrInvalidRequest},
		{401, "authentication_error", llm.ErrAuthentication},
		{402, "billing_error", llm.ErrPermission},
		{403, "permission_error", llm.ErrPermission},
		{404, "not_found_error", llm.ErrNotFound},
		{413, "request_too_large", llm.ErrRequestTooLarge},
		{429, "rate_limit_error", llm.ErrRateLimit},
		{500, "api_error", llm.ErrServer},
		{504, "timeout_error", llm.ErrTimeout},
		{529, "overloaded_error", llm.ErrOverloaded},
		{529, "", llm.ErrOverloaded},
		{503, "", llm.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+"/"+tt.typ, func(t *testing.T) {
			body := `{"type":"error","error":{"type":"` + tt.typ + `","message":"it failed"},"request_id":"req_1"}`
			e := anthropic.DecodeError(tt.status, nil, []byte(body))
			if e.Kind != tt.want || e.Status != tt.status || e.Message != "it failed" || e.Code != tt.typ {
				t.Errorf("DecodeError(%d, %s) = %+v; want kind %s", tt.status, tt.typ, e, tt.want)
			}
		})
	}
}

func TestDecodeErrorNotJSON(t *testing.T) {
	e := anthropic.DecodeError(502, nil, []byte("<html>Bad Gateway</html>"))
	if e.Kind != llm.ErrServer || e.Message != "<html>Bad Gateway</html>" {
		t.Errorf("DecodeError(502, html) = %+v", e)
	}
	e = anthropic.DecodeError(503, nil, nil)
	if e.Message != "Service Unavailable" {
		t.Errorf("DecodeError(503, empty).Message = %q; want Service Unavailable", e.Message)
	}
}

func TestDecodeErrorRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"17"}}, 17 * time.Second},
		{"ms", http.Header{"Retry-After-Ms": {"1500"}}, 1500 * time.Millisecond},
		{"none", http.Header{}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"date in the past", http.Header{"Retry-After": {"Mon, 02 Jan 2006 15:04:05 GMT"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := anthropic.DecodeError(429, tt.header, []byte(`{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`))
			if e.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v; want %v", e.RetryAfter, tt.want)
			}
		})
	}
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		kind   llm.ErrorKind
		status int // Error.Status
		want   int
		typ    string
	}{
		{llm.ErrInvalidRequest, 0, 400, "invalid_request_error"},
		{llm.ErrAuthentication, 0, 401, "authentication_error"},
		{llm.ErrPermission, 0, 403, "permission_error"},
		{llm.ErrNotFound, 0, 404, "not_found_error"},
		{llm.ErrRequestTooLarge, 0, 413, "request_too_large"},
		{llm.ErrRateLimit, 0, 429, "rate_limit_error"},
		{llm.ErrServer, 0, 500, "api_error"},
		{llm.ErrOverloaded, 0, 529, "overloaded_error"},
		{llm.ErrOverloaded, 503, 529, "overloaded_error"},
		{llm.ErrUnavailable, 0, 503, "overloaded_error"},
		{llm.ErrTimeout, 0, 504, "timeout_error"},
		{llm.ErrInvalidRequest, 422, 422, "invalid_request_error"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+strconv.Itoa(tt.status), func(t *testing.T) {
			status, body := anthropic.EncodeError(&llm.Error{Kind: tt.kind, Status: tt.status, Message: "m \"q\""})
			if status != tt.want {
				t.Errorf("EncodeError(%s) status = %d; want %d", tt.kind, status, tt.want)
			}
			jsonEqual(t, body, []byte(`{"type":"error","error":{"type":"`+tt.typ+`","message":"m \"q\""}}`))
			back := anthropic.DecodeError(status, nil, body)
			if tt.kind != llm.ErrUnavailable && back.Kind != tt.kind {
				t.Errorf("DecodeError(EncodeError(%s)) kind = %s", tt.kind, back.Kind)
			}
		})
	}
}
