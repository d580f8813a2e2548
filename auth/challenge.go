package auth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/vivremotion/gateway/internal/errs"
)

// ErrorHandler writes the response for a request that authentication or
// authorization stopped. err is an [*Error] (401 or 403), or an
// Authenticator's failure to decide that wraps the gateway's
// ErrUpstreamTimeout (504) or ErrUpstreamConnection (502). The
// WWW-Authenticate header is set before it is called. The gateway's
// WriteError fits as it is.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// statusOf maps the errors this package hands its ErrorHandler to a status.
func statusOf(err error) int {
	var ae *Error
	switch {
	case errors.As(err, &ae):
		return ae.status()
	case errors.Is(err, errs.ErrUpstreamTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, errs.ErrUpstreamConnection):
		return http.StatusBadGateway
	case errors.Is(err, errs.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, errs.ErrUnauthorized):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// writeError is the default [ErrorHandler]: a JSON body of the form
// {"error":{"type":"unauthorized","message":"invalid token"}}, with the
// Description of an [*Error] as the message when it has one.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away: nobody to answer
	}
	status := statusOf(err)
	typ, msg := "internal_error", "internal server error"
	switch status {
	case http.StatusUnauthorized:
		typ, msg = "unauthorized", "unauthorized"
	case http.StatusForbidden:
		typ, msg = "forbidden", "forbidden"
	case http.StatusBadGateway:
		typ, msg = "bad_gateway", "authentication service failed"
	case http.StatusGatewayTimeout:
		typ, msg = "upstream_timeout", "authentication service timed out"
	case http.StatusServiceUnavailable:
		typ, msg = "unavailable", "authentication service unavailable"
	}
	var ae *Error
	if errors.As(err, &ae) && ae.Description != "" {
		msg = ae.Description
	}
	b := make([]byte, 0, 48+len(typ)+len(msg))
	b = append(b, `{"error":{"type":`...)
	b = strconv.AppendQuote(b, typ)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, msg)
	b = append(b, "}}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

// withError returns challenge with the RFC 6750 error attributes of e
// added (section 3): error, error_description and scope, each a
// quoted-string. A challenge with no parameters gets them after a space,
// one with parameters after a comma.
func withError(challenge string, e *Error) string {
	if e.Code == "" {
		return challenge
	}
	var b strings.Builder
	b.Grow(len(challenge) + len(e.Code) + len(e.Description) + len(e.Scope) + 48)
	b.WriteString(challenge)
	sep := ", "
	if !strings.ContainsAny(strings.TrimSpace(challenge), " \t") {
		sep = " "
	}
	b.WriteString(sep)
	b.WriteString(`error="`)
	writeQuotable(&b, e.Code)
	b.WriteByte('"')
	if e.Description != "" {
		b.WriteString(`, error_description="`)
		writeQuotable(&b, e.Description)
		b.WriteByte('"')
	}
	if e.Scope != "" {
		b.WriteString(`, scope="`)
		writeQuotable(&b, e.Scope)
		b.WriteByte('"')
	}
	return b.String()
}

// writeQuotable writes s with every byte that RFC 6750 does not allow in
// its attribute values (outside %x20-21 / %x23-5B / %x5D-7E: controls,
// '"', '\' and non-ASCII) replaced by a space, so that no value can break
// out of its quotes or split the header.
func writeQuotable(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			c = ' '
		}
		b.WriteByte(c)
	}
}

// validScope reports whether s is a scope token of RFC 6749 section 3.3:
// one or more of %x21 / %x23-5B / %x5D-7E.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// validQuoted reports whether s can stand in a quoted-string as it is.
func validQuoted(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
