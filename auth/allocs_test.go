package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/vivremotion/gateway/auth"
)

var nop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func checkAllocs(t *testing.T, name string, max float64, f func()) {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if n := testing.AllocsPerRun(200, f); n > max {
		t.Errorf("%s: %v allocs per run; want at most %v", name, n, max)
	}
}

// TestMiddlewareAllocs: an authenticated request costs the middleware
// two allocations, the context that carries the Principal and the
// request's shallow copy that carries the context (http.Request.WithContext).
func TestMiddlewareAllocs(t *testing.T) {
	h := auth.Require(none, static{p: alice})(nop)
	w, r := httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)
	checkAllocs(t, "Require", 2, func() { h.ServeHTTP(w, r) })
	// Two forwarded headers: one value slice each, as net/http's
	// Header.Set makes.
	fw, err := auth.NewMiddleware(auth.Middleware{Authenticators: []auth.Authenticator{static{p: alice}},
		Forward: auth.ForwardHeaders{"X-User-Id": "sub", "X-Tenant": "tenant"}})
	if err != nil {
		t.Fatal(err)
	}
	h = fw(nop)
	checkAllocs(t, "Require with 2 forwarded headers", 4, func() { h.ServeHTTP(w, r) })
	// Optional, anonymous: nothing at all.
	mw, _ := auth.NewMiddleware(auth.Middleware{Authenticators: []auth.Authenticator{none}, Optional: true})
	h = mw(nop)
	checkAllocs(t, "Optional anonymous", 0, func() { h.ServeHTTP(w, r) })
}

// TestAuthorizeAllocs: a request that is let through costs nothing.
func TestAuthorizeAllocs(t *testing.T) {
	h := auth.Scopes("read:users", "write:users")(auth.Roles("viewer", "admin")(auth.Policy(func(*http.Request, *auth.Principal) error { return nil })(nop)))
	w, r := httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(auth.NewContext(r.Context(), alice))
	checkAllocs(t, "Authorize", 0, func() { h.ServeHTTP(w, r) })
}

func TestKeysAllocs(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(auth.NewContext(r.Context(), alice))
	buf := make([]byte, 0, 64)
	checkAllocs(t, "KeySubject", 0, func() { buf = auth.KeySubject(buf[:0], r) })
	checkAllocs(t, "KeyTenant", 0, func() { buf = auth.KeyTenant(buf[:0], r) })
	checkAllocs(t, "PlanOf", 0, func() { _ = auth.PlanOf(r) })
}

// TestBasicCachedAllocs: a login found in the cache costs nothing.
func TestBasicCachedAllocs(t *testing.T) {
	b := newBasic(t, bcrypt.MinCost)
	r := basicRequest(basicHeader("alice", "wonderland"))
	if _, err := b.Authenticate(r); err != nil {
		t.Fatal(err)
	}
	checkAllocs(t, "Basic cached", 0, func() { b.Authenticate(r) })
}
