package jwtauth_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth/jwtauth"
)

// BenchmarkAuthenticateCached: a token seen before, from many goroutines.
func BenchmarkAuthenticateCached(b *testing.B) {
	a := newAuth(b, jwtauth.Config{Keys: []jwtauth.Key{{ID: "k", Algorithm: "RS256", Material: &rsaKey().PublicKey}}})
	const n = 1024 // distinct tokens, spread over the shards
	reqs := make([]*http.Request, n)
	for i := range reqs {
		c := validClaims()
		c["jti"] = strconv.Itoa(i)
		reqs[i] = request(sign(b, jwt.SigningMethodRS256, "k", c, rsaKey()))
		if _, err := a.Authenticate(reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := a.Authenticate(reqs[i%n]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkAuthenticateCachedSerial: one token seen before, one goroutine.
func BenchmarkAuthenticateCachedSerial(b *testing.B) {
	a := newAuth(b, jwtauth.Config{Keys: []jwtauth.Key{{ID: "k", Algorithm: "RS256", Material: &rsaKey().PublicKey}}})
	r := request(sign(b, jwt.SigningMethodRS256, "k", validClaims(), rsaKey()))
	if _, err := a.Authenticate(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateCold: full verification, the cache off.
func BenchmarkAuthenticateCold(b *testing.B) {
	for _, tc := range []struct {
		alg    string
		method jwt.SigningMethod
		mat    any
		priv   any
	}{
		{"RS256", jwt.SigningMethodRS256, &rsaKey().PublicKey, rsaKey()},
		{"ES256", jwt.SigningMethodES256, &ecKey().PublicKey, ecKey()},
		{"EdDSA", jwt.SigningMethodEdDSA, edKey().Public(), edKey()},
		{"HS256", jwt.SigningMethodHS256, hmacSecret, hmacSecret},
	} {
		b.Run(tc.alg, func(b *testing.B) {
			a := newAuth(b, jwtauth.Config{Keys: []jwtauth.Key{{ID: "k", Algorithm: tc.alg, Material: tc.mat}}, CacheSize: -1})
			r := request(sign(b, tc.method, "k", validClaims(), tc.priv))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
