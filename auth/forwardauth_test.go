package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/auth"
)

// authService is a forward-auth service: the token "good" passes, "bad"
// gets 401 with its own challenge, "banned" 403, "broken" 500, "slow"
// "redirect" a 302 to /login, which answers 200 to anyone: following it
// would let the request through.
func authService(t *testing.T) (*httptest.Server, *http.Request) {
	t.Helper()
	var last http.Request
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			return // 200
		}
		last = *r.Clone(r.Context())
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			w.Header().Set("X-Auth-User", "alice")
			w.Header().Set("X-Auth-Tenant", "acme")
			w.Header().Set("X-Auth-Email", "alice@example.org")
		case "Bearer bad":
			w.Header().Set("WWW-Authenticate", `Bearer realm="sso", error="invalid_token"`)
			w.WriteHeader(401)
		case "Bearer banned":
			w.WriteHeader(403)
		case "Bearer redirect":
			http.Redirect(w, r, "/login", http.StatusFound)
		default:
			w.WriteHeader(500)
		}
	}))
	t.Cleanup(s.Close)
	return s, &last
}

func TestForwardAuth(t *testing.T) {
	s, last := authService(t)
	fa, err := auth.NewForwardAuth(auth.ForwardAuthConfig{
		URL:             s.URL + "/verify",
		SubjectHeader:   "X-Auth-User",
		TenantHeader:    "X-Auth-Tenant",
		ResponseHeaders: []string{"X-Auth-Email"},
		CopyChallenge:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := auth.NewMiddleware(auth.Middleware{Authenticators: []auth.Authenticator{fa}, Forward: fa.ForwardHeaders()})
	if err != nil {
		t.Fatal(err)
	}
	var upstream http.Header
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstream = r.Header.Clone()
		echo(w, r)
	}))
	for _, tt := range []struct {
		token     string
		status    int
		challenge []string
	}{
		{"good", 200, nil},
		{"bad", 401, []string{`Bearer realm="sso", error="invalid_token"`}},
		{"banned", 403, nil},
		{"broken", 502, nil},          // fails closed
		{"redirect", 502, nil},        // not followed
		{"", 401, []string{"Bearer"}}, // no credentials: the service is not asked
	} {
		name := tt.token
		if name == "" {
			name = "no token"
		}
		t.Run(name, func(t *testing.T) {
			upstream = nil
			r := httptest.NewRequest("POST", "http://api.example.org/v1/users?id=7", nil)
			r.Header.Set("X-Auth-Email", "spoofed@evil.example") // never reaches the upstream
			if tt.token != "" {
				r.Header.Set("Authorization", "Bearer "+tt.token)
			}
			w := serve(h, r)
			checkResponse(t, w, tt.status, tt.challenge, "")
			if tt.status != 200 {
				if upstream != nil {
					t.Error("upstream reached")
				}
				return
			}
			if w.Header().Get("X-Subject") != "alice" || upstream.Get("X-Auth-Email") != "alice@example.org" || len(upstream["X-Auth-Email"]) != 1 {
				t.Errorf("subject %q, upstream X-Auth-Email %q; want alice, alice@example.org", w.Header().Get("X-Subject"), upstream["X-Auth-Email"])
			}
			for k, want := range map[string]string{"X-Forwarded-Method": "POST", "X-Forwarded-Host": "api.example.org", "X-Forwarded-Uri": "/v1/users?id=7", "X-Forwarded-Proto": "http", "Authorization": "Bearer good"} {
				if got := last.Header.Get(k); got != want {
					t.Errorf("service got %s %q; want %q", k, got, want)
				}
			}
		})
	}
}

