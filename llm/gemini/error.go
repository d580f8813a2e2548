package gemini

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/internal/upstream"
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
	e := &llm.Error{Status: status, RetryAfter: upstream.RetryAfter(h, time.Now())}
	var w wireError
	if json.Unmarshal(body, &w) == nil && w.Error != nil {
		decodeErrorBody(e, w.Error)
	} else {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > maxErrorMessage {
			n := maxErrorMessage
			for n > 0 && !utf8.RuneStart(e.Message[n]) {
				n-- // cut at a character's start, not inside it
			}
			e.Message = e.Message[:n]
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

// wordStatus is the HTTP status Gemini answers with each status word; its
// values are the only statuses Gemini uses.
var wordStatus = map[string]int{
	"INVALID_ARGUMENT":    400,
	"FAILED_PRECONDITION": 400,
	"OUT_OF_RANGE":        400,
	"UNAUTHENTICATED":     401,
	"PERMISSION_DENIED":   403,
	"NOT_FOUND":           404,
	"RESOURCE_EXHAUSTED":  429,
	"CANCELLED":           499,
	"INTERNAL":            500,
	"UNKNOWN":             500,
	"UNAVAILABLE":         503,
	"DEADLINE_EXCEEDED":   504,
}

// EncodeError writes e in Gemini's error shape, with its HTTP status:
// {"error":{"code","message","status"}}, and a google.rpc.RetryInfo
// detail when RetryAfter is set. Code is kept when it is a Gemini status
// word. A status Gemini does not use (Anthropic's 529 overload, 413) is
// replaced by the status of the error's word: 503 for an overload, 400
// for a request too large.
func EncodeError(e *llm.Error) (int, []byte) {
	word := statusWord(e)
	status := e.HTTPStatus()
	if !geminiStatus(status) {
		status = wordStatus[word]
	}
	return status, errorBody(e, word, status)
}

// statusWord is the Gemini status word written for e.
func statusWord(e *llm.Error) string {
	if _, ok := statusKinds[e.Code]; ok {
		return e.Code
	}
	if w := kindStatus[e.Kind]; w != "" {
		return w
	}
	return "INTERNAL"
}

// geminiStatus reports whether Gemini answers with the HTTP status s.
func geminiStatus(s int) bool {
	for _, v := range wordStatus {
		if v == s {
			return true
		}
	}
	return false
}

func errorBody(e *llm.Error, word string, status int) []byte {
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
