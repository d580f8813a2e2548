package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/vivremotion/gateway/internal/errs"
)

// ForwardAuthConfig configures [NewForwardAuth]. Only URL is required.
type ForwardAuthConfig struct {
	// URL is the authentication service's endpoint, absolute http or
	// https. Required.
	URL string
	// Method is the method of the request to the service. Empty: GET.
	Method string
	// RequestHeaders are copied from the client's request to the
	// service's. A request that carries none of them has no credentials
	// ([ErrNoCredentials]) and the service is not asked. Nil:
	// Authorization and Cookie. The service also gets X-Forwarded-Method,
	// X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri, which say
	// what the client asked for.
	RequestHeaders []string
	// ResponseHeaders are copied from the service's 2xx answer into the
	// Principal's Claims, keyed by their canonical names; to send them
	// upstream, use [ForwardAuth.ForwardHeaders] as the Middleware's
	// Forward. Nil: none.
	ResponseHeaders []string
	// SubjectHeader, TenantHeader and PlanHeader name headers of the
	// service's 2xx answer that give the Principal's Subject, Tenant and
	// Plan. Empty: not set.
	SubjectHeader string
	TenantHeader  string
	PlanHeader    string
	// CopyChallenge sends the WWW-Authenticate of the service's 401 to the
	// client in place of [ForwardAuth.Challenge]. False: the client gets
	// Challenge.
	CopyChallenge bool
	// Challenge is the challenge sent with a 401. Empty: "Bearer".
	Challenge string
	// Timeout bounds each call to the service, answer's head and drained
	// body included. Zero: 5 seconds.
	Timeout time.Duration
	// Client makes the calls; it is copied, and the copy never follows a
	// redirect (a redirect answer fails closed), whatever CheckRedirect
	// says. Nil: a client on http.DefaultTransport.
	Client *http.Client
}

// ForwardAuth asks an external HTTP service whether a request may pass
// (forward auth). It is an [Authenticator] and a [Challenger]. Build it
// with [NewForwardAuth]; it is safe for concurrent use.
//
// The service answers 2xx to let the request through, 401 or 403 to
// refuse it (the client gets the same status). Any other answer, a
// transport error or a timeout fails closed: the request is refused with
// an error that wraps the gateway's ErrUpstreamConnection (502) or
// ErrUpstreamTimeout (504), the latter also when the request's own
// deadline passes during the call. No cache: each request asks the service.
type ForwardAuth struct {
	url       string
	method    string
	reqH      []string // canonical
	respH     []string // canonical
	subject   string
	tenant    string
	plan      string
	copyCh    bool
	challenge string
	timeout   time.Duration
	client    *http.Client
}

// NewForwardAuth returns a [ForwardAuth] for c. It fails for a missing or
// relative URL, an invalid method, header name or challenge, or a negative
// timeout. c is copied.
func NewForwardAuth(c ForwardAuthConfig) (*ForwardAuth, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("auth: ForwardAuth URL %q is not an absolute http(s) URL", c.URL)
	}
	f := &ForwardAuth{
		url: c.URL, method: c.Method, copyCh: c.CopyChallenge,
		challenge: c.Challenge, timeout: c.Timeout, client: c.Client,
	}
	if f.method == "" {
		f.method = http.MethodGet
	}
	if !httpguts.ValidHeaderFieldName(f.method) { // a method is a token, as a header name is
		return nil, fmt.Errorf("auth: ForwardAuth Method %q is not a token", c.Method)
	}
	if f.challenge == "" {
		f.challenge = "Bearer"
	}
	if !validHeaderValue(f.challenge) || strings.TrimSpace(f.challenge) == "" {
		return nil, fmt.Errorf("auth: ForwardAuth Challenge %q is not valid", c.Challenge)
	}
	switch {
	case f.timeout == 0:
		f.timeout = 5 * time.Second
	case f.timeout < 0:
		return nil, fmt.Errorf("auth: ForwardAuth Timeout %v is negative", c.Timeout)
	}
	// A copy that never follows a redirect, whoever made the Client: a
	// service's redirect to its login page answers 200 there.
	f.client = &http.Client{}
	if c.Client != nil {
		*f.client = *c.Client
	}
	f.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	reqH := c.RequestHeaders
	if reqH == nil {
		reqH = []string{"Authorization", "Cookie"}
	}
	canon := func(list []string) ([]string, error) {
		out := make([]string, 0, len(list))
		for _, h := range list {
			if !httpguts.ValidHeaderFieldName(h) {
				return nil, fmt.Errorf("auth: ForwardAuth header %q is not a valid name", h)
			}
			out = append(out, textproto.CanonicalMIMEHeaderKey(h))
		}
		return out, nil
	}
	if f.reqH, err = canon(reqH); err != nil {
		return nil, err
	}
	if f.respH, err = canon(c.ResponseHeaders); err != nil {
		return nil, err
	}
	for _, h := range []*string{&c.SubjectHeader, &c.TenantHeader, &c.PlanHeader} {
		if *h != "" && !httpguts.ValidHeaderFieldName(*h) {
			return nil, fmt.Errorf("auth: ForwardAuth header %q is not a valid name", *h)
		}
	}
	f.subject, f.tenant, f.plan = c.SubjectHeader, c.TenantHeader, c.PlanHeader
	return f, nil
}

