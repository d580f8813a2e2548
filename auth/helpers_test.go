package auth_test

import (
	"net/http"
	"net/http/httptest"

	"github.com/vivremotion/gateway/auth"
)

// static is an Authenticator that always answers the same.
type static struct {
	p   *auth.Principal
	err error
}

func (s static) Authenticate(*http.Request) (*auth.Principal, error) { return s.p, s.err }

// challenging is a static that is a Challenger too.
type challenging struct {
	static
	challenge string
}

func (c challenging) Challenge() string { return c.challenge }

// echo is the upstream: it answers 200 with the Principal's subject, or
// "anonymous", in X-Subject.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	s := "anonymous"
	if p := auth.PrincipalFrom(r.Context()); p != nil {
		s = p.Subject
	}
	w.Header().Set("X-Subject", s)
	w.WriteHeader(http.StatusOK)
})

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
