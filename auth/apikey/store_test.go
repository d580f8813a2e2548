package apikey_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/auth/apikey"
	"github.com/vivremotion/gateway/internal/redistest"
)

// redisStore returns a RedisStore with cfg on the shared test server,
// with a client of its own and a prefix no other test uses.
func redisStore(t testing.TB, cfg apikey.RedisConfig) *apikey.RedisStore {
	t.Helper()
	if cfg.Client == nil {
		c := redis.NewClient(&redis.Options{Addr: redistest.Addr(t), ContextTimeoutEnabled: true})
		t.Cleanup(func() { c.Close() })
		cfg.Client = c
	}
	if cfg.Prefix == "" {
		cfg.Prefix = redistest.Prefix(t)
	}
	s, err := apikey.NewRedisStore(cfg)
	if err != nil {
		t.Fatalf("NewRedisStore: %v", err)
	}
	return s
}

// stores runs f on each Store.
func stores(t *testing.T, f func(t *testing.T, s apikey.Store)) {
	t.Run("memory", func(t *testing.T) { f(t, apikey.NewMemoryStore()) })
	t.Run("redis", func(t *testing.T) { f(t, redisStore(t, apikey.RedisConfig{})) })
	t.Run("redis-cached", func(t *testing.T) { f(t, redisStore(t, apikey.RedisConfig{CacheTTL: time.Minute})) })
}

func record(id string) *apikey.Record {
	return &apikey.Record{
		ID: id, Subscription: id, Tenant: "acme", Plan: "gold", Name: "n",
		Scopes: []string{"a", "b"}, Roles: []string{"r"}, State: apikey.Approved,
		Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Hash: apikey.Hash{1, 2, 3},
	}
}

const (
	id1 = "aaaaaaaaaaaaaaaa"
	id2 = "bbbbbbbbbbbbbbbb"
)

func TestStoreRoundTrip(t *testing.T) {
	stores(t, func(t *testing.T, s apikey.Store) {
		if _, err := s.Get(ctx, id1); !errors.Is(err, apikey.ErrNotFound) {
			t.Fatalf("Get(absent) = %v; want ErrNotFound", err)
		}
		in := record(id1)
		if err := s.Create(ctx, in); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if in.Version != 0 {
			t.Errorf("Create changed the caller's record")
		}
		if err := s.Create(ctx, in); !errors.Is(err, apikey.ErrExists) {
			t.Errorf("Create again = %v; want ErrExists", err)
		}
		got, err := s.Get(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		want := in.Clone()
		want.Version = 1
		if !sameRecord(got, want) {
			t.Fatalf("Get = %+v; want %+v", got, want)
		}
		upd := got.Clone()
		upd.State, upd.Tenant, upd.Expires = apikey.Suspended, "other", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := s.Update(ctx, upd); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if err := s.Update(ctx, upd); !errors.Is(err, apikey.ErrConflict) {
			t.Errorf("Update at a stale version = %v; want ErrConflict", err)
		}
		got, _ = s.Get(ctx, id1)
		upd.Version = 2
		if !sameRecord(got, upd) {
			t.Errorf("Get after Update = %+v; want %+v", got, upd)
		}
		if l, _ := s.List(ctx, "acme"); len(l) != 0 {
			t.Errorf("List(acme) after the tenant changed = %d records; want 0", len(l))
		}
		s.Create(ctx, func() *apikey.Record { r := record(id2); r.Tenant = "other"; return r }())
		l, err := s.List(ctx, "other")
		ids := []string{}
		for _, r := range l {
			ids = append(ids, r.ID)
		}
		slices.Sort(ids)
		if err != nil || !slices.Equal(ids, []string{id1, id2}) {
			t.Errorf("List(other) = %v, %v; want %v", ids, err, []string{id1, id2})
		}
		if err := s.Delete(ctx, id1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, id1); !errors.Is(err, apikey.ErrNotFound) {
			t.Errorf("Get after Delete = %v; want ErrNotFound", err)
		}
		if err := s.Update(ctx, upd); !errors.Is(err, apikey.ErrNotFound) {
			t.Errorf("Update after Delete = %v; want ErrNotFound", err)
		}
		if l, _ := s.List(ctx, "other"); len(l) != 1 {
			t.Errorf("List(other) after Delete = %d records; want 1", len(l))
		}
		if err := s.Create(ctx, &apikey.Record{ID: "short", Subscription: "x", State: apikey.Approved}); err == nil {
			t.Errorf("Create(malformed id) succeeded")
		}
	})
}

func sameRecord(a, b *apikey.Record) bool {
	return a.ID == b.ID && a.Subscription == b.Subscription && a.Hash == b.Hash &&
		a.Tenant == b.Tenant && a.Plan == b.Plan && a.Name == b.Name &&
		slices.Equal(a.Scopes, b.Scopes) && slices.Equal(a.Roles, b.Roles) &&
		a.State == b.State && a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) &&
		a.ReplacedBy == b.ReplacedBy && a.Version == b.Version
}