// Challenge returns the challenge sent with a 401.
func (f *ForwardAuth) Challenge() string { return f.challenge }

// ForwardHeaders returns the [ForwardHeaders] that send the
// ResponseHeaders upstream under their own names, for the Middleware's
// Forward: the inbound copies are then removed from every request, so
// that a client cannot pass off its own.
func (f *ForwardAuth) ForwardHeaders() ForwardHeaders {
	fh := make(ForwardHeaders, len(f.respH))
	for _, h := range f.respH {
		fh[h] = h
	}
	return fh
}

// Authenticate asks the service about r.
func (f *ForwardAuth) Authenticate(r *http.Request) (*Principal, error) {
	found := false
	for _, h := range f.reqH {
		if len(r.Header[h]) > 0 {
			found = true
			break
		}
	}
	if !found {
		return nil, ErrNoCredentials
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, f.method, f.url, nil)
	if err != nil {
		return nil, fmt.Errorf("auth: forward auth: %w: %w", errs.ErrUpstreamConnection, err)
	}
	for _, h := range f.reqH {
		if vs := r.Header[h]; len(vs) > 0 {
			req.Header[h] = vs
		}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	req.Header.Set("X-Forwarded-Method", r.Method)
	req.Header.Set("X-Forwarded-Proto", proto)
	req.Header.Set("X-Forwarded-Host", r.Host)
	req.Header.Set("X-Forwarded-Uri", r.URL.RequestURI())
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, f.failed(r, err)
	}
	// Drain a little, so that the connection can be reused, then close.
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		e := &Error{Status: http.StatusUnauthorized, Description: "unauthorized", Err: errors.New("auth: forward auth service answered 401")}
		if ch := resp.Header.Get("Www-Authenticate"); f.copyCh && ch != "" && validHeaderValue(ch) {
			e.Challenge = ch
		}
		return nil, e
	case resp.StatusCode == http.StatusForbidden:
		return nil, &Error{Status: http.StatusForbidden, Description: "forbidden", Err: errors.New("auth: forward auth service answered 403")}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, fmt.Errorf("auth: forward auth service answered %d: %w", resp.StatusCode, errs.ErrUpstreamConnection)
	case err != nil:
		return nil, f.failed(r, err)
	}
	p := &Principal{
		Method:  "forward",
		Subject: resp.Header.Get(f.subject),
		Tenant:  resp.Header.Get(f.tenant),
		Plan:    resp.Header.Get(f.plan),
	}
	if len(f.respH) > 0 {
		p.Claims = make(map[string]any, len(f.respH))
		for _, h := range f.respH {
			if v := resp.Header.Get(h); v != "" {
				p.Claims[h] = v
			}
		}
	}
	return p, nil
}

// failed classifies a call that got no usable answer.
func (f *ForwardAuth) failed(r *http.Request, err error) error {
	switch cerr := r.Context().Err(); {
	case errors.Is(cerr, context.DeadlineExceeded):
		// The request's own deadline, set in front: no verdict, 504.
		return fmt.Errorf("auth: forward auth: %w: %w", errs.ErrUpstreamTimeout, cerr)
	case cerr != nil:
		return fmt.Errorf("auth: forward auth: %w", cerr) // the client went away
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("auth: forward auth: %w: %w", errs.ErrUpstreamTimeout, err)
	}
	return fmt.Errorf("auth: forward auth: %w: %w", errs.ErrUpstreamConnection, err)
}
