package jwtauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/jwtauth"
)

// attackAuth verifies RS256 tokens of kid "rsa" and HS256 tokens of kid
// "hmac", for issuer https://issuer.example and audience api.
func attackAuth(t *testing.T, leeway time.Duration) *jwtauth.Authenticator {
	t.Helper()
	return newAuth(t, jwtauth.Config{
		Keys: []jwtauth.Key{
			{ID: "rsa", Algorithm: "RS256", Material: &rsaKey().PublicKey},
			{ID: "hmac", Algorithm: "HS256", Material: hmacSecret},
		},
		Issuer:   "https://issuer.example",
		Audience: []string{"other", "api"},
		Leeway:   leeway,
	})
}

func TestAttacks(t *testing.T) {
	a := attackAuth(t, 0)
	valid := sign(t, jwt.SigningMethodRS256, "rsa", validClaims(), rsaKey())
	if _, err := a.Authenticate(request(valid)); err != nil {
		t.Fatalf("Authenticate(valid) = %v", err)
	}
	// The RSA public key as PEM bytes, as an attacker who read the JWKS
	// would use it for an HMAC secret.
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&rsaKey().PublicKey))})
	parts := strings.Split(valid, ".")
	with := func(f func(jwt.MapClaims)) jwt.MapClaims {
		c := validClaims()
		f(c)
		return c
	}
	for _, tc := range []struct {
		name  string
		token string
		desc  string
		cause error
	}{
		{name: "alg none", token: b64([]byte(`{"alg":"none","kid":"rsa"}`)) + "." + parts[1] + ".", cause: jwtauth.ErrAlgNone},
		{name: "alg None", token: b64([]byte(`{"alg":"None","kid":"rsa"}`)) + "." + parts[1] + ".", cause: jwtauth.ErrAlgNone},
		{name: "alg missing", token: b64([]byte(`{"kid":"rsa"}`)) + "." + parts[1] + "." + parts[2], cause: jwtauth.ErrAlgNone},
		{name: "HS256 signed with the RSA public key", token: rawToken(t, `{"alg":"HS256","kid":"rsa"}`, validClaims(), pubPEM), cause: jwtauth.ErrAlgMismatch},
		{name: "HS256 signed with the RSA modulus", token: rawToken(t, `{"alg":"HS256","kid":"rsa"}`, validClaims(), rsaKey().N.Bytes()), cause: jwtauth.ErrAlgMismatch},
		{name: "RS256 header on the HMAC key", token: b64([]byte(`{"alg":"RS256","kid":"hmac"}`)) + "." + parts[1] + "." + parts[2], cause: jwtauth.ErrAlgMismatch},
		{name: "kid not in set", token: sign(t, jwt.SigningMethodRS256, "nope", validClaims(), rsaKey()), cause: jwtauth.ErrUnknownKey},
		{name: "no kid, two keys", token: sign(t, jwt.SigningMethodRS256, "", validClaims(), rsaKey()), cause: jwtauth.ErrUnknownKey},
		{name: "crit unknown", token: rawToken(t, `{"alg":"HS256","kid":"hmac","crit":["exp"],"exp":1}`, validClaims(), hmacSecret), cause: jwtauth.ErrCritical},
		{name: "crit b64", token: rawToken(t, `{"alg":"HS256","kid":"hmac","b64":false,"crit":["b64"]}`, validClaims(), hmacSecret), cause: jwtauth.ErrCritical},
		{name: "crit empty", token: rawToken(t, `{"alg":"HS256","kid":"hmac","crit":[]}`, validClaims(), hmacSecret), cause: jwtauth.ErrCritical},
		{name: "expired", token: sign(t, jwt.SigningMethodRS256, "rsa", with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Second).Unix() }), rsaKey()), desc: "token expired", cause: jwt.ErrTokenExpired},
		{name: "no exp", token: sign(t, jwt.SigningMethodRS256, "rsa", with(func(c jwt.MapClaims) { delete(c, "exp") }), rsaKey()), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "not yet valid", token: sign(t, jwt.SigningMethodRS256, "rsa", with(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(10 * time.Second).Unix() }), rsaKey()), desc: "token not yet valid", cause: jwt.ErrTokenNotValidYet},
		{name: "wrong issuer", token: sign(t, jwt.SigningMethodRS256, "rsa", with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), rsaKey()), cause: jwt.ErrTokenInvalidIssuer},
		{name: "wrong audience", token: sign(t, jwt.SigningMethodRS256, "rsa", with(func(c jwt.MapClaims) { c["aud"] = []string{"x", "y"} }), rsaKey()), cause: jwt.ErrTokenInvalidAudience},
		{name: "no audience", token: sign(t, jwt.SigningMethodRS256, "rsa", with(func(c jwt.MapClaims) { delete(c, "aud") }), rsaKey()), cause: jwt.ErrTokenRequiredClaimMissing},
		{name: "oversize", token: sign(t, jwt.SigningMethodRS256, "rsa", with(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 9000) }), rsaKey()), desc: "token too large", cause: jwtauth.ErrTooLarge},
		{name: "tampered payload", token: parts[0] + "." + b64([]byte(`{"iss":"https://issuer.example","aud":"api","sub":"admin","exp":9999999999}`)) + "." + parts[2], cause: jwt.ErrTokenSignatureInvalid},
		{name: "tampered signature", token: parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), cause: jwt.ErrTokenSignatureInvalid},
		{name: "signed by another key", token: sign(t, jwt.SigningMethodRS256, "rsa", validClaims(), rsaKey2()), cause: jwt.ErrTokenSignatureInvalid},
		{name: "two parts", token: parts[0] + "." + parts[1], desc: "malformed token", cause: jwtauth.ErrMalformed},
		{name: "four parts", token: valid + ".x", desc: "malformed token", cause: jwtauth.ErrMalformed},
		{name: "header not base64", token: "!!." + parts[1] + "." + parts[2], desc: "malformed token", cause: jwtauth.ErrMalformed},
		{name: "header not an object", token: b64([]byte(`["alg"]`)) + "." + parts[1] + "." + parts[2], desc: "malformed token", cause: jwtauth.ErrMalformed},
		{name: "header padded", token: parts[0] + "=." + parts[1] + "." + parts[2], desc: "malformed token", cause: jwtauth.ErrMalformed},
		{name: "ALG in capitals", token: b64([]byte(`{"ALG":"RS256","kid":"rsa"}`)) + "." + parts[1] + "." + parts[2], cause: jwtauth.ErrAlgNone},
		{name: "payload not JSON", token: rawTokenRaw(t, `{"alg":"HS256","kid":"hmac"}`, "not json"), desc: "malformed token", cause: jwt.ErrTokenMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.Authenticate(request(tc.token))
			if err == nil {
				t.Fatalf("Authenticate(%s) = %+v; want rejection", tc.name, p)
			}
			wantCode(t, err, auth.CodeInvalidToken, tc.cause)
			var ae *auth.Error
			errors.As(err, &ae)
			desc := tc.desc
			if desc == "" {
				desc = "invalid token"
			}
			if ae.Description != desc {
				t.Errorf("Description = %q; want %q", ae.Description, desc)
			}
		})
	}
}

