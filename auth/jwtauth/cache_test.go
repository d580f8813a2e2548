package jwtauth_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth/jwtauth"
)

// TestCacheHit: a repeated token gets the same Principal, without being
// verified again.
func TestCacheHit(t *testing.T) {
	a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}}})
	tok := sign(t, jwt.SigningMethodHS256, "", validClaims(), hmacSecret)
	p1, err1 := a.Authenticate(request(tok))
	p2, err2 := a.Authenticate(request(tok))
	if err1 != nil || err2 != nil || p1 != p2 {
		t.Errorf("Authenticate twice = %p, %v and %p, %v; want the same cached Principal", p1, err1, p2, err2)
	}
	off := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}}, CacheSize: -1})
	q1, _ := off.Authenticate(request(tok))
	q2, _ := off.Authenticate(request(tok))
	if q1 == q2 {
		t.Errorf("CacheSize -1: Authenticate twice gave the same Principal; want the cache off")
	}
}

// TestCacheExpiry: a cached token is refused once it expires, leeway
// included, on the fake clock.
func TestCacheExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}}, Leeway: 5 * time.Second})
		c := validClaims()
		c["exp"] = time.Now().Add(10 * time.Second).Unix()
		tok := sign(t, jwt.SigningMethodHS256, "", c, hmacSecret)
		if _, err := a.Authenticate(request(tok)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(14 * time.Second)
		if _, err := a.Authenticate(request(tok)); err != nil {
			t.Errorf("Authenticate at exp+4s, leeway 5s = %v; want ok", err)
		}
		time.Sleep(time.Second)
		if _, err := a.Authenticate(request(tok)); err == nil {
			t.Errorf("Authenticate at exp+leeway = nil error; want expired")
		}
	})
}

// TestCacheBounded: the cache holds at most about CacheSize tokens (the
// bound is per shard, rounded up), and every token still authenticates.
func TestCacheBounded(t *testing.T) {
	a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}}, CacheSize: 32})
	for i := range 500 {
		c := validClaims()
		c["jti"] = i
		if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodHS256, "", c, hmacSecret))); err != nil {
			t.Fatal(err)
		}
	}
	if n := jwtauth.CacheLen(a); n > 32 {
		t.Errorf("cache holds %d tokens; want at most 32", n)
	}
}

// TestAuthenticateCachedAllocs: a repeated valid token costs no allocation.
func TestAuthenticateCachedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{ID: "k", Algorithm: "RS256", Material: &rsaKey().PublicKey}}})
	r := request(sign(t, jwt.SigningMethodRS256, "k", validClaims(), rsaKey()))
	if _, err := a.Authenticate(r); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := a.Authenticate(r); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Authenticate(cached token) allocates %v times; want 0", n)
	}
}

func TestEqualConstantTime(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"0123456789abcdefX", "0123456789abcdefX", true},
		{"0123456789abcdefX", "0123456789abcdefY", false},
		{"0123456789abcdefX", "1123456789abcdefX", false},
		{"0123456789abcdefX", "0123456789abcdeFX", false},
	} {
		if got := jwtauth.EqualConstantTime(tc.a, tc.b); got != tc.want {
			t.Errorf("equalConstantTime(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestCacheSizeExact: the cache never holds more than CacheSize tokens.
func TestCacheSizeExact(t *testing.T) {
	for _, size := range []int{1, 5, 17, 40} {
		a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}}, CacheSize: size})
		for i := range 200 {
			c := validClaims()
			c["jti"] = i
			if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodHS256, "", c, hmacSecret))); err != nil {
				t.Fatal(err)
			}
		}
		if n := jwtauth.CacheLen(a); n > size || n == 0 {
			t.Errorf("CacheSize %d: cache holds %d tokens; want 1 to %d", size, n, size)
		}
	}
}
