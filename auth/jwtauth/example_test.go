package jwtauth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth/jwtauth"
)

func ExampleNew() {
	secret := []byte("a secret of at least 32 bytes...")
	a, err := jwtauth.New(jwtauth.Config{
		Keys:     []jwtauth.Key{{ID: "2026-11", Algorithm: "HS256", Material: secret}},
		Issuer:   "https://login.example.com",
		Audience: []string{"orders-api"},
		Leeway:   30 * time.Second,
	})
	if err != nil {
		panic(err)
	}

	// A token as the issuer would make it.
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "https://login.example.com", "aud": "orders-api", "sub": "alice",
		"scope": "orders:read orders:write", "exp": time.Now().Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "2026-11"
	signed, _ := tok.SignedString(secret)

	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+signed)
	p, err := a.Authenticate(r)
	fmt.Println(p.Subject, p.Scopes, err)
	fmt.Println(a.Challenge())
	// Output:
	// alice [orders:read orders:write] <nil>
	// Bearer realm="api"
}

func ExampleParsePEM() {
	// The issuer's Ed25519 public key, as PEM.
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public()
	der, _ := x509.MarshalPKIXPublicKey(pub)
	data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	k, err := jwtauth.ParsePEM("signer-1", "EdDSA", data)
	fmt.Println(k.ID, k.Algorithm, err)

	// The same key may not be pinned to an algorithm it cannot verify.
	_, err = jwtauth.ParsePEM("signer-1", "RS256", data)
	fmt.Println(err)
	// Output:
	// signer-1 EdDSA <nil>
	// jwtauth: algorithm not allowed for key: RS256 needs an *rsa.PublicKey, key "signer-1" has ed25519.PublicKey
}

func ExampleParseJWK() {
	// The P-256 key of RFC 7515 Appendix A.3, without "alg": the default
	// given pins it.
	k, err := jwtauth.ParseJWK([]byte(`{"kty":"EC","crv":"P-256",
		"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
		"y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`), "ES256")
	fmt.Println(k.Algorithm, err)
	// Output:
	// ES256 <nil>
}

func ExampleParseJWKSet() {
	// An encryption key and an HMAC key: only the second verifies
	// signatures.
	keys, err := jwtauth.ParseJWKSet([]byte(`{"keys":[
		{"kty":"oct","alg":"A128KW","k":"GawgguFyGrWKav7AX4VKUg"},
		{"kty":"oct","alg":"HS256","kid":"mac-1","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}`))
	for _, k := range keys {
		fmt.Println(k.ID, k.Algorithm)
	}
	fmt.Println(err)
	// Output:
	// mac-1 HS256
	// <nil>
}

func ExampleNewJWKS() {
	// An identity provider's JWKS endpoint.
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	set, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k1", "use": "sig",
		"x": b64(pub),
	}}})
	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(set)
	}))
	defer idp.Close()

	jwks, err := jwtauth.NewJWKS(context.Background(), jwtauth.JWKSConfig{
		URL:    idp.URL + "/.well-known/jwks.json", // https is required
		Client: idp.Client(),                       // trusts the test server's certificate
	})
	if err != nil {
		panic(err)
	}
	defer jwks.Close() // stops the refreshing goroutine

	a, err := jwtauth.New(jwtauth.Config{JWKS: jwks, Issuer: "https://login.example.com"})
	fmt.Println(len(jwks.Keys()), a != nil, err)
	// Output:
	// 1 true <nil>
}
