package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/vivremotion/gateway/internal/errs"
)

// Middleware authenticates requests in front of a handler. Build it with
// [NewMiddleware], or use [Require] for the common case. Only
// Authenticators is required; every other field's zero value works.
type Middleware struct {
	// Authenticators are asked in order. The first that finds a credential
	// of its kind decides: its Principal goes into the request's context,
	// or its error ends the request. One that returns [ErrNoCredentials]
	// passes the request to the next. Required: at least one, none nil.
	Authenticators []Authenticator
	// Optional lets a request that carries no credential at all through
	// with no Principal in its context, for handlers that serve anonymous
	// callers too (and [Scopes], [Roles] or [Policy] on the routes that do
	// not). A credential that is there but not valid is refused all the
	// same. False: such a request gets 401.
	Optional bool
	// Forward names the headers set on the request for the upstream from
	// the Principal (see [ForwardHeaders]). Inbound copies of each are
	// removed from every request, anonymous ones included. Nil: none.
	Forward ForwardHeaders
	// ErrorHandler writes the refusals: an [*Error] (401 or 403, or 503
	// when an Authenticator could not decide, as when its store is down:
	// it then wraps the gateway's ErrAuthUnavailable), or an
	// Authenticator's failure to decide that wraps the gateway's
	// ErrUpstreamTimeout or ErrUpstreamConnection (504, 502). The
	// WWW-Authenticate challenges are set before it is called; the
	// gateway's WriteError fits as it is. Nil: a JSON body of the form
	// {"error":{"type":"unauthorized","message":"unauthorized"}}.
	ErrorHandler ErrorHandler
}

// Require returns a middleware that lets through only the requests that
// one of auths authenticates, asked in order, with the default error
// body. It panics when auths is empty or holds nil; see [NewMiddleware].
func Require(auths ...Authenticator) func(http.Handler) http.Handler {
	mw, err := NewMiddleware(Middleware{Authenticators: auths})
	if err != nil {
		panic(err)
	}
	return mw
}

// NewMiddleware returns the middleware m describes. It fails when m has no
// Authenticators, when one is nil, or when Forward is not valid. m is
// copied; changing it later has no effect. The challenges of the
// Authenticators that are [Challenger]s are read here, once.
func NewMiddleware(m Middleware) (func(http.Handler) http.Handler, error) {
	if len(m.Authenticators) == 0 {
		return nil, errors.New("auth: Middleware has no Authenticators")
	}
	c := &authn{
		auths:      slices.Clone(m.Authenticators), // the caller may reuse its slice
		optional:   m.Optional,
		onError:    m.ErrorHandler,
		challengeN: make([]int, len(m.Authenticators)),
	}
	for i, a := range c.auths {
		if a == nil {
			return nil, fmt.Errorf("auth: Authenticators[%d] is nil", i)
		}
		c.challengeN[i] = -1
		if ch, ok := a.(Challenger); ok {
			s := ch.Challenge()
			if s == "" || !validHeaderValue(s) {
				return nil, fmt.Errorf("auth: Authenticators[%d] has an invalid challenge %q", i, s)
			}
			c.challengeN[i] = len(c.challenges)
			c.challenges = append(c.challenges, s)
		}
	}
	fwd, err := m.Forward.compile()
	if err != nil {
		return nil, err
	}
	c.fwd = fwd
	if c.onError == nil {
		c.onError = writeError
	}
	return func(next http.Handler) http.Handler {
		return &authnHandler{authn: c, next: next}
	}, nil
}

// authn is the compiled [Middleware], shared by every handler it wraps.
type authn struct {
	auths      []Authenticator
	optional   bool
	fwd        *forwarder
	onError    ErrorHandler
	challenges []string // of the Challengers, in order
	challengeN []int    // per Authenticator, its index in challenges or -1
}

type authnHandler struct {
	*authn
	next http.Handler
}

func (h *authnHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.fwd.strip(r.Header) // first, whatever happens next: no client sets these
	h.fwd.stripTrailer(r) // nor sends them as trailers
	for i, a := range h.auths {
		p, err := a.Authenticate(r)
		if err == nil && p == nil {
			err = errors.New("auth: Authenticator returned neither a Principal nor an error")
		}
		if err == nil {
			h.fwd.set(r.Header, p)
			h.next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
			return
		}
		if errors.Is(err, ErrNoCredentials) {
			continue
		}
		h.refuse(w, r, i, err)
		return
	}
	if h.optional {
		h.next.ServeHTTP(w, r)
		return
	}
	// RFC 6750 section 3.1: a request with no credential gets the
	// challenges with no error code.
	h.challenge(w, -1, nil)
	h.onError(w, r, &Error{Status: http.StatusUnauthorized, Err: ErrNoCredentials})
}

// refuse answers for the error err of the i-th Authenticator.
func (h *authnHandler) refuse(w http.ResponseWriter, r *http.Request, i int, err error) {
	var ae *Error
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, errs.ErrUpstreamTimeout), errors.Is(err, errs.ErrUpstreamConnection),
		errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		h.onError(w, r, err) // not a verdict on the credential: no challenge
		return
	default:
		ae = &Error{Status: http.StatusUnauthorized, Err: err}
		err = ae
	}
	if ae.status() == http.StatusUnauthorized || ae.Code != "" || ae.Challenge != "" {
		h.challenge(w, i, ae)
	}
	h.onError(w, r, err)
}

// challenge sets WWW-Authenticate: one challenge per [Challenger] for a
// 401, the i-th Authenticator's with the error attributes of e; only that
// one for a 403.
func (h *authnHandler) challenge(w http.ResponseWriter, i int, e *Error) {
	own := ""
	if i >= 0 {
		if n := h.challengeN[i]; n >= 0 {
			own = h.challenges[n]
		}
		if e.Challenge != "" && validHeaderValue(e.Challenge) {
			own = e.Challenge
		} else if own != "" {
			own = withError(own, e)
		}
	}
	var vs []string
	if e != nil && e.status() == http.StatusForbidden {
		if own == "" {
			return
		}
		vs = []string{own}
	} else {
		vs = make([]string, 0, len(h.challenges)+1)
		for n, c := range h.challenges {
			if i >= 0 && n == h.challengeN[i] {
				c = own
			}
			vs = append(vs, c)
		}
		if i >= 0 && h.challengeN[i] < 0 && own != "" {
			vs = append(vs, own)
		}
	}
	if len(vs) > 0 {
		w.Header()["Www-Authenticate"] = vs
	}
}

// validHeaderValue reports whether s can be sent as a header value: no
// control byte but tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
