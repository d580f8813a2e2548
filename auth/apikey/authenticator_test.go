package apikey_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/apikey"
)

func TestAuthenticatePrincipal(t *testing.T) {
	m, a := setup(t, nil, apikey.Config{})
	key, rec := issue(t, m, apikey.Spec{Tenant: "acme", Plan: "gold", Name: "ci", Scopes: []string{"read"}, Roles: []string{"admin"}})
	if !strings.HasPrefix(key, "gw_"+rec.ID+"_") || len(key) != 3+16+1+32 {
		t.Fatalf("Issue key = %q; want gw_%s_<32 characters>", key, rec.ID)
	}
	p := wantOK(t, a, bearer(key), rec)
	if !p.HasScope("read") || !p.HasRole("admin") || p.Claims["key_id"] != rec.ID {
		t.Errorf("Principal = %+v; want scope read, role admin, key_id %s", p, rec.ID)
	}
	if p2 := wantOK(t, a, bearer(key), rec); p2 != p {
		t.Errorf("second Authenticate returned another Principal; want the shared one")
	}
}

func TestKeysAreNotStored(t *testing.T) {
	m, _ := setup(t, nil, apikey.Config{})
	key, rec := issue(t, m, apikey.Spec{Tenant: "acme"})
	secret := key[strings.LastIndexByte(key, '_')+1:]
	for _, s := range []string{rec.ID, rec.Subscription, rec.Tenant, rec.Name, string(rec.Hash[:])} {
		if strings.Contains(s, secret) {
			t.Errorf("record field %q holds the secret", s)
		}
	}
	_, rec2 := issue(t, m, apikey.Spec{Tenant: "acme"})
	if rec2.ID == rec.ID || rec2.Hash == rec.Hash {
		t.Errorf("two issued keys share an id or a digest")
	}
}

func TestAuthenticateRefuses(t *testing.T) {
	m, a := setup(t, nil, apikey.Config{})
	key, rec := issue(t, m, apikey.Spec{Tenant: "acme"})
	other, _ := issue(t, m, apikey.Spec{Tenant: "acme"})
	secret := key[len(key)-32:]
	for _, tc := range []struct{ name, key string }{
		{"wrong secret, last character", flip(key, len(key)-1)},
		{"wrong secret, first character", flip(key, len(key)-32)},
		{"secret of another key", other[:len(other)-32] + secret},
		{"unknown id", "gw_" + strings.Repeat("a", 16) + "_" + secret},
		{"too short", key[:len(key)-1]},
		{"too long", key + "a"},
		{"upper-case secret", key[:len(key)-32] + strings.ToUpper(secret)},
		{"bad character", key[:len(key)-1] + "1"},
		{"bad separator", key[:3+16] + "-" + key[3+17:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRefused(t, a, bearer(tc.key), apikey.ErrInvalidKey, "invalid api key")
		})
	}
	wantOK(t, a, bearer(key), rec)
}

func TestAuthenticateNoCredentials(t *testing.T) {
	_, a := setup(t, nil, apikey.Config{})
	for _, tc := range []struct{ name, header, value string }{
		{"none", "", ""},
		{"a JWT in Bearer", "Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"},
		{"Basic", "Authorization", "Basic dXNlcjpwYXNz"},
		{"empty X-API-Key", "X-API-Key", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/?api_key=gw_x", nil)
			if tc.header != "" {
				r.Header.Set(tc.header, tc.value)
			}
			p, err := a.Authenticate(r)
			if p != nil || !errors.Is(err, auth.ErrNoCredentials) {
				t.Errorf("Authenticate = %v, %v; want nil, ErrNoCredentials", p, err)
			}
		})
	}
}

func TestSources(t *testing.T) {
	store := apikey.NewMemoryStore()
	m, _ := setup(t, store, apikey.Config{})
	key, rec := issue(t, m, apikey.Spec{Tenant: "acme"})
	req := func(mod func(*http.Request)) *http.Request {
		r := httptest.NewRequest("GET", "/v1?x=1", nil)
		mod(r)
		return r
	}
	all := []apikey.Source{apikey.Query("api_key"), apikey.Header("x-api-key"), apikey.Bearer()}
	for _, tc := range []struct {
		name    string
		sources []apikey.Source
		r       *http.Request
		ok      bool
	}{
		{"bearer", nil, bearer(key), true},
		{"bearer lower case scheme", nil, req(func(r *http.Request) { r.Header.Set("Authorization", "bearer "+key) }), true},
		{"default header", nil, req(func(r *http.Request) { r.Header.Set("X-API-Key", key) }), true},
		{"query not read by default", nil, httptest.NewRequest("GET", "/?api_key="+key, nil), false},
		{"query", all, httptest.NewRequest("GET", "/?a=b&api_key="+key+"&c", nil), true},
		{"header by its lower-case name", all, req(func(r *http.Request) { r.Header.Set("X-Api-Key", key) }), true},
		{"header only", []apikey.Source{apikey.Header("X-Key")}, bearer(key), false},
		{"header only, present", []apikey.Source{apikey.Header("X-Key")}, req(func(r *http.Request) { r.Header.Set("X-Key", key) }), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, a := setup(t, store, apikey.Config{Sources: tc.sources})
			p, err := a.Authenticate(tc.r)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, auth.ErrNoCredentials) {
				t.Fatalf("Authenticate = %v, %v; want ok %v (else ErrNoCredentials)", p, err, tc.ok)
			}
			if tc.ok && p.Subject != rec.Subscription {
				t.Errorf("Subject = %q; want %q", p.Subject, rec.Subscription)
			}
		})
	}
}

