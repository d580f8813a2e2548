package apikey_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/vivremotion/gateway/auth/apikey"
)

// BenchmarkAuthenticate measures Authenticate of a valid key from
// `Authorization: Bearer`: parse, store lookup, SHA-256 of the secret,
// constant-time compare, state and expiry checks.
func BenchmarkAuthenticate(b *testing.B) {
	for _, bc := range []struct {
		name  string
		store func(b *testing.B) apikey.Store
	}{
		{"memory", func(*testing.B) apikey.Store { return apikey.NewMemoryStore() }},
		{"redis-cached", func(b *testing.B) apikey.Store { return redisStore(b, apikey.RedisConfig{CacheTTL: time.Minute}) }},
		{"redis-uncached", func(b *testing.B) apikey.Store { return redisStore(b, apikey.RedisConfig{}) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, a := setup(b, bc.store(b), apikey.Config{})
			key, _ := issue(b, m, apikey.Spec{Tenant: "acme", Plan: "gold"})
			r := bearer(key)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthenticateParallel measures the memory store's hit under
// contention for its lock.
func BenchmarkAuthenticateParallel(b *testing.B) {
	m, a := setup(b, nil, apikey.Config{})
	key, _ := issue(b, m, apikey.Spec{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := bearer(key)
		for pb.Next() {
			if _, err := a.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAuthenticateRefused measures the refusal of a wrong secret and
// of an unknown id: the same work.
func BenchmarkAuthenticateRefused(b *testing.B) {
	m, a := setup(b, nil, apikey.Config{})
	key, _ := issue(b, m, apikey.Spec{})
	for name, k := range map[string]string{
		"wrong-secret": flip(key, len(key)-1),
		"unknown-id":   "gw_aaaaaaaaaaaaaaaa_" + key[len(key)-32:],
	} {
		b.Run(name, func(b *testing.B) {
			r := bearer(k)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(r); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

func TestAuthenticateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	m, a := setup(t, nil, apikey.Config{Sources: []apikey.Source{apikey.Query("k"), apikey.Header("X-API-Key"), apikey.Bearer()}})
	key, _ := issue(t, m, apikey.Spec{Tenant: "acme"})
	hdr := bearer("")
	hdr.Header.Del("Authorization")
	hdr.Header.Set("X-API-Key", key)
	query := bearer("")
	query.URL.RawQuery = "a=1&k=" + key
	rotated, rec := issue(t, m, apikey.Spec{})
	if _, _, err := m.Rotate(ctx, rec.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*http.Request{
		"bearer": bearer(key), "header": hdr, "query": query,
		"rotated out, in its overlap": bearer(rotated),
		"wrong secret":                bearer(flip(key, len(key)-1)),
		"unknown id":                  bearer("gw_aaaaaaaaaaaaaaaa_" + key[len(key)-32:]),
		"no key":                      bearer("eyJhbGciOiJIUzI1NiJ9"),
	} {
		if n := testing.AllocsPerRun(100, func() { a.Authenticate(r) }); n != 0 {
			t.Errorf("Authenticate(%s) allocates %v times; want 0", name, n)
		}
	}
}

func TestRedisCachedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	m, a := setup(t, redisStore(t, apikey.RedisConfig{CacheTTL: time.Minute}), apikey.Config{})
	key, _ := issue(t, m, apikey.Spec{})
	r := bearer(key)
	a.Authenticate(r) // fills the cache
	if n := testing.AllocsPerRun(100, func() { a.Authenticate(r) }); n != 0 {
		t.Errorf("Authenticate from the cache allocates %v times; want 0", n)
	}
}
