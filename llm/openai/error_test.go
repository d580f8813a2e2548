package openai_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		kind   llm.ErrorKind
		msg    string
		code   string
		param  string
	}{
		{"invalid request", 400, `{"error":{"message":"bad temperature","type":"invalid_request_error","param":"temperature","code":null}}`, llm.ErrInvalidRequest, "bad temperature", "", "temperature"},
		{"context length", 400, `{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`, llm.ErrInvalidRequest, "too long", "context_length_exceeded", "messages"},
		{"bad key", 401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, llm.ErrAuthentication, "Incorrect API key provided", "invalid_api_key", ""},
		{"permission", 403, `{"error":{"message":"region","type":"permission_error","code":"unsupported_country_region_territory"}}`, llm.ErrPermission, "region", "unsupported_country_region_territory", ""},
		{"model not found", 404, `{"error":{"message":"The model x does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}`, llm.ErrNotFound, "The model x does not exist", "model_not_found", ""},
		{"model not found as 400", 400, `{"error":{"message":"no model","code":"model_not_found"}}`, llm.ErrNotFound, "no model", "model_not_found", ""},
		{"too large", 413, `{"error":{"message":"big","type":"invalid_request_error"}}`, llm.ErrRequestTooLarge, "big", "", ""},
		{"rate limit", 429, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, llm.ErrRateLimit, "Rate limit reached", "rate_limit_exceeded", ""},
		{"quota", 429, `{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}`, llm.ErrRateLimit, "quota", "insufficient_quota", ""},
		{"server", 500, `{"error":{"message":"oops","type":"server_error","param":null,"code":null}}`, llm.ErrServer, "oops", "", ""},
		{"unavailable", 503, `{"error":{"message":"overloaded","type":"service_unavailable"}}`, llm.ErrUnavailable, "overloaded", "", ""},
		{"timeout", 504, ``, llm.ErrTimeout, "Gateway Timeout", "", ""},
		{"numeric code", 400, `{"error":{"message":"m","code":400}}`, llm.ErrInvalidRequest, "m", "400", ""},
		{"ollama", 404, `{"error":"model \"llama9\" not found, try pulling it first"}`, llm.ErrNotFound, `model "llama9" not found, try pulling it first`, "", ""},
		{"vllm", 400, `{"object":"error","message":"max_tokens too large","type":"BadRequestError","param":null,"code":400}`, llm.ErrInvalidRequest, "max_tokens too large", "", ""},
		{"fastapi", 422, `{"detail":"Field required"}`, llm.ErrInvalidRequest, "Field required", "", ""},
		{"html", 502, `<html>bad gateway</html>`, llm.ErrServer, "<html>bad gateway</html>", "", ""},
		{"in stream, no status", 0, `{"error":{"message":"slow down","type":"rate_limit_error"}}`, llm.ErrRateLimit, "slow down", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := openai.DecodeError(tt.status, nil, []byte(tt.body))
			if e.Kind != tt.kind || e.Message != tt.msg || e.Code != tt.code || e.Param != tt.param {
				t.Errorf("DecodeError(%d, %s) = kind %s msg %q code %q param %q; want %s %q %q %q", tt.status, tt.body, e.Kind, e.Message, e.Code, e.Param, tt.kind, tt.msg, tt.code, tt.param)
			}
			if tt.status != 0 && e.HTTPStatus() != tt.status {
				t.Errorf("DecodeError(%d).HTTPStatus() = %d", tt.status, e.HTTPStatus())
			}
		})
	}
}

func TestDecodeErrorRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		body := []byte(`{"error":{"message":"Rate limit reached","type":"requests"}}`)
		tests := []struct {
			name string
			h    http.Header
			body string
			want time.Duration
		}{
			{"seconds", http.Header{"Retry-After": {"20"}}, "", 20 * time.Second},
			{"date", http.Header{"Retry-After": {time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}}, "", 90 * time.Second},
			{"past date", http.Header{"Retry-After": {time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)}}, "", 0},
			{"ms first", http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"2"}}, "", 1500 * time.Millisecond},
			{"body", nil, `{"error":{"message":"Limit 10000 TPM. Please try again in 6.5s. Visit ...","type":"tokens"}}`, 6500 * time.Millisecond},
			{"body minutes", nil, `{"error":{"message":"Please try again in 1m30s.","type":"tokens"}}`, 90 * time.Second},
			{"none", nil, "", 0},
			{"garbage", http.Header{"Retry-After": {"soon"}}, "", 0},
		}
		for _, tt := range tests {
			b := body
			if tt.body != "" {
				b = []byte(tt.body)
			}
			if got := openai.DecodeError(429, tt.h, b).RetryAfter; got != tt.want {
				t.Errorf("%s: DecodeError(429, %v).RetryAfter = %v; want %v", tt.name, tt.h, got, tt.want)
			}
		}
	})
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		e      llm.Error
		status int
		typ    string
		code   any
	}{
		{llm.Error{Kind: llm.ErrInvalidRequest, Message: "bad", Param: "messages"}, 400, "invalid_request_error", nil},
		{llm.Error{Kind: llm.ErrAuthentication, Message: "key"}, 401, "authentication_error", nil},
		{llm.Error{Kind: llm.ErrPermission, Message: "no"}, 403, "permission_error", nil},
		{llm.Error{Kind: llm.ErrNotFound, Message: "The model x does not exist"}, 404, "not_found_error", "model_not_found"},
		{llm.Error{Kind: llm.ErrRequestTooLarge, Message: "big"}, 413, "invalid_request_error", nil},
		{llm.Error{Kind: llm.ErrRateLimit, Message: "slow", Code: "rate_limit_exceeded"}, 429, "rate_limit_error", "rate_limit_exceeded"},
		{llm.Error{Kind: llm.ErrServer, Message: "oops"}, 500, "server_error", nil},
		{llm.Error{Kind: llm.ErrUnavailable, Message: "down"}, 503, "service_unavailable", nil},
		{llm.Error{Kind: llm.ErrOverloaded, Message: "busy", Status: 529}, 503, "service_unavailable", nil},
		{llm.Error{Kind: llm.ErrTimeout, Message: "slow"}, 504, "timeout_error", nil},
		{llm.Error{Kind: llm.ErrServer, Message: "bad gateway", Status: 502}, 502, "server_error", nil},
	}
	for _, tt := range tests {
		status, body := openai.EncodeError(&tt.e)
		var w struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
				Param   any    `json:"param"`
				Code    any    `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatalf("EncodeError(%v) wrote %s", tt.e, body)
		}
		if status != tt.status || w.Error.Type != tt.typ || w.Error.Code != tt.code || w.Error.Message != tt.e.Message {
			t.Errorf("EncodeError(%s) = %d %s; want %d type %s code %v", tt.e.Kind, status, body, tt.status, tt.typ, tt.code)
		}
		if tt.e.Param != "" && w.Error.Param != tt.e.Param {
			t.Errorf("EncodeError param = %v; want %s", w.Error.Param, tt.e.Param)
		}
		back := openai.DecodeError(status, nil, body)
		if want := tt.e.Kind; back.Kind != want && !(want == llm.ErrOverloaded && back.Kind == llm.ErrUnavailable) {
			t.Errorf("DecodeError(EncodeError(%s)).Kind = %s", want, back.Kind)
		}
	}
	_, body := openai.EncodeError(&llm.Error{Kind: llm.ErrServer, Message: "quote \" backslash \\ nl \n ctl \x01 ls \u2028 é"})
	var w struct{ Error struct{ Message string } }
	if err := json.Unmarshal(body, &w); err != nil || w.Error.Message != "quote \" backslash \\ nl \n ctl \x01 ls \u2028 é" {
		t.Errorf("EncodeError escaping: %s -> %q, %v", body, w.Error.Message, err)
	}
}
