package introspect_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/introspect"
	"github.com/vivremotion/gateway/internal/errs"
)

// future and past are "exp" values for tests on the real clock.
var (
	future = time.Now().Add(time.Hour).Unix()
	past   = time.Now().Add(-time.Hour).Unix()
)

// wantError checks that err is an *auth.Error with status and code that
// wraps cause.
func wantError(t *testing.T, call string, err error, status int, code string, cause error) {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) {
		t.Fatalf("%s = %v; want an *auth.Error", call, err)
	}
	got := ae.Status
	if got == 0 {
		got = http.StatusUnauthorized
	}
	if got != status || ae.Code != code || !errors.Is(err, cause) {
		t.Fatalf("%s = status %d, code %q, err %v; want %d, %q, %v", call, got, ae.Code, err, status, code, cause)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEndpoint(t)
	cfg := serve(t, e)
	cfg.TenantClaim, cfg.PlanClaim, cfg.RolesClaim = "org", "tier", "roles"
	in := mustNew(t, cfg)

	e.set("full", fmt.Sprintf(`{"active":true,"sub":"alice","username":"al","client_id":"app","scope":"read write",
		"org":"acme","tier":"gold","roles":["admin","ops"],"exp":%d,"extra":27}`, future))
	e.set("username", `{"active":true,"username":"bob","client_id":"app","roles":"a b"}`)
	e.set("client", `{"active":true,"client_id":"app"}`)

	tests := []struct {
		token string
		want  auth.Principal
	}{
		{"full", auth.Principal{Subject: "alice", Tenant: "acme", Plan: "gold", Scopes: []string{"read", "write"}, Roles: []string{"admin", "ops"}}},
		{"username", auth.Principal{Subject: "bob", Roles: []string{"a", "b"}}},
		{"client", auth.Principal{Subject: "app"}},
	}
	for _, tt := range tests {
		p, err := in.Authenticate(bearer(tt.token))
		if err != nil {
			t.Fatalf("Authenticate(%s) error %v", tt.token, err)
		}
		got := *p
		got.Claims = nil
		tt.want.Method = "introspection"
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Authenticate(%s) = %+v; want %+v", tt.token, got, tt.want)
		}
		if p.Claims["active"] != true {
			t.Errorf("Authenticate(%s).Claims = %v; want the answer's members", tt.token, p.Claims)
		}
	}
	p, _ := in.Authenticate(bearer("full"))
	if p.Claims["extra"] != float64(27) {
		t.Errorf(`Claims["extra"] = %v; want 27`, p.Claims["extra"])
	}
}

func TestAuthenticateRefused(t *testing.T) {
	e := newEndpoint(t)
	cfg := serve(t, e)
	cfg.Audience, cfg.Issuer = "https://api.example", "https://as.example/"
	in := mustNew(t, cfg)

	ok := `"aud":"https://api.example","iss":"https://as.example/"`
	e.set("good", fmt.Sprintf(`{"active":true,"sub":"a",%s}`, ok))
	e.set("good-aud-list", fmt.Sprintf(`{"active":true,"sub":"a","aud":["x","https://api.example"],"iss":"https://as.example/"}`))
	e.set("inactive", `{"active":false}`)
	e.set("expired", fmt.Sprintf(`{"active":true,"sub":"a","exp":%d,%s}`, past, ok))
	e.set("early", fmt.Sprintf(`{"active":true,"sub":"a","nbf":%d,%s}`, future, ok))
	e.set("other-aud", `{"active":true,"sub":"a","aud":"https://other.example","iss":"https://as.example/"}`)
	e.set("no-aud", `{"active":true,"sub":"a","iss":"https://as.example/"}`)
	e.set("other-iss", `{"active":true,"sub":"a","aud":"https://api.example","iss":"https://evil.example/"}`)

	for _, tok := range []string{"good", "good-aud-list"} {
		if _, err := in.Authenticate(bearer(tok)); err != nil {
			t.Errorf("Authenticate(%s) = %v; want a principal", tok, err)
		}
	}
	tests := []struct {
		token string
		cause error
	}{
		{"inactive", introspect.ErrInactive},
		{"unknown", introspect.ErrInactive},
		{"expired", introspect.ErrExpired},
		{"early", introspect.ErrNotYetValid},
		{"other-aud", introspect.ErrAudience},
		{"no-aud", introspect.ErrAudience},
		{"other-iss", introspect.ErrIssuer},
	}
	for _, tt := range tests {
		p, err := in.Authenticate(bearer(tt.token))
		if p != nil {
			t.Errorf("Authenticate(%s) = %+v; want none", tt.token, p)
		}
		wantError(t, "Authenticate("+tt.token+")", err, 401, auth.CodeInvalidToken, tt.cause)
		if !errors.Is(err, errs.ErrUnauthorized) {
			t.Errorf("Authenticate(%s) = %v; want it to wrap ErrUnauthorized", tt.token, err)
		}
	}
}