// TestStoreConcurrentUpdates: of many updates at the same version, one
// wins; the Manager's retried changes all land.
func TestStoreConcurrentUpdates(t *testing.T) {
	stores(t, func(t *testing.T, s apikey.Store) {
		if err := s.Create(ctx, record(id1)); err != nil {
			t.Fatal(err)
		}
		base, _ := s.Get(ctx, id1)
		const n = 16
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for i := range n {
			wg.Go(func() {
				r := base.Clone()
				r.Name = string(rune('a' + i))
				err := s.Update(ctx, r)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, apikey.ErrConflict):
					lost++
				default:
					t.Errorf("Update: %v", err)
				}
			})
		}
		wg.Wait()
		if won != 1 || lost != n-1 {
			t.Fatalf("concurrent Updates at one version: %d won, %d lost; want 1, %d", won, lost, n-1)
		}

		// Read, change, compare-and-set, retried on conflict, from many
		// goroutines: every change lands once, so the version counts them.
		for g := range 4 {
			wg.Go(func() {
				for k := range 10 {
					for {
						cur, err := s.Get(ctx, id1)
						if err != nil {
							t.Error(err)
							return
						}
						r := cur.Clone()
						r.Name = fmt.Sprint(g, k)
						if err := s.Update(ctx, r); err == nil {
							break
						} else if !errors.Is(err, apikey.ErrConflict) {
							t.Error(err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		got, _ := s.Get(ctx, id1)
		if got.Version != 2+40 {
			t.Errorf("after 40 changes: version %d; want %d", got.Version, 2+40)
		}
	})
}

// TestRedisCacheRevocationDelay: a key revoked on another replica is
// accepted from the cache until CacheTTL, refused after; a revocation
// through the same store is seen at once.
func TestRedisCacheRevocationDelay(t *testing.T) {
	prefix := redistest.Prefix(t)
	replica1 := redisStore(t, apikey.RedisConfig{Prefix: prefix, CacheTTL: time.Hour})
	replica2 := redisStore(t, apikey.RedisConfig{Prefix: prefix})
	m1, a1 := setup(t, replica1, apikey.Config{})
	m2, _ := setup(t, replica2, apikey.Config{})

	key, rec := issue(t, m1, apikey.Spec{})
	wantOK(t, a1, bearer(key), rec) // now cached in replica1
	if err := m2.Revoke(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	wantOK(t, a1, bearer(key), rec) // the revocation delay: still cached

	key, rec = issue(t, m1, apikey.Spec{})
	wantOK(t, a1, bearer(key), rec)
	if err := m1.Revoke(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, a1, bearer(key), apikey.ErrRevoked, "api key revoked")
}

func TestNewRedisStoreRejectsBadConfig(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, cfg := range []apikey.RedisConfig{
		{},
		{Client: c, CacheTTL: -time.Second},
		{Client: c, CacheTTL: time.Second, CacheSize: -1},
	} {
		if _, err := apikey.NewRedisStore(cfg); err == nil {
			t.Errorf("NewRedisStore(%+v) succeeded; want an error", cfg)
		}
	}
}

// TestRedisDown: a store that cannot reach Redis fails the request with
// its error, not as an invalid key.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer c.Close()
	s := redisStore(t, apikey.RedisConfig{Client: c})
	m, a := setup(t, s, apikey.Config{})
	key, rec := issue(t, m, apikey.Spec{})
	wantOK(t, a, bearer(key), rec)
	srv.Stop()
	_, err := a.Authenticate(bearer(key))
	if err == nil || errors.Is(err, apikey.ErrInvalidKey) || !errors.Is(err, gateway.ErrAuthUnavailable) || gateway.StatusOf(nil, err) != 503 {
		t.Errorf("Authenticate with Redis down = %v; want the store's error, as ErrAuthUnavailable (503)", err)
	}
}

// TestRedisHoldsNoSecret: nothing under the store's prefix in Redis
// holds the key or its secret.
func TestRedisHoldsNoSecret(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: redistest.Addr(t), ContextTimeoutEnabled: true})
	defer c.Close()
	prefix := redistest.Prefix(t)
	m, _ := setup(t, redisStore(t, apikey.RedisConfig{Client: c, Prefix: prefix}), apikey.Config{})
	key, _ := issue(t, m, apikey.Spec{Tenant: "acme"})
	secret := key[len(key)-32:]
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("Keys = %v, %v; want a record and a tenant index", keys, err)
	}
	for _, k := range keys {
		dump, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dump, secret) {
			t.Errorf("Redis key %s holds the secret", k)
		}
	}
}

// TestConcurrentRotate: of rotations of one key racing on one store, one
// wins; the keys the others issued are deleted, not left working.
func TestConcurrentRotate(t *testing.T) {
	stores(t, func(t *testing.T, s apikey.Store) {
		m, a := setup(t, s, apikey.Config{})
		_, old := issue(t, m, apikey.Spec{Tenant: "rot"})
		var wg sync.WaitGroup
		keys := make([]string, 4)
		errs := make([]error, 4)
		for i := range keys {
			wg.Go(func() { keys[i], _, errs[i] = m.Rotate(ctx, old.ID, time.Hour) })
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
				if _, err := a.Authenticate(bearer(keys[i])); err != nil {
					t.Errorf("the winning rotation's key: %v", err)
				}
			case !errors.Is(err, apikey.ErrTransition) && !errors.Is(err, apikey.ErrConflict):
				t.Errorf("Rotate: %v; want ErrTransition or ErrConflict", err)
			}
		}
		l, _ := s.List(ctx, "rot")
		if won != 1 || len(l) != 2 {
			t.Errorf("%d rotations won, %d records left; want 1, 2", won, len(l))
		}
	})
}