// TestForwardAuthRedirectNotFollowed: a redirect from the service fails
// closed, with the default Client and with the caller's.
func TestForwardAuthRedirectNotFollowed(t *testing.T) {
	s, _ := authService(t)
	own := &http.Client{Transport: http.DefaultTransport}
	for name, c := range map[string]*http.Client{"default client": nil, "caller's client": own} {
		fa, err := auth.NewForwardAuth(auth.ForwardAuthConfig{URL: s.URL + "/verify", Client: c})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer redirect")
		if p, err := fa.Authenticate(r); !errors.Is(err, gateway.ErrUpstreamConnection) {
			t.Errorf("%s: Authenticate(redirected) = %+v, %v; want ErrUpstreamConnection", name, p, err)
		}
	}
	if own.CheckRedirect != nil {
		t.Errorf("NewForwardAuth changed the caller's Client")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestForwardAuthTimeout: a service that does not answer in time fails
// closed with 504, after Timeout (5 seconds by default).
func TestForwardAuthTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		})}
		for _, tt := range []struct {
			timeout, want time.Duration
		}{{0, 5 * time.Second}, {300 * time.Millisecond, 300 * time.Millisecond}} {
			fa, err := auth.NewForwardAuth(auth.ForwardAuthConfig{URL: "http://auth.internal/verify", Client: hang, Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer good")
			start := time.Now()
			w := serve(auth.Require(fa)(echo), r)
			if took := time.Since(start); w.Code != 504 || took != tt.want {
				t.Errorf("Timeout %v: got %d after %v; want 504 after %v", tt.timeout, w.Code, took, tt.want)
			}
		}
	})
}

// TestForwardAuthRequestDeadline: when the request's own deadline (a
// server's or a timeout middleware's in front) passes while the service
// thinks, the client gets 504 with no challenge, not 401.
func TestForwardAuthRequestDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		})}
		fa, err := auth.NewForwardAuth(auth.ForwardAuthConfig{URL: "http://auth.internal/verify", Client: hang})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer good")
		ctx, cancel := context.WithTimeout(r.Context(), 50*time.Millisecond)
		defer cancel()
		r = r.WithContext(ctx)
		if _, err := fa.Authenticate(r); !errors.Is(err, gateway.ErrUpstreamTimeout) {
			t.Errorf("Authenticate past the request's deadline = %v; want ErrUpstreamTimeout", err)
		}
		w := serve(auth.Require(fa)(echo), r)
		if w.Code != 504 || w.Header().Get("WWW-Authenticate") != "" {
			t.Errorf("got %d with challenge %q; want 504 and none", w.Code, w.Header().Get("WWW-Authenticate"))
		}
	})
}

// TestForwardAuthDown: a service that cannot be reached fails closed,
// with an error that the gateway's WriteError maps to 502.
func TestForwardAuthDown(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close()
	fa, err := auth.NewForwardAuth(auth.ForwardAuthConfig{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer good")
	p, err := fa.Authenticate(r)
	if p != nil || !errors.Is(err, gateway.ErrUpstreamConnection) {
		t.Fatalf("Authenticate = %v, %v; want an error wrapping ErrUpstreamConnection", p, err)
	}
	mw, _ := auth.NewMiddleware(auth.Middleware{Authenticators: []auth.Authenticator{fa}, ErrorHandler: gateway.WriteError})
	if w := serve(mw(echo), r); w.Code != 502 {
		t.Errorf("status = %d; want 502", w.Code)
	}
}

// TestForwardAuthNoChallengeCopy: without CopyChallenge, the client gets
// the configured challenge, not the service's.
func TestForwardAuthNoChallengeCopy(t *testing.T) {
	s, _ := authService(t)
	fa, _ := auth.NewForwardAuth(auth.ForwardAuthConfig{URL: s.URL, Challenge: `Bearer realm="api"`})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer bad")
	checkResponse(t, serve(auth.Require(fa)(echo), r), 401, []string{`Bearer realm="api"`}, "")
}

func TestNewForwardAuthErrors(t *testing.T) {
	for name, c := range map[string]auth.ForwardAuthConfig{
		"no URL":        {},
		"relative URL":  {URL: "/verify"},
		"other scheme":  {URL: "ftp://auth/verify"},
		"bad method":    {URL: "http://auth/", Method: "GET /"},
		"bad header":    {URL: "http://auth/", RequestHeaders: []string{"X Y"}},
		"bad subject":   {URL: "http://auth/", SubjectHeader: "X:Y"},
		"negative":      {URL: "http://auth/", Timeout: -time.Second},
		"bad challenge": {URL: "http://auth/", Challenge: "Bearer\r\n"},
	} {
		if _, err := auth.NewForwardAuth(c); err == nil {
			t.Errorf("NewForwardAuth(%s) = nil error; want one", name)
		}
	}
}
