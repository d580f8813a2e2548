package anthropic

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/internal/upstream"
)

// errorKinds maps Anthropic's error types to the model's kinds.
var errorKinds = map[string]llm.ErrorKind{
	"invalid_request_error": llm.ErrInvalidRequest,
	"authentication_error":  llm.ErrAuthentication,
	"permission_error":      llm.ErrPermission,
	"billing_error":         llm.ErrPermission,
	"not_found_error":       llm.ErrNotFound,
	"request_too_large":     llm.ErrRequestTooLarge,
	"rate_limit_error":      llm.ErrRateLimit,
	"api_error":             llm.ErrServer,
	"timeout_error":         llm.ErrTimeout,
	"overloaded_error":      llm.ErrOverloaded,
}

// errorType returns Anthropic's error type for a kind, and the status it
// is answered with.
func errorType(k llm.ErrorKind) (string, int) {
	switch k {
	case llm.ErrInvalidRequest:
		return "invalid_request_error", 400
	case llm.ErrAuthentication:
		return "authentication_error", 401
	case llm.ErrPermission:
		return "permission_error", 403
	case llm.ErrNotFound:
		return "not_found_error", 404
	case llm.ErrRequestTooLarge:
		return "request_too_large", 413
	case llm.ErrRateLimit:
		return "rate_limit_error", 429
	case llm.ErrOverloaded:
		return "overloaded_error", 529
	case llm.ErrUnavailable:
		return "overloaded_error", 503
	case llm.ErrTimeout:
		return "timeout_error", 504
	}
	return "api_error", 500
}

// maxErrorText bounds the text of a body that is not an error object,
// quoted in the error's message.
const maxErrorText = 512

// DecodeError reads an error of the Anthropic API: its body
// {"type":"error","error":{"type","message"}}, its status (529 is
// ErrOverloaded) and its retry-after header, in seconds or as an HTTP date
// (or retry-after-ms). The error type goes to Code. A body that is not an
// error object gives an error of the status's kind, with the body's start
// as its message.
func DecodeError(status int, h http.Header, body []byte) *llm.Error {
	e := &llm.Error{Status: status, Kind: llm.KindOf(status)}
	var w struct {
		Error *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &w) == nil && w.Error != nil {
		e.Code, e.Message = w.Error.Type, w.Error.Message
		if k, ok := errorKinds[w.Error.Type]; ok {
			e.Kind = k
		}
	} else {
		text := bytes.TrimSpace(body)
		if len(text) > maxErrorText {
			text = text[:maxErrorText]
		}
		e.Message = strings.ToValidUTF8(string(text), "\uFFFD")
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.RetryAfter = upstream.RetryAfter(h, time.Now())
	return e
}

// EncodeError writes e in Anthropic's error shape, with the status of its
// kind (ErrOverloaded is 529) unless e carries one of its own.
func EncodeError(e *llm.Error) (int, []byte) {
	typ, status := errorType(e.Kind)
	if e.Status != 0 && !(e.Kind == llm.ErrOverloaded && e.Status == 503) {
		status = e.Status
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	b := make([]byte, 0, 64+len(msg))
	b = append(b, `{"type":"error","error":{`...)
	b = appendStringField(b, "type", typ)
	b = appendStringField(b, "message", msg)
	return status, append(b, "}}"...)
}
