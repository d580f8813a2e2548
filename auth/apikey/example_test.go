package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/apikey"
)

// Keys are read from `Authorization: Bearer` and X-API-Key by default.
func ExampleNew() {
	store := apikey.NewMemoryStore()
	keys, _ := apikey.NewManager(store, apikey.ManagerConfig{})
	authn, err := apikey.New(apikey.Config{Store: store})
	if err != nil {
		panic(err)
	}
	key, _, _ := keys.Issue(context.Background(), apikey.Spec{Tenant: "acme", Plan: "gold"})

	r := httptest.NewRequest("GET", "/v1/users", nil)
	r.Header.Set("Authorization", "Bearer "+key)
	p, err := authn.Authenticate(r)
	fmt.Println(p.Tenant, p.Plan, p.Method, err)
	fmt.Println(authn.Challenge())
	// Output:
	// acme gold apikey <nil>
	// Bearer realm="api"
}

// A query parameter, for clients that cannot set headers, after the
// header: URLs are logged, so query keys leak more easily.
func ExampleQuery() {
	store := apikey.NewMemoryStore()
	keys, _ := apikey.NewManager(store, apikey.ManagerConfig{})
	authn, _ := apikey.New(apikey.Config{
		Store:   store,
		Sources: []apikey.Source{apikey.Header("X-API-Key"), apikey.Query("api_key")},
		Scheme:  "ApiKey",
	})
	key, _, _ := keys.Issue(context.Background(), apikey.Spec{Tenant: "acme"})
	p, err := authn.Authenticate(httptest.NewRequest("GET", "/v1/users?api_key="+key, nil))
	fmt.Println(p.Tenant, err)
	_, err = authn.Authenticate(httptest.NewRequest("GET", "/v1/users", nil))
	fmt.Println(errors.Is(err, auth.ErrNoCredentials))
	// Output:
	// acme <nil>
	// true
}

// A subscription that needs approval: the key is refused until approved.
func ExampleNewManager() {
	ctx := context.Background()
	store := apikey.NewMemoryStore()
	keys, err := apikey.NewManager(store, apikey.ManagerConfig{Prefix: "acme"})
	if err != nil {
		panic(err)
	}
	authn, _ := apikey.New(apikey.Config{Store: store, Prefix: "acme"})
	key, rec, _ := keys.Issue(ctx, apikey.Spec{Tenant: "acme", Plan: "free", NeedsApproval: true})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", key)

	_, err = authn.Authenticate(r)
	fmt.Println(rec.State, err)
	keys.Approve(ctx, rec.ID)
	_, err = authn.Authenticate(r)
	fmt.Println(err)

	newKey, _, _ := keys.Rotate(ctx, rec.ID, time.Hour) // the old key works one more hour
	fmt.Println(len(newKey) == len(key))
	// Output:
	// pending auth: Unauthorized (invalid_token): api key pending approval: apikey: key pending approval
	// <nil>
	// true
}

func ExampleNewMemoryStore() {
	store := apikey.NewMemoryStore()
	_, err := store.Get(context.Background(), "aaaaaaaaaaaaaaaa")
	fmt.Println(errors.Is(err, apikey.ErrNotFound))
	// Output: true
}

// Records in Redis, shared by replicas, cached in each for 5 seconds: a
// key revoked elsewhere is refused here at most 5 seconds later.
func ExampleNewRedisStore() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := apikey.NewRedisStore(apikey.RedisConfig{
		Client:   client,
		Prefix:   "apikey:",
		CacheTTL: 5 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	_, err = apikey.New(apikey.Config{Store: store})
	fmt.Println(err)
	// Output: <nil>
}

// Only `Authorization: Bearer`, for clients that already send bearer
// tokens; a bearer token without the key prefix is left to the next
// Authenticator.
func ExampleBearer() {
	store := apikey.NewMemoryStore()
	authn, _ := apikey.New(apikey.Config{Store: store, Sources: []apikey.Source{apikey.Bearer()}})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig")
	_, err := authn.Authenticate(r)
	fmt.Println(errors.Is(err, auth.ErrNoCredentials))
	// Output: true
}

// Only a header of your choice; its name is matched case-insensitively.
func ExampleHeader() {
	store := apikey.NewMemoryStore()
	keys, _ := apikey.NewManager(store, apikey.ManagerConfig{})
	authn, _ := apikey.New(apikey.Config{Store: store, Sources: []apikey.Source{apikey.Header("x-acme-key")}})
	key, _, _ := keys.Issue(context.Background(), apikey.Spec{Plan: "free"})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Acme-Key", key)
	p, _ := authn.Authenticate(r)
	fmt.Println(p.Plan)
	// Output: free
}