// TestCredentials: what the request carries decides whether the token is
// looked at, and a malformed one never reaches the endpoint.
func TestCredentials(t *testing.T) {
	e := newEndpoint(t)
	cfg := serve(t, e)
	cfg.MaxTokenLength = 16
	in := mustNew(t, cfg)
	e.set("abc", `{"active":true,"sub":"a"}`)

	tests := []struct {
		name   string
		authz  []string
		code   string // "" with cause nil: a principal
		cause  error
		noCred bool
	}{
		{name: "none", noCred: true},
		{name: "basic", authz: []string{"Basic YTpi"}, noCred: true},
		{name: "other scheme with the prefix", authz: []string{"Bearerabc"}, noCred: true},
		{name: "lower case scheme", authz: []string{"bearer abc"}},
		{name: "spaces", authz: []string{"BEARER   abc"}},
		{name: "padding", authz: []string{"Bearer abc=="}, code: auth.CodeInvalidToken, cause: introspect.ErrInactive},
		{name: "empty", authz: []string{"Bearer "}, code: auth.CodeInvalidRequest, cause: introspect.ErrMalformed},
		{name: "scheme only", authz: []string{"Bearer"}, code: auth.CodeInvalidRequest, cause: introspect.ErrMalformed},
		{name: "two headers", authz: []string{"Bearer abc", "Bearer abc"}, code: auth.CodeInvalidRequest, cause: introspect.ErrMalformed},
		{name: "bad byte", authz: []string{"Bearer a\"bc"}, code: auth.CodeInvalidToken, cause: introspect.ErrMalformed},
		{name: "space inside", authz: []string{"Bearer ab c"}, code: auth.CodeInvalidToken, cause: introspect.ErrMalformed},
		{name: "padding inside", authz: []string{"Bearer a=b"}, code: auth.CodeInvalidToken, cause: introspect.ErrMalformed},
		{name: "too long", authz: []string{"Bearer " + strings.Repeat("a", 17)}, code: auth.CodeInvalidToken, cause: introspect.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.calls.Load()
			p, err := in.Authenticate(request(tt.authz...))
			switch {
			case tt.noCred:
				if !errors.Is(err, auth.ErrNoCredentials) {
					t.Fatalf("Authenticate(%q) = %v; want ErrNoCredentials", tt.authz, err)
				}
			case tt.cause == nil:
				if err != nil || p == nil || p.Subject != "a" {
					t.Fatalf("Authenticate(%q) = %v, %v; want subject a", tt.authz, p, err)
				}
			default:
				wantError(t, fmt.Sprintf("Authenticate(%q)", tt.authz), err, 401, tt.code, tt.cause)
			}
			if errors.Is(err, introspect.ErrMalformed) || tt.noCred {
				if n := e.calls.Load() - before; n != 0 {
					t.Errorf("endpoint called %d times; want 0", n)
				}
			}
		})
	}
}