// rawTokenRaw signs an arbitrary payload with HS256 and hmacSecret.
func rawTokenRaw(t *testing.T, header, payload string) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	sig := must(jwt.SigningMethodHS256.Sign(input, hmacSecret))
	return input + "." + b64(sig)
}

func TestLeeway(t *testing.T) {
	now := time.Now()
	tokens := map[string]string{
		"expired 10s ago":     sign(t, jwt.SigningMethodRS256, "rsa", withClaim("exp", now.Add(-10*time.Second).Unix()), rsaKey()),
		"valid in 10s":        sign(t, jwt.SigningMethodRS256, "rsa", withClaim("nbf", now.Add(10*time.Second).Unix()), rsaKey()),
		"expired 2 min ago":   sign(t, jwt.SigningMethodRS256, "rsa", withClaim("exp", now.Add(-2*time.Minute).Unix()), rsaKey()),
		"valid in 2 min":      sign(t, jwt.SigningMethodRS256, "rsa", withClaim("nbf", now.Add(2*time.Minute).Unix()), rsaKey()),
		"issued in 2 min":     sign(t, jwt.SigningMethodRS256, "rsa", withClaim("iat", now.Add(2*time.Minute).Unix()), rsaKey()),
		"issued in 10s":       sign(t, jwt.SigningMethodRS256, "rsa", withClaim("iat", now.Add(10*time.Second).Unix()), rsaKey()),
		"iat not a number":    sign(t, jwt.SigningMethodRS256, "rsa", withClaim("iat", "yesterday"), rsaKey()),
		"exp a string number": sign(t, jwt.SigningMethodRS256, "rsa", withClaim("exp", "9999999999"), rsaKey()),
	}
	for _, tc := range []struct {
		token  string
		leeway time.Duration
		iat    bool
		ok     bool
	}{
		{"expired 10s ago", 0, false, false},
		{"expired 10s ago", time.Minute, false, true},
		{"expired 2 min ago", time.Minute, false, false},
		{"valid in 10s", 0, false, false},
		{"valid in 10s", time.Minute, false, true},
		{"valid in 2 min", time.Minute, false, false},
		{"issued in 2 min", time.Minute, false, true},
		{"issued in 2 min", time.Minute, true, false},
		{"issued in 10s", time.Minute, true, true},
		{"iat not a number", 0, false, false},
		{"exp a string number", 0, false, false},
	} {
		a := newAuth(t, jwtauth.Config{
			Keys:          []jwtauth.Key{{ID: "rsa", Algorithm: "RS256", Material: &rsaKey().PublicKey}},
			Leeway:        tc.leeway,
			CheckIssuedAt: tc.iat,
			CacheSize:     -1,
		})
		_, err := a.Authenticate(request(tokens[tc.token]))
		if (err == nil) != tc.ok {
			t.Errorf("Authenticate(%s, Leeway %v, CheckIssuedAt %v) = %v; want ok %v", tc.token, tc.leeway, tc.iat, err, tc.ok)
		}
	}
}

