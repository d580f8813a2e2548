package auth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/auth"
)

var (
	alice   = &auth.Principal{Subject: "alice", Tenant: "acme", Plan: "pro", Scopes: []string{"read:users", "write:users"}, Roles: []string{"admin"}}
	none    = static{err: auth.ErrNoCredentials}
	wrapped = static{err: fmt.Errorf("apikey: %w", auth.ErrNoCredentials)}
)

func TestMiddleware(t *testing.T) {
	expired := &auth.Error{Code: auth.CodeInvalidToken, Description: "The access token expired", Err: errors.New("exp")}
	bearer := func(s static) challenging { return challenging{s, `Bearer realm="example"`} }
	basic := func(s static) challenging { return challenging{s, `Basic realm="api", charset="UTF-8"`} }
	tests := []struct {
		name      string
		m         auth.Middleware
		status    int
		subject   string   // X-Subject of a request let through
		challenge []string // WWW-Authenticate
		body      string   // the JSON body's message, for refusals
	}{
		{name: "first decides", m: auth.Middleware{Authenticators: []auth.Authenticator{static{p: alice}, static{err: errors.New("never asked")}}},
			status: 200, subject: "alice"},
		{name: "no credentials passes to next", m: auth.Middleware{Authenticators: []auth.Authenticator{none, wrapped, static{p: alice}}},
			status: 200, subject: "alice"},
		{name: "invalid credential ends the request", m: auth.Middleware{Authenticators: []auth.Authenticator{bearer(static{err: expired}), static{p: alice}}},
			status: 401, challenge: []string{`Bearer realm="example", error="invalid_token", error_description="The access token expired"`},
			body: "The access token expired"},
		// RFC 6750 section 3.1: no credentials, no error code; one
		// challenge per Challenger.
		{name: "no credentials at all", m: auth.Middleware{Authenticators: []auth.Authenticator{bearer(none), static{err: auth.ErrNoCredentials}, basic(none)}},
			status: 401, challenge: []string{`Bearer realm="example"`, `Basic realm="api", charset="UTF-8"`}, body: "unauthorized"},
		{name: "error attributes go to the deciding one only", m: auth.Middleware{Authenticators: []auth.Authenticator{basic(none), bearer(static{err: expired})}},
			status: 401, challenge: []string{`Basic realm="api", charset="UTF-8"`, `Bearer realm="example", error="invalid_token", error_description="The access token expired"`}},
		{name: "bare scheme gets a space", m: auth.Middleware{Authenticators: []auth.Authenticator{challenging{static{err: &auth.Error{Code: auth.CodeInvalidRequest}}, "Bearer"}}},
			status: 401, challenge: []string{`Bearer error="invalid_request"`}},
		{name: "plain error is 401 with no code", m: auth.Middleware{Authenticators: []auth.Authenticator{bearer(static{err: errors.New("bad signature")})}},
			status: 401, challenge: []string{`Bearer realm="example"`}, body: "unauthorized"},
		{name: "403 from an authenticator has no challenge", m: auth.Middleware{Authenticators: []auth.Authenticator{bearer(static{err: &auth.Error{Status: 403, Description: "suspended"}})}},
			status: 403, body: "suspended"},
		{name: "error's own challenge replaces", m: auth.Middleware{Authenticators: []auth.Authenticator{bearer(static{err: &auth.Error{Challenge: `Custom realm="x"`}})}},
			status: 401, challenge: []string{`Custom realm="x"`}},
		{name: "description cannot break the quotes", m: auth.Middleware{Authenticators: []auth.Authenticator{challenging{static{err: &auth.Error{Code: "invalid_token", Description: "a\"b\\c\r\nd"}}, "Bearer"}}},
			status: 401, challenge: []string{`Bearer error="invalid_token", error_description="a b c  d"`}},
		{name: "service down is 502, no challenge", m: auth.Middleware{Authenticators: []auth.Authenticator{bearer(static{err: fmt.Errorf("x: %w", gateway.ErrUpstreamConnection)})}},
			status: 502},
		{name: "service timeout is 504", m: auth.Middleware{Authenticators: []auth.Authenticator{static{err: fmt.Errorf("x: %w", gateway.ErrUpstreamTimeout)}}},
			status: 504},
		{name: "optional: anonymous through", m: auth.Middleware{Optional: true, Authenticators: []auth.Authenticator{bearer(none)}},
			status: 200, subject: "anonymous"},
		{name: "optional: invalid still refused", m: auth.Middleware{Optional: true, Authenticators: []auth.Authenticator{bearer(static{err: expired})}},
			status: 401, challenge: []string{`Bearer realm="example", error="invalid_token", error_description="The access token expired"`}},
		{name: "nil principal and nil error is refused", m: auth.Middleware{Authenticators: []auth.Authenticator{static{}}},
			status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := auth.NewMiddleware(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			w := serve(mw(echo), httptest.NewRequest("GET", "/", nil))
			checkResponse(t, w, tt.status, tt.challenge, tt.body)
			if tt.status == 200 && w.Header().Get("X-Subject") != tt.subject {
				t.Errorf("subject = %q; want %q", w.Header().Get("X-Subject"), tt.subject)
			}
		})
	}
}

