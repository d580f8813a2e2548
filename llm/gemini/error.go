package gemini

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vivremotion/gateway/llm"
)

// statusKinds maps the google.rpc status words of Gemini errors to the
// model's kinds.
var statusKinds = map[string]llm.ErrorKind{
	"INVALID_ARGUMENT":    llm.ErrInvalidRequest,
	"FAILED_PRECONDITION": llm.ErrInvalidRequest,
	"OUT_OF_RANGE":        llm.ErrInvalidRequest,
	"UNAUTHENTICATED":     llm.ErrAuthentication,
	"PERMISSION_DENIED":   llm.ErrPermission,
	"NOT_FOUND":           llm.ErrNotFound,
	"RESOURCE_EXHAUSTED":  llm.ErrRateLimit,
	"INTERNAL":            llm.ErrServer,
	"UNKNOWN":             llm.ErrServer,
	"UNAVAILABLE":         llm.ErrUnavailable,
	"DEADLINE_EXCEEDED":   llm.ErrTimeout,
	"CANCELLED":           llm.ErrTimeout,
}

// kindStatus is the status word written for each kind.
var kindStatus = map[llm.ErrorKind]string{
	llm.ErrInvalidRequest:  "INVALID_ARGUMENT",
	llm.ErrAuthentication:  "UNAUTHENTICATED",
	llm.ErrPermission:      "PERMISSION_DENIED",
	llm.ErrNotFound:        "NOT_FOUND",
	llm.ErrRequestTooLarge: "INVALID_ARGUMENT",
	llm.ErrRateLimit:       "RESOURCE_EXHAUSTED",
	llm.ErrServer:          "INTERNAL",
	llm.ErrUnavailable:     "UNAVAILABLE",
	llm.ErrOverloaded:      "UNAVAILABLE",
	llm.ErrTimeout:         "DEADLINE_EXCEEDED",
}

// maxErrorMessage bounds the message taken from a body that is not JSON.
const maxErrorMessage = 512

// DecodeError reads a Gemini error response: the kind from its status
// word (RESOURCE_EXHAUSTED → rate_limit...) or else from the HTTP status,
// Code the status word, and RetryAfter from a google.rpc.RetryInfo
// detail's retryDelay, else from the Retry-After or retry-after-ms
// header. A 400 whose ErrorInfo reason is API_KEY_INVALID is an
// authentication error.
func DecodeError(status int, h http.Header, body []byte) *llm.Error {
	e := &llm.Error{Status: status, RetryAfter: retryAfterHeader(h)}
	var w wireError
	if json.Unmarshal(body, &w) == nil && w.Error != nil {
		decodeErrorBody(e, w.Error)
	} else {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > maxErrorMessage {
			e.Message = e.Message[:maxErrorMessage]
		}
	}
	if e.Status == 0 {
		e.Status = 500
	}
	if e.Kind == "" {
		e.Kind = llm.KindOf(e.Status)
	}
	if e.Message == "" {
		e.Message = http.StatusText(e.Status)
	}
	return e
}

// decodeErrorBody fills e from an error object.
func decodeErrorBody(e *llm.Error, b *wireErrorBody) {
	e.Message, e.Code = b.Message, b.Status
	if e.Status == 0 {
		e.Status = b.Code
	}
	e.Kind = statusKinds[b.Status]
	for _, d := range b.Details {
		var detail struct {
			Type       string `json:"@type"`
			RetryDelay string `json:"retryDelay"`
			Reason     string `json:"reason"`
		}
		if json.Unmarshal(d, &detail) != nil {
			continue
		}
		switch {
		case strings.HasSuffix(detail.Type, "google.rpc.RetryInfo"):
			if d, err := time.ParseDuration(detail.RetryDelay); err == nil && d > 0 {
				e.RetryAfter = d
			}
		case strings.HasSuffix(detail.Type, "google.rpc.ErrorInfo"):
			if detail.Reason == "API_KEY_INVALID" {
				e.Kind = llm.ErrAuthentication
			}
		}
	}
}

func retryAfterHeader(h http.Header) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d > 0 {
				return d
			}
		}
	}
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	return 0
}

// EncodeError writes e in Gemini's error shape, with its HTTP status:
// {"error":{"code","message","status"}}, and a google.rpc.RetryInfo
// detail when RetryAfter is set. Code is kept when it is a Gemini status
// word.
func EncodeError(e *llm.Error) (int, []byte) {
	status := e.HTTPStatus()
	return status, errorBody(e, status)
}

func errorBody(e *llm.Error, status int) []byte {
	word := kindStatus[e.Kind]
	if _, ok := statusKinds[e.Code]; ok {
		word = e.Code
	}
	if word == "" {
		word = "INTERNAL"
	}
	var b bytes.Buffer
	b.WriteString(`{"error":{"code":`)
	b.WriteString(strconv.Itoa(status))
	b.WriteString(`,"message":`)
	b.Write(mustJSON(e.Message))
	b.WriteString(`,"status":"`)
	b.WriteString(word)
	b.WriteByte('"')
	if e.RetryAfter > 0 {
		b.WriteString(`,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"`)
		b.WriteString(strconv.FormatFloat(e.RetryAfter.Seconds(), 'f', -1, 64))
		b.WriteString(`s"}]`)
	}
	b.WriteString("}}")
	return b.Bytes()
}