// TestRFC7662Example sends the request of RFC 7662 section 2.1, byte for
// byte, and reads the answer of section 2.2. Inside the bubble the clock
// starts in 2000, before the answer's "exp" (December 2014).
func TestRFC7662Example(t *testing.T) {
	const answer = `{
      "active": true,
      "client_id": "l238j323ds-23ij4",
      "username": "jdoe",
      "scope": "read write dolphin",
      "sub": "Z5O3upPC88QrAjx00dis",
      "aud": "https://protected.example.net/resource",
      "iss": "https://server.example.com/",
      "exp": 1419356238,
      "iat": 1419350238,
      "extension_field": "twenty-seven"
     }`
	check := func(r *http.Request) (*http.Response, error) {
		if got, want := readAll(r), "token=mF_9.B5f-4.1JqM&token_type_hint=access_token"; got != want {
			t.Errorf("body = %q; want %q", got, want)
		}
		if got, want := r.Header.Get("Authorization"), "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"; got != want {
			t.Errorf("Authorization = %q; want %q", got, want)
		}
		if got, want := r.URL.String(), "https://server.example.com/introspect"; got != want {
			t.Errorf("URL = %q; want %q", got, want)
		}
		return jsonResponse(answer), nil
	}
	cfg := introspect.Config{
		Endpoint:     "https://server.example.com/introspect",
		ClientID:     "s6BhdRkqt3",
		ClientSecret: "gX1fBat3bV",
		Audience:     "https://protected.example.net/resource",
		Issuer:       "https://server.example.com/",
		Client:       &http.Client{Transport: transportFunc(check)},
	}
	synctest.Test(t, func(t *testing.T) {
		in := mustNew(t, cfg)
		p, err := in.Authenticate(bearer("mF_9.B5f-4.1JqM"))
		if err != nil {
			t.Fatalf("Authenticate = %v", err)
		}
		if p.Subject != "Z5O3upPC88QrAjx00dis" || !slices.Equal(p.Scopes, []string{"read", "write", "dolphin"}) ||
			p.Claims["extension_field"] != "twenty-seven" || p.Method != introspect.Method {
			t.Errorf("Authenticate = %+v; want sub Z5O3upPC88QrAjx00dis, scopes read write dolphin", p)
		}
	})
	// On the real clock the answer's exp has passed.
	in := mustNew(t, cfg)
	_, err := in.Authenticate(bearer("mF_9.B5f-4.1JqM"))
	wantError(t, "Authenticate after exp", err, 401, auth.CodeInvalidToken, introspect.ErrExpired)
}

func TestBearerClientAuth(t *testing.T) {
	e := newEndpoint(t)
	e.authz = "Bearer gw-token.1"
	cfg := serve(t, e)
	cfg.ClientID, cfg.ClientSecret, cfg.BearerToken = "", "", "gw-token.1"
	in := mustNew(t, cfg)
	e.set("abc", `{"active":true,"sub":"a"}`)
	if p, err := in.Authenticate(bearer("abc")); err != nil || p.Subject != "a" {
		t.Fatalf("Authenticate = %v, %v; want subject a", p, err)
	}
}

func TestCacheHit(t *testing.T) {
	e := newEndpoint(t)
	in := mustNew(t, serve(t, e))
	e.set("good", `{"active":true,"sub":"a"}`)
	e.set("bad", `{"active":false}`)

	first, _ := in.Authenticate(bearer("good"))
	for range 3 {
		p, err := in.Authenticate(bearer("good"))
		if err != nil || p != first {
			t.Fatalf("Authenticate(good) = %p, %v; want the cached %p", p, err, first)
		}
	}
	for range 3 {
		_, err := in.Authenticate(bearer("bad"))
		wantError(t, "Authenticate(bad)", err, 401, auth.CodeInvalidToken, introspect.ErrInactive)
	}
	if n := e.calls.Load(); n != 2 {
		t.Errorf("endpoint called %d times; want 2 (one per token)", n)
	}
}

// TestCacheTTL: active answers are cached until exp or MaxTTL, whichever
// is first; refusals for NegativeTTL.
func TestCacheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEndpoint(t)
		cfg := inMemory(e)
		cfg.MaxTTL, cfg.NegativeTTL = time.Minute, 10*time.Second
		in := mustNew(t, cfg)
		start := time.Now()
		e.set("long", `{"active":true,"sub":"a"}`)
		e.set("short", fmt.Sprintf(`{"active":true,"sub":"a","exp":%d}`, start.Add(20*time.Second).Unix()))
		e.set("bad", `{"active":false}`)

		type step struct {
			at    time.Duration // since start
			token string
			calls int64 // the endpoint's calls for all tokens after the step
			cause error
		}
		run := func(steps []step) {
			t.Helper()
			for _, s := range steps {
				time.Sleep(time.Until(start.Add(s.at)))
				_, err := in.Authenticate(bearer(s.token))
				if !errors.Is(err, s.cause) || (s.cause == nil && err != nil) {
					t.Fatalf("at %v: Authenticate(%s) = %v; want %v", s.at, s.token, err, s.cause)
				}
				if n := e.calls.Load(); n != s.calls {
					t.Fatalf("at %v after Authenticate(%s): %d calls; want %d", s.at, s.token, n, s.calls)
				}
			}
		}
		run([]step{
			{0, "long", 1, nil},
			{0, "short", 2, nil},
			{0, "bad", 3, introspect.ErrInactive},
			{9 * time.Second, "bad", 3, introspect.ErrInactive},
			{10 * time.Second, "bad", 4, introspect.ErrInactive}, // negative entry expired
			{19 * time.Second, "short", 4, nil},
			{20 * time.Second, "short", 5, introspect.ErrExpired}, // cached until exp; now the answer has expired
			{21 * time.Second, "short", 5, introspect.ErrExpired}, // and that is cached
			{59 * time.Second, "long", 5, nil},
			{60 * time.Second, "long", 6, nil}, // MaxTTL
			{61 * time.Second, "long", 6, nil},
		})
		start = time.Now()
		e.set("early", fmt.Sprintf(`{"active":true,"sub":"a","nbf":%d}`, start.Add(5*time.Second).Unix()))
		run([]step{
			{0, "early", 7, introspect.ErrNotYetValid},
			{4 * time.Second, "early", 7, introspect.ErrNotYetValid},
			{5 * time.Second, "early", 8, nil}, // the refusal lasts until nbf, not NegativeTTL
		})
	})
}

