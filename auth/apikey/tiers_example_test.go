package apikey_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/apikey"
	"github.com/vivremotion/gateway/ratelimit"
)

// Example_tiers puts API keys in front of a rate limit chosen by each
// key's plan: the free plan may make 2 requests a minute, the pro plan 4,
// each subscription on its own allowance, and a request without a key is
// refused before it is counted.
func Example_tiers() {
	store := apikey.NewMemoryStore()
	keys, err := apikey.NewManager(store, apikey.ManagerConfig{})
	if err != nil {
		panic(err)
	}
	authn, err := apikey.New(apikey.Config{Store: store})
	if err != nil {
		panic(err)
	}
	limit := func(n int64) ratelimit.Limiter {
		l, err := ratelimit.NewGCRA(ratelimit.PerMinute(n), ratelimit.Options{})
		if err != nil {
			panic(err)
		}
		return l
	}
	limited, err := ratelimit.NewMiddleware(ratelimit.Middleware{
		Tiers: &ratelimit.Tiers{
			Of:      auth.PlanOf,
			Limits:  map[string]ratelimit.Limiter{"free": limit(2), "pro": limit(4)},
			Default: limit(1),
		},
		Key:          auth.KeySubject,
		ErrorHandler: gateway.WriteError,
	})
	if err != nil {
		panic(err)
	}
	api := gateway.Chain(auth.Require(authn), limited)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello ", auth.PrincipalFrom(r.Context()).Tenant)
	}))

	free, _, _ := keys.Issue(context.Background(), apikey.Spec{Tenant: "acme", Plan: "free"})
	pro, _, _ := keys.Issue(context.Background(), apikey.Spec{Tenant: "globex", Plan: "pro"})
	for _, c := range []struct{ name, key string }{{"free", free}, {"pro", pro}, {"none", ""}} {
		fmt.Print(c.name, ":")
		for range 5 {
			r := httptest.NewRequest("GET", "/", nil)
			if c.key != "" {
				r.Header.Set("Authorization", "Bearer "+c.key)
			}
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			fmt.Print(" ", w.Code)
		}
		fmt.Println()
	}
	// Output:
	// free: 200 200 429 429 429
	// pro: 200 200 200 200 429
	// none: 401 401 401 401 401
}