func withClaim(name string, v any) jwt.MapClaims {
	c := validClaims()
	c[name] = v
	return c
}

func TestRequiredClaims(t *testing.T) {
	a := newAuth(t, jwtauth.Config{
		Keys:           []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}},
		RequiredClaims: []string{"sub", "jti"},
	})
	c := validClaims()
	if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodHS256, "", c, hmacSecret))); !errors.Is(err, jwtauth.ErrMissingClaim) {
		t.Errorf("Authenticate(no jti) = %v; want ErrMissingClaim", err)
	}
	c["jti"] = "1"
	if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodHS256, "", c, hmacSecret))); err != nil {
		t.Errorf("Authenticate(with jti) = %v; want ok", err)
	}
}

// TestSingleKeyNoKID: a token without kid is checked by the only key of a
// set, and by no key of a set of two (see TestAttacks).
func TestSingleKeyNoKID(t *testing.T) {
	a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{ID: "k1", Algorithm: "ES256", Material: &ecKey().PublicKey}}})
	if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodES256, "", validClaims(), ecKey()))); err != nil {
		t.Errorf("Authenticate(no kid, one key) = %v; want ok", err)
	}
	if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodES256, "k2", validClaims(), ecKey()))); !errors.Is(err, jwtauth.ErrUnknownKey) {
		t.Errorf("Authenticate(kid k2, one key k1) = %v; want ErrUnknownKey", err)
	}
}

// TestSingleKeyNoID: the only key, without an id, verifies tokens whatever
// their kid; with an id, only tokens of that kid or none.
func TestSingleKeyNoID(t *testing.T) {
	a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "ES256", Material: &ecKey().PublicKey}}})
	for _, kid := range []string{"", "any"} {
		if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodES256, kid, validClaims(), ecKey()))); err != nil {
			t.Errorf("Authenticate(kid %q, one key without id) = %v; want ok", kid, err)
		}
	}
	if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodES256, "any", validClaims(), must(ecdsaKey())))); err == nil {
		t.Errorf("Authenticate(kid any, another key's signature) = nil error; want rejection")
	}
}

func TestBearerHeader(t *testing.T) {
	a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}}})
	tok := sign(t, jwt.SigningMethodHS256, "", validClaims(), hmacSecret)
	for _, tc := range []struct {
		name   string
		values []string
		code   string // "" ok, "none" ErrNoCredentials
	}{
		{"absent", nil, "none"},
		{"basic", []string{"Basic dXNlcjpwYXNz"}, "none"},
		{"bearerx", []string{"Bearerx " + tok}, "none"},
		{"lower case scheme", []string{"bearer " + tok}, ""},
		{"extra spaces", []string{"Bearer   " + tok + " "}, ""},
		{"empty token", []string{"Bearer "}, auth.CodeInvalidRequest},
		{"scheme alone", []string{"Bearer"}, auth.CodeInvalidRequest},
		{"two headers", []string{"Bearer " + tok, "Bearer " + tok}, auth.CodeInvalidRequest},
		{"garbage token", []string{"Bearer a b"}, auth.CodeInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request("")
			r.Header["Authorization"] = tc.values
			_, err := a.Authenticate(r)
			switch tc.code {
			case "":
				if err != nil {
					t.Errorf("Authenticate(%q) = %v; want ok", tc.values, err)
				}
			case "none":
				if !errors.Is(err, auth.ErrNoCredentials) {
					t.Errorf("Authenticate(%q) = %v; want ErrNoCredentials", tc.values, err)
				}
			default:
				wantCode(t, err, tc.code, nil)
			}
		})
	}
}

// TestErrorsCarryNoDetail: what the client is told names no key, claim or
// library message.
func TestErrorsCarryNoDetail(t *testing.T) {
	a := attackAuth(t, 0)
	tok := sign(t, jwt.SigningMethodRS256, "secret-kid-name", validClaims(), rsaKey())
	_, err := a.Authenticate(request(tok))
	var ae *auth.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v; want *auth.Error", err)
	}
	if strings.Contains(ae.Description, "secret-kid-name") || ae.Description != "invalid token" {
		t.Errorf("Description = %q; want %q", ae.Description, "invalid token")
	}
	if !errors.Is(err, jwtauth.ErrUnknownKey) {
		t.Errorf("error = %v; want the cause kept in Err", err)
	}
}

func TestChallenge(t *testing.T) {
	for _, tc := range []struct{ realm, want string }{
		{"", `Bearer realm="api"`},
		{"gateway", `Bearer realm="gateway"`},
	} {
		a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}}, Realm: tc.realm})
		if got := a.Challenge(); got != tc.want {
			t.Errorf("Challenge() with Realm %q = %s; want %s", tc.realm, got, tc.want)
		}
	}
}

func ecdsaKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