// TestCoalescing: concurrent requests with the same uncached token make
// one call, and all get its answer, failure included.
func TestCoalescing(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		cause  error
	}{
		{"active", http.StatusOK, nil},
		{"failure", http.StatusBadGateway, introspect.ErrUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				var calls int
				var mu sync.Mutex
				rt := transportFunc(func(r *http.Request) (*http.Response, error) {
					mu.Lock()
					calls++
					mu.Unlock()
					<-release
					res := jsonResponse(`{"active":true,"sub":"a"}`)
					res.StatusCode = tt.status
					return res, nil
				})
				in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", Client: &http.Client{Transport: rt}})
				const n = 100
				errc := make(chan error, n)
				for range n {
					go func() {
						_, err := in.Authenticate(bearer("same"))
						errc <- err
					}()
				}
				synctest.Wait() // all 100 are waiting: one on the endpoint, 99 on it
				mu.Lock()
				if calls != 1 {
					t.Errorf("%d calls while %d requests wait; want 1", calls, n)
				}
				mu.Unlock()
				close(release)
				for range n {
					if err := <-errc; !errors.Is(err, tt.cause) || (tt.cause == nil && err != nil) {
						t.Fatalf("Authenticate = %v; want %v", err, tt.cause)
					}
				}
				// A failure is not cached: the next request, once the
				// failure cooldown (1s) is over, asks again.
				time.Sleep(time.Second)
				_, _ = in.Authenticate(bearer("same"))
				want := 1
				if tt.cause != nil {
					want = 2
				}
				if calls != want {
					t.Errorf("%d calls after one more request; want %d", calls, want)
				}
			})
		})
	}
}

// TestWaiterContext: a waiter whose context ends stops waiting; the call
// goes on for the others.
func TestWaiterContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		rt := transportFunc(func(r *http.Request) (*http.Response, error) {
			<-release
			return jsonResponse(`{"active":true,"sub":"a"}`), nil
		})
		in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", Client: &http.Client{Transport: rt}})
		leader := make(chan error, 1)
		go func() {
			_, err := in.Introspect(context.Background(), "tok")
			leader <- err
		}()
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		waiter := make(chan error, 1)
		go func() {
			_, err := in.Introspect(ctx, "tok")
			waiter <- err
		}()
		synctest.Wait()
		cancel()
		wantError(t, "Introspect with a canceled context", <-waiter, 503, "", context.Canceled)
		close(release)
		if err := <-leader; err != nil {
			t.Fatalf("leader's Introspect = %v; want a principal", err)
		}
	})
}

// TestLeaderContext: the request that makes the call going away does not
// cut the call short for the others waiting on it.
func TestLeaderContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		rt := transportFunc(func(r *http.Request) (*http.Response, error) {
			select {
			case <-release:
				return jsonResponse(`{"active":true,"sub":"a"}`), nil
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		})
		in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", Client: &http.Client{Transport: rt}})
		ctx, cancel := context.WithCancel(context.Background())
		leader := make(chan error, 1)
		go func() {
			_, err := in.Introspect(ctx, "tok")
			leader <- err
		}()
		synctest.Wait()
		waiter := make(chan error, 1)
		go func() {
			_, err := in.Introspect(context.Background(), "tok")
			waiter <- err
		}()
		synctest.Wait()
		cancel()
		synctest.Wait()
		close(release)
		if err := <-waiter; err != nil {
			t.Fatalf("waiter's Introspect = %v; want a principal", err)
		}
		<-leader
	})
}