// TestSourceOrder: the first source listed that holds a key wins, even
// when a later one holds a good key.
func TestSourceOrder(t *testing.T) {
	m, a := setup(t, nil, apikey.Config{Sources: []apikey.Source{apikey.Header("X-API-Key"), apikey.Bearer()}})
	key, _ := issue(t, m, apikey.Spec{})
	r := bearer(key)
	r.Header.Set("X-API-Key", "gw_bad")
	wantRefused(t, a, r, apikey.ErrInvalidKey, "invalid api key")
}

func TestStateRefusals(t *testing.T) {
	m, a := setup(t, nil, apikey.Config{})
	key, rec := issue(t, m, apikey.Spec{NeedsApproval: true})
	wantRefused(t, a, bearer(key), apikey.ErrPending, "api key pending approval")
	// A wrong secret of a pending key says nothing of its state.
	wantRefused(t, a, bearer(flip(key, len(key)-1)), apikey.ErrInvalidKey, "invalid api key")
	steps := []struct {
		do   func() error
		err  error
		desc string
	}{
		{func() error { return m.Approve(ctx, rec.ID) }, nil, ""},
		{func() error { return m.Suspend(ctx, rec.ID) }, apikey.ErrSuspended, "api key suspended"},
		{func() error { return m.Approve(ctx, rec.ID) }, nil, ""},
		{func() error { return m.Revoke(ctx, rec.ID) }, apikey.ErrRevoked, "api key revoked"},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if s.err == nil {
			wantOK(t, a, bearer(key), rec)
		} else {
			wantRefused(t, a, bearer(key), s.err, s.desc)
		}
	}
	if err := m.Approve(ctx, rec.ID); !errors.Is(err, apikey.ErrTransition) {
		t.Errorf("Approve(revoked) = %v; want ErrTransition", err)
	}
	wantRefused(t, a, bearer(key), apikey.ErrRevoked, "api key revoked")
}

func TestNewRejectsBadConfig(t *testing.T) {
	s := apikey.NewMemoryStore()
	for _, c := range []apikey.Config{
		{},
		{Store: s, Prefix: "GW"},
		{Store: s, Prefix: "gw_"},
		{Store: s, Prefix: strings.Repeat("a", 17)},
		{Store: s, Sources: []apikey.Source{apikey.Header("")}},
		{Store: s, Sources: []apikey.Source{apikey.Query("a=b")}},
		{Store: s, Sources: []apikey.Source{{}}},
		{Store: s, Scheme: "Api Key"},
		{Store: s, Realm: `a"b`},
	} {
		if a, err := apikey.New(c); err == nil {
			t.Errorf("New(%+v) = %v, nil; want an error", c, a)
		}
	}
	if _, err := apikey.NewManager(nil, apikey.ManagerConfig{}); err == nil {
		t.Errorf("NewManager(nil) succeeded; want an error")
	}
	m, _ := setup(t, s, apikey.Config{})
	if _, _, err := m.Issue(ctx, apikey.Spec{TTL: -time.Second}); err == nil {
		t.Errorf("Issue(negative TTL) succeeded; want an error")
	}
}

// TestNewKeepsNoAlias: changing the caller's Sources after New changes
// nothing.
func TestNewKeepsNoAlias(t *testing.T) {
	srcs := []apikey.Source{apikey.Header("X-API-Key")}
	m, a := setup(t, nil, apikey.Config{Sources: srcs})
	key, rec := issue(t, m, apikey.Spec{})
	srcs[0] = apikey.Header("X-Other")
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", key)
	wantOK(t, a, r, rec)
	if srcs[0].Name != "X-Other" {
		t.Errorf("New changed the caller's Sources")
	}
}

func TestChallenge(t *testing.T) {
	for _, tc := range []struct {
		c    apikey.Config
		want string
	}{
		{apikey.Config{}, `Bearer realm="api"`},
		{apikey.Config{Scheme: "ApiKey", Realm: "gateway"}, `ApiKey realm="gateway"`},
	} {
		tc.c.Store = apikey.NewMemoryStore()
		a, err := apikey.New(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Challenge(); got != tc.want {
			t.Errorf("Challenge() = %q; want %q", got, tc.want)
		}
	}
}

func TestExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a := setup(t, nil, apikey.Config{})
		key, rec := issue(t, m, apikey.Spec{TTL: time.Hour})
		time.Sleep(time.Hour - time.Nanosecond)
		wantOK(t, a, bearer(key), rec)
		time.Sleep(time.Nanosecond)
		wantRefused(t, a, bearer(key), apikey.ErrExpired, "api key expired")
	})
}
