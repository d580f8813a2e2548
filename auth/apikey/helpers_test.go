package apikey_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/apikey"
)

// setup returns a Manager and an Authenticator with cfg over store (a new
// MemoryStore when nil).
func setup(t testing.TB, store apikey.Store, cfg apikey.Config) (*apikey.Manager, *apikey.Authenticator) {
	t.Helper()
	if store == nil {
		store = apikey.NewMemoryStore()
	}
	m, err := apikey.NewManager(store, apikey.ManagerConfig{Prefix: cfg.Prefix})
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	cfg.Store = store
	a, err := apikey.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return m, a
}

// issue issues a key for spec and fails t on error.
func issue(t testing.TB, m *apikey.Manager, spec apikey.Spec) (string, *apikey.Record) {
	t.Helper()
	key, rec, err := m.Issue(context.Background(), spec)
	if err != nil {
		t.Fatalf("Issue(%+v): %v", spec, err)
	}
	return key, rec
}

// bearer returns a request with `Authorization: Bearer key`.
func bearer(key string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+key)
	return r
}

// wantRefused checks that a refuses r with an *auth.Error whose cause is
// cause and whose description is desc.
func wantRefused(t *testing.T, a *apikey.Authenticator, r *http.Request, cause error, desc string) {
	t.Helper()
	p, err := a.Authenticate(r)
	var ae *auth.Error
	if p != nil || !errors.As(err, &ae) || !errors.Is(err, cause) {
		t.Fatalf("Authenticate = %v, %v; want nil, *auth.Error wrapping %v", p, err, cause)
	}
	if ae.Code != auth.CodeInvalidToken || ae.Description != desc {
		t.Errorf("Authenticate error code, description = %q, %q; want %q, %q", ae.Code, ae.Description, auth.CodeInvalidToken, desc)
	}
}

// wantOK checks that a accepts r as the key of rec.
func wantOK(t *testing.T, a *apikey.Authenticator, r *http.Request, rec *apikey.Record) *auth.Principal {
	t.Helper()
	p, err := a.Authenticate(r)
	if err != nil {
		t.Fatalf("Authenticate = %v; want the principal of %s", err, rec.ID)
	}
	if p.Subject != rec.Subscription || p.Tenant != rec.Tenant || p.Plan != rec.Plan || p.Method != "apikey" {
		t.Fatalf("Authenticate = %+v; want subject %s tenant %s plan %s method apikey", p, rec.Subscription, rec.Tenant, rec.Plan)
	}
	return p
}

var ctx = context.Background()

// flip returns s with its i-th byte changed ('a', or 'b' for an 'a'), so
// that a key's secret is always wrong, never by chance the same.
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'a' {
		b[i] = 'b'
	} else {
		b[i] = 'a'
	}
	return string(b)
}
