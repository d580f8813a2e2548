package jwtauth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/jwtauth"
)

// Test keys, made once: RSA key generation is slow.
var (
	rsaKey  = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	rsaKey2 = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	ecKey   = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	edKey   = sync.OnceValue(func() ed25519.PrivateKey {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return priv
	})
	hmacSecret = []byte("0123456789abcdef0123456789abcdef")
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// sign makes a token with header fields and claims, signed by priv.
func sign(t testing.TB, m jwt.SigningMethod, kid string, claims jwt.MapClaims, priv any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validClaims are claims that pass the test configuration's checks now.
func validClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "https://issuer.example",
		"aud": "api",
		"sub": "alice",
		"exp": now.Add(time.Hour).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"iat": now.Add(-time.Minute).Unix(),
	}
}

// request returns a GET with Authorization: Bearer tok.
func request(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// b64 is base64url without padding.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rawToken assembles a token from a header and claims as JSON, signed
// with HS256 by secret (or with the signature given, when sig is not nil).
func rawToken(t testing.TB, header string, claims jwt.MapClaims, secret []byte) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64([]byte(header)) + "." + b64(payload)
	sig, err := jwt.SigningMethodHS256.Sign(input, secret)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// rsaJWK is the public JWK of priv.
func rsaJWK(kid string, priv *rsa.PrivateKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(priv.N.Bytes()), "e": b64(big.NewInt(int64(priv.E)).Bytes()),
	}
}

// wantCode checks that err is an *auth.Error with code and, when cause is
// not nil, that it wraps cause.
func wantCode(t *testing.T, err error, code string, cause error) {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v; want an *auth.Error", err)
	}
	if ae.Code != code {
		t.Errorf("Code = %q; want %q (%v)", ae.Code, code, err)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("error = %v; want it to wrap %v", err, cause)
	}
}

// newAuth builds an Authenticator or fails the test.
func newAuth(t testing.TB, cfg jwtauth.Config) *jwtauth.Authenticator {
	t.Helper()
	a, err := jwtauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
