package openai

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/internal/jsonw"
	"github.com/vivremotion/gateway/llm/internal/upstream"
)

// DecodeError makes an [*llm.Error] of a provider's error answer: the
// status and headers of the response and its body, in OpenAI's shape
// {"error":{"message","type","param","code"}} or the looser shapes of
// compatible servers ({"error":"..."}, {"message":...}, {"detail":...}).
// The kind follows the status (see [llm.KindOf]); a code of
// model_not_found is ErrNotFound whatever the status, and an error with
// no error status (status 0 or 2xx, as in a stream) takes its kind from
// its type and code. RetryAfter comes from retry-after-ms, then
// Retry-After (seconds or an HTTP date), then a "try again in 1.5s" in
// the message.
func DecodeError(status int, h http.Header, body []byte) *llm.Error {
	e := &llm.Error{Status: status}
	var typ string
	var we wireErrorBody
	body = bytes.TrimSpace(body)
	if json.Unmarshal(body, &we) == nil && we.Error != nil {
		e.Message, typ = we.Error.Message, we.Error.Type
		e.Param, e.Code = rawString(we.Error.Param), rawString(we.Error.Code)
	} else {
		var loose struct {
			Error   json.RawMessage `json:"error"`
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Detail  json.RawMessage `json:"detail"`
		}
		if json.Unmarshal(body, &loose) == nil {
			e.Message, typ = loose.Message, loose.Type
			if s := rawString(loose.Error); s != "" {
				e.Message = s
			} else if s := rawString(loose.Detail); s != "" && e.Message == "" {
				e.Message = s
			} else if len(loose.Detail) > 0 && e.Message == "" {
				e.Message = string(loose.Detail)
			}
		} else if len(body) > 0 {
			e.Message = string(body[:min(len(body), 512)])
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "unknown error"
		}
	}
	if status >= 400 {
		e.Kind = llm.KindOf(status)
	} else {
		e.Kind = kindOfType(typ, e.Code)
		e.Status = 0
	}
	if e.Code == "model_not_found" {
		e.Kind = llm.ErrNotFound
	}
	e.RetryAfter = retryAfter(h, e.Message)
	return e
}

// kindOfType maps an OpenAI error type or code to a kind, for errors that
// come without an HTTP status (inside a stream).
func kindOfType(typ, code string) llm.ErrorKind {
	switch code {
	case "rate_limit_exceeded", "insufficient_quota":
		return llm.ErrRateLimit
	case "context_length_exceeded", "invalid_api_key":
		if code == "invalid_api_key" {
			return llm.ErrAuthentication
		}
		return llm.ErrInvalidRequest
	}
	switch typ {
	case "invalid_request_error":
		return llm.ErrInvalidRequest
	case "authentication_error":
		return llm.ErrAuthentication
	case "permission_error":
		return llm.ErrPermission
	case "not_found_error":
		return llm.ErrNotFound
	case "rate_limit_error", "requests", "tokens", "insufficient_quota":
		return llm.ErrRateLimit
	case "service_unavailable", "service_unavailable_error":
		return llm.ErrUnavailable
	case "overloaded_error":
		return llm.ErrOverloaded
	case "timeout_error":
		return llm.ErrTimeout
	}
	return llm.ErrServer
}

var tryAgainIn = regexp.MustCompile(`(?i)try again in ((?:[0-9.]+(?:ms|h|m|s))+)`)

// retryAfter reads how long the provider asked to wait.
func retryAfter(h http.Header, message string) time.Duration {
	if d := upstream.RetryAfter(h, time.Now()); d > 0 {
		return d
	}
	if m := tryAgainIn.FindStringSubmatch(message); m != nil {
		if d, err := time.ParseDuration(m[1]); err == nil && d > 0 {
			return d
		}
	}
	return 0
}

// ErrorType returns the OpenAI error type an error of kind k is written
// with.
func ErrorType(k llm.ErrorKind) string {
	switch k {
	case llm.ErrInvalidRequest, llm.ErrRequestTooLarge:
		return "invalid_request_error"
	case llm.ErrAuthentication:
		return "authentication_error"
	case llm.ErrPermission:
		return "permission_error"
	case llm.ErrNotFound:
		return "not_found_error"
	case llm.ErrRateLimit:
		return "rate_limit_error"
	case llm.ErrUnavailable, llm.ErrOverloaded:
		return "service_unavailable"
	case llm.ErrTimeout:
		return "timeout_error"
	}
	return "server_error"
}

// EncodeError writes e in OpenAI's error shape, with the status to answer
// with: e's own, or its kind's. An ErrNotFound without a code gets
// model_not_found, the code official clients look for. The provider's
// name is not written.
func EncodeError(e *llm.Error) (status int, body []byte) {
	status = e.HTTPStatus()
	if e.Kind == llm.ErrOverloaded && status == 529 {
		status = 503 // 529 is Anthropic's; OpenAI clients know 503
	}
	return status, appendErrorBody(nil, e)
}

// appendErrorBody appends {"error":{...}} for e to b.
func appendErrorBody(b []byte, e *llm.Error) []byte {
	code := e.Code
	if code == "" && e.Kind == llm.ErrNotFound {
		code = "model_not_found"
	}
	b = append(b, `{"error":{"message":`...)
	b = appendString(b, e.Message)
	b = append(b, `,"type":`...)
	b = appendString(b, ErrorType(e.Kind))
	b = append(b, `,"param":`...)
	b = appendStringOrNull(b, e.Param)
	b = append(b, `,"code":`...)
	b = appendStringOrNull(b, code)
	return append(b, "}}"...)
}

func appendStringOrNull(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendString appends s as a JSON string ([jsonw.AppendString]).
func appendString(b []byte, s string) []byte { return jsonw.AppendString(b, s) }