func checkResponse(t *testing.T, w *httptest.ResponseRecorder, status int, challenge []string, msg string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d; want %d (body %s)", w.Code, status, w.Body)
	}
	if got := w.Header().Values("WWW-Authenticate"); !slices.Equal(got, challenge) {
		t.Errorf("WWW-Authenticate = %q; want %q", got, challenge)
	}
	if status >= 400 {
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q; want application/json", ct)
		}
		typ := map[int]string{401: "unauthorized", 403: "forbidden", 502: "bad_gateway", 504: "upstream_timeout"}[status]
		if !strings.Contains(w.Body.String(), `"type":"`+typ+`"`) {
			t.Errorf("body = %s; want type %q", w.Body, typ)
		}
		if msg != "" && !strings.Contains(w.Body.String(), `"message":"`+msg+`"`) {
			t.Errorf("body = %s; want message %q", w.Body, msg)
		}
	}
}

// TestMiddlewareWriteError: the gateway's WriteError as the ErrorHandler
// keeps the challenges and maps the errors to the same statuses.
func TestMiddlewareWriteError(t *testing.T) {
	for _, tt := range []struct {
		err       error
		status    int
		challenge []string
	}{
		{auth.ErrNoCredentials, 401, []string{`Bearer realm="api"`}},
		{&auth.Error{Code: auth.CodeInvalidToken}, 401, []string{`Bearer realm="api", error="invalid_token"`}},
		{&auth.Error{Status: 403}, 403, nil},
		{fmt.Errorf("down: %w", gateway.ErrUpstreamConnection), 502, nil},
		{&auth.Error{Status: 503, Err: errors.New("key store down")}, 503, nil},
	} {
		mw, err := auth.NewMiddleware(auth.Middleware{
			Authenticators: []auth.Authenticator{challenging{static{err: tt.err}, `Bearer realm="api"`}},
			ErrorHandler:   gateway.WriteError,
		})
		if err != nil {
			t.Fatal(err)
		}
		w := serve(mw(echo), httptest.NewRequest("GET", "/", nil))
		if w.Code != tt.status || !slices.Equal(w.Header().Values("WWW-Authenticate"), tt.challenge) {
			t.Errorf("%v: got %d %q; want %d %q", tt.err, w.Code, w.Header().Values("WWW-Authenticate"), tt.status, tt.challenge)
		}
	}
}

// TestMiddlewareErrorHandler: the hook gets an error that wraps the
// gateway's sentinels, with the challenge already in the header.
func TestMiddlewareErrorHandler(t *testing.T) {
	var got error
	var header string
	mw, err := auth.NewMiddleware(auth.Middleware{
		Authenticators: []auth.Authenticator{challenging{none, "Bearer"}},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got, header = err, w.Header().Get("WWW-Authenticate")
			w.WriteHeader(499)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	serve(mw(echo), httptest.NewRequest("GET", "/", nil))
	var ae *auth.Error
	if !errors.Is(got, gateway.ErrUnauthorized) || !errors.Is(got, auth.ErrNoCredentials) || !errors.As(got, &ae) || header != "Bearer" {
		t.Errorf("ErrorHandler got %v with WWW-Authenticate %q; want an *auth.Error wrapping ErrUnauthorized and ErrNoCredentials, with Bearer", got, header)
	}
}

func TestNewMiddlewareErrors(t *testing.T) {
	for name, m := range map[string]auth.Middleware{
		"no authenticators":  {},
		"nil authenticator":  {Authenticators: []auth.Authenticator{static{p: alice}, nil}},
		"bad challenge":      {Authenticators: []auth.Authenticator{challenging{none, "Bearer\r\nX: y"}}},
		"empty challenge":    {Authenticators: []auth.Authenticator{challenging{none, ""}}},
		"forward bad header": {Authenticators: []auth.Authenticator{none}, Forward: auth.ForwardHeaders{"X User": "sub"}},
	} {
		if _, err := auth.NewMiddleware(m); err == nil {
			t.Errorf("NewMiddleware(%s) = nil error; want one", name)
		}
	}
}

// TestNewMiddlewareCopies: changing the caller's slice later changes
// nothing.
func TestNewMiddlewareCopies(t *testing.T) {
	auths := []auth.Authenticator{static{p: alice}}
	mw, err := auth.NewMiddleware(auth.Middleware{Authenticators: auths})
	if err != nil {
		t.Fatal(err)
	}
	auths[0] = static{err: errors.New("changed")}
	if w := serve(mw(echo), httptest.NewRequest("GET", "/", nil)); w.Code != 200 {
		t.Errorf("status = %d; want 200", w.Code)
	}
}

// TestMiddlewareUnavailable: an Authenticator that cannot decide (its
// store is down) gets 503 from the default writer, with no challenge,
// since it is no verdict on the credential.
func TestMiddlewareUnavailable(t *testing.T) {
	mw := auth.Require(challenging{static{err: &auth.Error{Status: 503, Err: errors.New("key store down")}}, `Bearer realm="api"`})
	w := serve(mw(echo), httptest.NewRequest("GET", "/", nil))
	if w.Code != 503 || w.Header().Get("WWW-Authenticate") != "" || !strings.Contains(w.Body.String(), `"unavailable"`) || strings.Contains(w.Body.String(), "down") {
		t.Errorf("got %d %q %q; want 503, no challenge, an unavailable body without the cause", w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
	}
}
