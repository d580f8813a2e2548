package auth

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Rule says who may pass a route, once authenticated: the [Principal] in
// the request's context must hold every one of Scopes, at least one of
// Roles, and satisfy Policy. Build the middleware with [Authorize], or use
// [Scopes], [Roles] or [Policy] for one condition. Every field's zero
// value works; the zero Rule lets any Principal through.
type Rule struct {
	// Scopes must all be granted to the Principal. Each must be a scope
	// token of RFC 6749 (printable ASCII, no space, '"' or '\'). Nil: none.
	Scopes []string
	// Roles: the Principal must have at least one of them. Nil: any.
	Roles []string
	// Policy, when not nil, is asked last, with a Principal that holds the
	// scopes and roles. A nil error lets the request through. An [*Error]
	// is answered as it says (401 or 403, with its code); any other error
	// answers 403. It runs on every request: keep it fast.
	Policy func(r *http.Request, p *Principal) error
	// Challenge is the WWW-Authenticate challenge sent when the request has
	// no Principal (401), and with error="insufficient_scope" when a scope
	// is missing (403, RFC 6750 section 3.1). Empty: "Bearer".
	Challenge string
	// ErrorHandler writes the refusals, as [Middleware]'s does. Nil: a
	// JSON body of the form {"error":{"type":"forbidden","message":...}}.
	ErrorHandler ErrorHandler
}

// Scopes returns a middleware that lets through only the requests whose
// [Principal] holds every one of scopes: 401 when there is no Principal,
// 403 with error="insufficient_scope" when one is missing. It panics when
// scopes is empty (which would require nothing) or a scope is not a valid
// scope token; see [Authorize].
func Scopes(scopes ...string) func(http.Handler) http.Handler {
	if len(scopes) == 0 {
		panic("auth: Scopes needs at least one scope")
	}
	return mustAuthorize(Rule{Scopes: scopes})
}

// Roles returns a middleware that lets through only the requests whose
// [Principal] has at least one of roles: 401 when there is no Principal,
// 403 when it has none of them. It panics when roles is empty or holds "".
func Roles(roles ...string) func(http.Handler) http.Handler {
	if len(roles) == 0 {
		panic("auth: Roles needs at least one role")
	}
	return mustAuthorize(Rule{Roles: roles})
}

// Policy returns a middleware that lets through only the requests whose
// [Principal] f allows (see [Rule]'s Policy): 401 when there is no
// Principal. It panics when f is nil.
func Policy(f func(r *http.Request, p *Principal) error) func(http.Handler) http.Handler {
	if f == nil {
		panic("auth: Policy is nil")
	}
	return mustAuthorize(Rule{Policy: f})
}

func mustAuthorize(rule Rule) func(http.Handler) http.Handler {
	mw, err := Authorize(rule)
	if err != nil {
		panic(err)
	}
	return mw
}

// Authorize returns the middleware that enforces rule. It reads the
// [Principal] that an authentication middleware put in the request's
// context ([PrincipalFrom]). It fails for a scope that is not a scope
// token, an empty role or an invalid challenge. rule is copied; changing
// it later has no effect. A request that is let through costs no
// allocation.
func Authorize(rule Rule) (func(http.Handler) http.Handler, error) {
	z := &authz{
		scopes:  slices.Clone(rule.Scopes),
		roles:   slices.Clone(rule.Roles),
		policy:  rule.Policy,
		onError: rule.ErrorHandler,
	}
	for _, s := range z.scopes {
		if !validScope(s) {
			return nil, fmt.Errorf("auth: scope %q is not a scope token", s)
		}
	}
	for _, role := range z.roles {
		if role == "" {
			return nil, errors.New("auth: a role is empty")
		}
	}
	ch := rule.Challenge
	if ch == "" {
		ch = "Bearer"
	}
	if !validHeaderValue(ch) || strings.TrimSpace(ch) == "" {
		return nil, fmt.Errorf("auth: invalid challenge %q", ch)
	}
	z.challenge = ch
	z.scopeErr = &Error{
		Status:      http.StatusForbidden,
		Code:        CodeInsufficientScope,
		Description: "insufficient scope",
		Scope:       strings.Join(z.scopes, " "),
	}
	z.scopeChallenge = withError(ch, z.scopeErr)
	if z.onError == nil {
		z.onError = writeError
	}
	return func(next http.Handler) http.Handler {
		return &authzHandler{authz: z, next: next}
	}, nil
}

// authz is the compiled [Rule].
type authz struct {
	scopes, roles  []string
	policy         func(*http.Request, *Principal) error
	challenge      string
	scopeErr       *Error // shared, never changed
	scopeChallenge string
	onError        ErrorHandler
}

type authzHandler struct {
	*authz
	next http.Handler
}

var (
	errNoPrincipal = errors.New("auth: no principal in the request's context")
	errNoRole      = errors.New("auth: principal has none of the roles")
	errScope       = errors.New("auth: principal lacks a scope")
)

func (h *authzHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if p == nil {
		w.Header()["Www-Authenticate"] = []string{h.challenge}
		h.onError(w, r, &Error{Status: http.StatusUnauthorized, Err: errNoPrincipal})
		return
	}
	for _, s := range h.scopes {
		if !p.HasScope(s) {
			w.Header()["Www-Authenticate"] = []string{h.scopeChallenge}
			e := *h.scopeErr // a copy: the ErrorHandler may keep or change it
			e.Err = errScope
			h.onError(w, r, &e)
			return
		}
	}
	if len(h.roles) > 0 && !hasAnyRole(p, h.roles) {
		h.onError(w, r, &Error{Status: http.StatusForbidden, Description: "missing role", Err: errNoRole})
		return
	}
	if h.policy != nil {
		if err := h.policy(r, p); err != nil {
			h.refuse(w, r, err)
			return
		}
	}
	h.next.ServeHTTP(w, r)
}

// refuse answers for the Policy's error err.
func (h *authzHandler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var ae *Error
	if !errors.As(err, &ae) {
		h.onError(w, r, &Error{Status: http.StatusForbidden, Err: err})
		return
	}
	switch {
	case ae.Challenge != "" && validHeaderValue(ae.Challenge):
		w.Header()["Www-Authenticate"] = []string{ae.Challenge}
	case ae.status() == http.StatusUnauthorized || ae.Code != "":
		w.Header()["Www-Authenticate"] = []string{withError(h.challenge, ae)}
	}
	h.onError(w, r, err)
}

// hasAnyRole reports whether p has one of roles; a loop, not a method
// value, which could allocate.
func hasAnyRole(p *Principal, roles []string) bool {
	for _, role := range roles {
		if p.HasRole(role) {
			return true
		}
	}
	return false
}
