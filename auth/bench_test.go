package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/vivremotion/gateway/auth"
)

// BenchmarkMiddleware measures the middleware around a handler that does
// nothing, with an Authenticator that answers at once: the cost of the
// middleware itself, after one Authenticator that finds no credentials.
func BenchmarkMiddleware(b *testing.B) {
	fwdMW, _ := auth.NewMiddleware(auth.Middleware{
		Authenticators: []auth.Authenticator{none, static{p: alice}},
		Forward:        auth.ForwardHeaders{"X-User-Id": "sub", "X-Tenant": "tenant"},
	})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"allowed", auth.Require(none, static{p: alice})(nop)},
		{"allowed/forward2", fwdMW(nop)},
		{"refused", auth.Require(challenging{none, `Bearer realm="api"`})(nop)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			w, r := httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)
			for b.Loop() {
				clear(w.Header())
				bc.h.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkAuthorize measures a Rule that lets the request through:
// two scopes, a role and a policy.
func BenchmarkAuthorize(b *testing.B) {
	h := auth.Scopes("read:users", "write:users")(auth.Roles("viewer", "admin")(auth.Policy(func(*http.Request, *auth.Principal) error { return nil })(nop)))
	w, r := httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(auth.NewContext(r.Context(), alice))
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkKeys measures the rate limiter's key funcs on an authenticated
// request.
func BenchmarkKeys(b *testing.B) {
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(auth.NewContext(r.Context(), alice))
	buf := make([]byte, 0, 64)
	b.Run("KeySubject", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = auth.KeySubject(buf[:0], r)
		}
	})
	b.Run("PlanOf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = auth.PlanOf(r)
		}
	})
}

// BenchmarkBasic measures a Basic login found in the cache, from all CPUs
// at once (the cache is shared), and one that is not (the bcrypt
// comparison, at cost 10).
func BenchmarkBasic(b *testing.B) {
	b.Run("cached", func(b *testing.B) {
		ba := newBasic(b, bcrypt.MinCost)
		h := basicHeader("alice", "wonderland")
		ba.Authenticate(basicRequest(h))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := basicRequest(h)
			for pb.Next() {
				if _, err := ba.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("bcrypt10", func(b *testing.B) {
		ba, err := auth.NewBasic(auth.BasicConfig{CacheSize: -1, Users: map[string]auth.BasicUser{"alice": {Hash: hash(b, "wonderland", bcrypt.DefaultCost)}}})
		if err != nil {
			b.Fatal(err)
		}
		r := basicRequest(basicHeader("alice", "wonderland"))
		b.ReportAllocs()
		for b.Loop() {
			ba.Authenticate(r)
		}
	})
}