func TestIntrospectMalformed(t *testing.T) {
	in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", MaxTokenLength: 8})
	for _, tok := range []string{"", "123456789"} {
		_, err := in.Introspect(context.Background(), tok)
		wantError(t, fmt.Sprintf("Introspect(%q)", tok), err, 401, auth.CodeInvalidToken, introspect.ErrMalformed)
	}
}

// TestUnavailable: when the endpoint cannot answer, the token is neither
// accepted nor refused: 503, not cached, and no detail for the client.
func TestUnavailable(t *testing.T) {
	const token = "secret-token-value"
	tests := []struct {
		name string
		rt   transportFunc
	}{
		{"down", func(*http.Request) (*http.Response, error) { return nil, errors.New("connection refused") }},
		{"500", status(http.StatusInternalServerError, `{"active":true}`)},
		{"503", status(http.StatusServiceUnavailable, "")},
		{"401 for the gateway's credentials", status(http.StatusUnauthorized, `{"error":"invalid_client"}`)},
		{"redirect", status(http.StatusFound, "")},
		{"garbage", status(http.StatusOK, "<html>oops "+token+"</html>")},
		{"truncated", status(http.StatusOK, `{"active":tr`)},
		{"null", status(http.StatusOK, `null`)},
		{"array", status(http.StatusOK, `[{"active":true}]`)},
		{"no active", status(http.StatusOK, `{"sub":"a"}`)},
		{"active a string", status(http.StatusOK, `{"active":"true"}`)},
		{"exp a string", status(http.StatusOK, `{"active":true,"exp":"tomorrow"}`)},
		{"too large", status(http.StatusOK, `{"active":true,"pad":"`+strings.Repeat("x", 1<<20)+`"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls int
			var fixed bool
			rt := transportFunc(func(r *http.Request) (*http.Response, error) {
				calls++
				if fixed {
					return jsonResponse(`{"active":true,"sub":"a"}`), nil
				}
				return tt.rt(r)
			})
			// No cooldown: this is about failures not being cached
			// (TestFailureCooldown covers the cooldown).
			in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", FailureCooldown: -1, Client: &http.Client{
				Transport:     rt,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}})
			for i := range 2 {
				_, err := in.Authenticate(bearer(token))
				wantError(t, "Authenticate", err, http.StatusServiceUnavailable, "", introspect.ErrUnavailable)
				var ae *auth.Error
				errors.As(err, &ae)
				if strings.Contains(err.Error(), token) || strings.Contains(ae.Description, "as.example") {
					t.Errorf("error %q leaks the token or the endpoint", err)
				}
				if calls != i+1 {
					t.Fatalf("%d calls after %d requests; want %d: a failure is not cached", calls, i+1, i+1)
				}
			}
			fixed = true
			if p, err := in.Authenticate(bearer(token)); err != nil || p.Subject != "a" {
				t.Errorf("Authenticate once the endpoint answers = %v, %v; want subject a", p, err)
			}
		})
	}
}

// TestUnavailableServer: a real server that is gone, and one that does not
// answer in time.
func TestUnavailableServer(t *testing.T) {
	e := newEndpoint(t)
	cfg := serve(t, e)
	cfg.Endpoint = "http://127.0.0.1:1/introspect" // nothing listens on port 1
	in := mustNew(t, cfg)
	_, err := in.Authenticate(bearer("abc"))
	wantError(t, "Authenticate with the server down", err, 503, "", introspect.ErrUnavailable)

	synctest.Test(t, func(t *testing.T) {
		rt := transportFunc(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", Timeout: 2 * time.Second, Client: &http.Client{Transport: rt}})
		start := time.Now()
		_, err := in.Authenticate(bearer("abc"))
		wantError(t, "Authenticate with a slow server", err, 503, "", context.DeadlineExceeded)
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("Authenticate took %v; want the 2s Timeout", d)
		}
	})
}

// TestCacheBounded: many tokens never hold more entries than configured,
// and refusals do not push active tokens out.
func TestCacheBounded(t *testing.T) {
	for _, size := range []int{10, 2000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			rt := transportFunc(func(r *http.Request) (*http.Response, error) {
				if strings.Contains(readAll(r), "good") {
					return jsonResponse(`{"active":true,"sub":"a"}`), nil
				}
				return jsonResponse(`{"active":false}`), nil
			})
			in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", CacheSize: size, NegativeCacheSize: size / 2,
				Client: &http.Client{Transport: rt}})
			for i := range 3 * size {
				_, _ = in.Authenticate(bearer(fmt.Sprint("good", i)))
				_, _ = in.Authenticate(bearer(fmt.Sprint("bad", i)))
			}
			pos, neg := in.CacheLen()
			if pos > size || neg > size/2 {
				t.Errorf("CacheLen() = %d, %d; want at most %d, %d", pos, neg, size, size/2)
			}
			if pos < size*9/10 {
				t.Errorf("CacheLen() = %d active; want near %d: refusals must not evict them", pos, size)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i"})
	if got, want := in.Challenge(), `Bearer realm="api"`; got != want {
		t.Errorf("Challenge() = %q; want %q", got, want)
	}
	in = mustNew(t, introspect.Config{Endpoint: "https://as.example/i", Realm: "payments"})
	if got, want := in.Challenge(), `Bearer realm="payments"`; got != want {
		t.Errorf("Challenge() = %q; want %q", got, want)
	}
}

func TestNewErrors(t *testing.T) {
	ok := "https://as.example/introspect"
	tests := []struct {
		name string
		cfg  introspect.Config
	}{
		{"no endpoint", introspect.Config{}},
		{"relative", introspect.Config{Endpoint: "/introspect"}},
		{"http", introspect.Config{Endpoint: "http://as.example/introspect"}},
		{"ftp", introspect.Config{Endpoint: "ftp://as.example/introspect", AllowHTTP: true}},
		{"credentials in URL", introspect.Config{Endpoint: "https://id:secret@as.example/introspect"}},
		{"fragment", introspect.Config{Endpoint: ok + "#x"}},
		{"bad URL", introspect.Config{Endpoint: "https://as.example/%zz"}},
		{"bearer and basic", introspect.Config{Endpoint: ok, BearerToken: "t", ClientID: "id"}},
		{"bearer and secret", introspect.Config{Endpoint: ok, BearerToken: "t", ClientSecret: "s"}},
		{"bad bearer", introspect.Config{Endpoint: ok, BearerToken: "a b"}},
		{"secret without id", introspect.Config{Endpoint: ok, ClientSecret: "s"}},
		{"negative Timeout", introspect.Config{Endpoint: ok, Timeout: -1}},
		{"negative MaxResponseBytes", introspect.Config{Endpoint: ok, MaxResponseBytes: -1}},
		{"negative MaxTokenLength", introspect.Config{Endpoint: ok, MaxTokenLength: -1}},
		{"negative CacheSize", introspect.Config{Endpoint: ok, CacheSize: -1}},
		{"negative NegativeCacheSize", introspect.Config{Endpoint: ok, NegativeCacheSize: -1}},
		{"negative MaxTTL", introspect.Config{Endpoint: ok, MaxTTL: -1}},
		{"negative NegativeTTL", introspect.Config{Endpoint: ok, NegativeTTL: -1}},
		{"negative MaxInflight", introspect.Config{Endpoint: ok, MaxInflight: -1}},
		{"realm with a quote", introspect.Config{Endpoint: ok, Realm: `a"b`}},
		{"realm with a newline", introspect.Config{Endpoint: ok, Realm: "a\nb"}},
	}
	for _, tt := range tests {
		if in, err := introspect.New(tt.cfg); err == nil {
			t.Errorf("New(%s) = %v, nil; want an error", tt.name, in)
		}
	}
	for _, cfg := range []introspect.Config{
		{Endpoint: ok},
		{Endpoint: "http://127.0.0.1:8080/introspect", AllowHTTP: true},
		{Endpoint: ok, ClientID: "id"},
		{Endpoint: ok, BearerToken: "t=="},
	} {
		if _, err := introspect.New(cfg); err != nil {
			t.Errorf("New(%+v) = %v; want no error", cfg, err)
		}
	}
}

// TestAuthenticateAllocs: a cached answer, active or refused, costs no
// allocation.
func TestAuthenticateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	e := newEndpoint(t)
	in := mustNew(t, inMemory(e))
	e.set("good-token-0123456789-0123456789-0123456789", `{"active":true,"sub":"a"}`)
	for _, tok := range []string{"good-token-0123456789-0123456789-0123456789", "bad-token"} {
		r := bearer(tok)
		_, _ = in.Authenticate(r)
		if n := testing.AllocsPerRun(100, func() { _, _ = in.Authenticate(r) }); n != 0 {
			t.Errorf("Authenticate(%s) cached: %v allocations; want 0", tok, n)
		}
	}
	if n := e.calls.Load(); n != 2 {
		t.Errorf("endpoint called %d times; want 2", n)
	}
}
