package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/auth"
)

// withPrincipal serves h with p in the request's context.
func withPrincipal(h http.Handler, p *auth.Principal) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/", nil)
	if p != nil {
		r = r.WithContext(auth.NewContext(r.Context(), p))
	}
	return serve(h, r)
}

func TestAuthorize(t *testing.T) {
	bob := &auth.Principal{Subject: "bob", Scopes: []string{"read:users"}, Roles: []string{"viewer"}}
	denyBob := func(r *http.Request, p *auth.Principal) error {
		if p.Subject == "bob" {
			return errors.New("bob may not")
		}
		return nil
	}
	tests := []struct {
		name      string
		mw        func(http.Handler) http.Handler
		p         *auth.Principal
		status    int
		challenge []string
		msg       string
	}{
		{"scopes: all held", auth.Scopes("read:users", "write:users"), alice, 200, nil, ""},
		// RFC 6750 section 3.1: insufficient_scope with 403 and the scope
		// the request needs.
		{"scopes: one missing", auth.Scopes("read:users", "write:users"), bob, 403,
			[]string{`Bearer error="insufficient_scope", error_description="insufficient scope", scope="read:users write:users"`}, "insufficient scope"},
		{"scopes: anonymous", auth.Scopes("read:users"), nil, 401, []string{"Bearer"}, "unauthorized"},
		{"roles: one of them", auth.Roles("admin", "viewer"), bob, 200, nil, ""},
		{"roles: none of them", auth.Roles("admin"), bob, 403, nil, "missing role"},
		{"roles: anonymous", auth.Roles("admin"), nil, 401, []string{"Bearer"}, ""},
		{"policy: allowed", auth.Policy(denyBob), alice, 200, nil, ""},
		{"policy: plain error is 403", auth.Policy(denyBob), bob, 403, nil, "forbidden"},
		{"policy: *Error as it says", auth.Policy(func(*http.Request, *auth.Principal) error {
			return &auth.Error{Code: auth.CodeInvalidToken, Description: "step up"}
		}), alice, 401, []string{`Bearer error="invalid_token", error_description="step up"`}, "step up"},
		{"policy: anonymous", auth.Policy(denyBob), nil, 401, []string{"Bearer"}, ""},
		{"zero rule: any principal", mustRule(t, auth.Rule{}), bob, 200, nil, ""},
		{"challenge option", mustRule(t, auth.Rule{Scopes: []string{"a"}, Challenge: `Bearer realm="api"`}), bob, 403,
			[]string{`Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="a"`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := withPrincipal(tt.mw(echo), tt.p)
			checkResponse(t, w, tt.status, tt.challenge, tt.msg)
		})
	}
}

func mustRule(t *testing.T, r auth.Rule) func(http.Handler) http.Handler {
	t.Helper()
	mw, err := auth.Authorize(r)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

func TestAuthorizeErrors(t *testing.T) {
	for name, r := range map[string]auth.Rule{
		"scope with space": {Scopes: []string{"read users"}},
		"scope with quote": {Scopes: []string{`a"b`}},
		"empty scope":      {Scopes: []string{""}},
		"empty role":       {Roles: []string{""}},
		"bad challenge":    {Challenge: "Bearer\n"},
	} {
		if _, err := auth.Authorize(r); err == nil {
			t.Errorf("Authorize(%s) = nil error; want one", name)
		}
	}
	for name, f := range map[string]func(){
		"Roles()":    func() { auth.Roles() },
		"Scopes()":   func() { auth.Scopes() },
		"Policy nil": func() { auth.Policy(nil) },
		"Scopes bad": func() { auth.Scopes("a b") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

// TestAuthorizeAfterMiddleware: the two compose, the Principal flowing
// from one to the other.
func TestAuthorizeAfterMiddleware(t *testing.T) {
	h := auth.Require(static{p: alice})(auth.Scopes("read:users")(auth.Roles("admin")(echo)))
	if w := serve(h, httptest.NewRequest("GET", "/", nil)); w.Code != 200 || w.Header().Get("X-Subject") != "alice" {
		t.Errorf("got %d %q; want 200 alice", w.Code, w.Header().Get("X-Subject"))
	}
}
