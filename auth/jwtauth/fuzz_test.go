package jwtauth_test

import (
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth/jwtauth"
)

// FuzzAuthenticate: no input panics, and none is accepted unless it is
// the valid token (give or take the spaces around it).
func FuzzAuthenticate(f *testing.F) {
	valid := sign(f, jwt.SigningMethodHS256, "k", validClaims(), hmacSecret)
	a := newAuth(f, jwtauth.Config{Keys: []jwtauth.Key{{ID: "k", Algorithm: "HS256", Material: hmacSecret}}, CacheSize: -1})
	f.Add(valid)
	f.Add(rfcA1Token)
	f.Add(b64([]byte(`{"alg":"none"}`)) + ".e30.")
	f.Add("..")
	f.Add("a.b.c.d")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := a.Authenticate(request(tok))
		if err == nil && strings.Trim(tok, " ") != valid {
			t.Errorf("Authenticate(%q) = %+v; want rejection", tok, p)
		}
	})
}
