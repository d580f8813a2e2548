package jwtauth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth/jwtauth"
)

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePEM(t *testing.T) {
	cert := func(pub, priv any) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		return pemOf("CERTIFICATE", must(x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)))
	}
	for _, tc := range []struct {
		name   string
		alg    string
		data   []byte
		method jwt.SigningMethod
		priv   any
	}{
		{"RSA PKIX", "RS256", pemOf("PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&rsaKey().PublicKey))), jwt.SigningMethodRS256, rsaKey()},
		{"RSA PKCS1", "PS256", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey().PublicKey)), jwt.SigningMethodPS256, rsaKey()},
		{"ECDSA PKIX", "ES256", pemOf("PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&ecKey().PublicKey))), jwt.SigningMethodES256, ecKey()},
		{"Ed25519 PKIX", "EdDSA", pemOf("PUBLIC KEY", must(x509.MarshalPKIXPublicKey(edKey().Public()))), jwt.SigningMethodEdDSA, edKey()},
		{"ECDSA certificate", "ES256", cert(&ecKey().PublicKey, ecKey()), jwt.SigningMethodES256, ecKey()},
		{"Ed25519 certificate", "EdDSA", cert(edKey().Public(), edKey()), jwt.SigningMethodEdDSA, edKey()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := jwtauth.ParsePEM("k", tc.alg, tc.data)
			if err != nil {
				t.Fatalf("ParsePEM(%s) = %v", tc.name, err)
			}
			a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{k}})
			if _, err := a.Authenticate(request(sign(t, tc.method, "k", validClaims(), tc.priv))); err != nil {
				t.Errorf("Authenticate(token of the PEM's key) = %v", err)
			}
		})
	}
	rsaPEM := pemOf("PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&rsaKey().PublicKey)))
	small := must(rsa.GenerateKey(rand.Reader, 1024))
	for _, tc := range []struct {
		name string
		alg  string
		data []byte
		want error
	}{
		{"not PEM", "RS256", []byte("hello"), jwtauth.ErrKey},
		{"two blocks", "RS256", append(append([]byte{}, rsaPEM...), rsaPEM...), jwtauth.ErrKey},
		{"private key", "RS256", pemOf("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(rsaKey()))), jwtauth.ErrKey},
		{"garbage DER", "RS256", pemOf("PUBLIC KEY", []byte{1, 2, 3}), jwtauth.ErrKey},
		{"RSA as HS256", "HS256", rsaPEM, jwtauth.ErrAlgorithm},
		{"RSA as ES256", "ES256", rsaPEM, jwtauth.ErrAlgorithm},
		{"RSA as none", "none", rsaPEM, jwtauth.ErrAlgorithm},
		{"RSA with no alg", "", rsaPEM, jwtauth.ErrAlgorithm},
		{"RSA 1024 bits", "RS256", pemOf("PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&small.PublicKey))), jwtauth.ErrKey},
		{"P-256 as ES384", "ES384", pemOf("PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&ecKey().PublicKey))), jwtauth.ErrAlgorithm},
	} {
		if _, err := jwtauth.ParsePEM("k", tc.alg, tc.data); !errors.Is(err, tc.want) {
			t.Errorf("ParsePEM(%s) = %v; want %v", tc.name, err, tc.want)
		}
	}
}

func TestParseJWK(t *testing.T) {
	ec384 := must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	ecJWK := func(k *ecdsa.PrivateKey, crv string) map[string]any {
		pt := must(k.PublicKey.Bytes()) // 0x04 || X || Y
		n := (len(pt) - 1) / 2
		return map[string]any{"kty": "EC", "crv": crv, "x": b64(pt[1 : 1+n]), "y": b64(pt[1+n:])}
	}
	edPub := edKey().Public().(ed25519.PublicKey)
	for _, tc := range []struct {
		name     string
		jwk      map[string]any
		defaults []string
		wantAlg  string
		want     error
	}{
		{name: "RSA with alg", jwk: rsaJWK("r", rsaKey()), wantAlg: "RS256"},
		{name: "RSA default alg", jwk: drop(rsaJWK("r", rsaKey()), "alg"), defaults: []string{"ES256", "PS384"}, wantAlg: "PS384"},
		{name: "RSA no alg no default", jwk: drop(rsaJWK("r", rsaKey()), "alg"), want: jwtauth.ErrSkipped},
		{name: "RSA alg ES256", jwk: set(rsaJWK("r", rsaKey()), "alg", "ES256"), want: jwtauth.ErrAlgorithm},
		{name: "RSA use enc", jwk: set(rsaJWK("r", rsaKey()), "use", "enc"), want: jwtauth.ErrSkipped},
		{name: "RSA key_ops sign only", jwk: set(rsaJWK("r", rsaKey()), "key_ops", []string{"sign"}), want: jwtauth.ErrSkipped},
		{name: "RSA key_ops verify", jwk: set(rsaJWK("r", rsaKey()), "key_ops", []string{"verify"}), wantAlg: "RS256"},
		{name: "RSA bad n", jwk: set(rsaJWK("r", rsaKey()), "n", "***"), want: jwtauth.ErrKey},
		{name: "RSA no e", jwk: drop(rsaJWK("r", rsaKey()), "e"), want: jwtauth.ErrKey},
		{name: "RSA even e", jwk: set(rsaJWK("r", rsaKey()), "e", "AQAC"), want: jwtauth.ErrKey},
		{name: "EC P-256", jwk: ecJWK(ecKey(), "P-256"), defaults: []string{"ES256"}, wantAlg: "ES256"},
		{name: "EC P-384", jwk: ecJWK(ec384, "P-384"), defaults: []string{"ES256", "ES384"}, wantAlg: "ES384"},
		{name: "EC P-384 declared P-256", jwk: ecJWK(ec384, "P-256"), defaults: []string{"ES256"}, want: jwtauth.ErrKey},
		{name: "EC point off the curve", jwk: set(ecJWK(ecKey(), "P-256"), "y", b64(make([]byte, 32))), defaults: []string{"ES256"}, want: jwtauth.ErrKey},
		{name: "EC secp256k1", jwk: set(ecJWK(ecKey(), "P-256"), "crv", "secp256k1"), defaults: []string{"ES256"}, want: jwtauth.ErrSkipped},
		{name: "OKP Ed25519", jwk: map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(edPub), "alg": "EdDSA"}, wantAlg: "EdDSA"},
		{name: "OKP X25519", jwk: map[string]any{"kty": "OKP", "crv": "X25519", "x": b64(edPub), "alg": "EdDSA"}, want: jwtauth.ErrSkipped},
		{name: "OKP short", jwk: map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(edPub[:31]), "alg": "EdDSA"}, want: jwtauth.ErrKey},
		{name: "oct", jwk: map[string]any{"kty": "oct", "k": b64(hmacSecret), "alg": "HS256"}, wantAlg: "HS256"},
		{name: "oct too short for HS512", jwk: map[string]any{"kty": "oct", "k": b64(hmacSecret), "alg": "HS512"}, want: jwtauth.ErrKey},
		{name: "unknown kty", jwk: map[string]any{"kty": "PQC", "alg": "ML-DSA-44"}, want: jwtauth.ErrSkipped},
		{name: "alg none", jwk: set(rsaJWK("r", rsaKey()), "alg", "none"), want: jwtauth.ErrSkipped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := jwtauth.ParseJWK(must(json.Marshal(tc.jwk)), tc.defaults...)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Errorf("ParseJWK(%s) = %+v, %v; want %v", tc.name, k, err, tc.want)
				}
				return
			}
			if err != nil || k.Algorithm != tc.wantAlg {
				t.Errorf("ParseJWK(%s) = %+v, %v; want alg %s", tc.name, k, err, tc.wantAlg)
			}
		})
	}
	if _, err := jwtauth.ParseJWK([]byte(`{"kty":`)); !errors.Is(err, jwtauth.ErrKey) {
		t.Errorf("ParseJWK(bad JSON) = %v; want ErrKey", err)
	}
}

func drop(m map[string]any, k string) map[string]any { delete(m, k); return m }
func set(m map[string]any, k string, v any) map[string]any {
	m[k] = v
	return m
}

func TestParseJWKSet(t *testing.T) {
	set := func(keys ...any) []byte { return must(json.Marshal(map[string]any{"keys": keys})) }
	many := make([]any, 101)
	for i := range many {
		many[i] = map[string]any{"kty": "oct", "k": b64(hmacSecret), "alg": "HS256", "kid": string(rune('a'+i%26)) + string(rune('a'+i/26))}
	}
	for _, tc := range []struct {
		name string
		data []byte
		n    int
		want error
	}{
		{"two keys", set(rsaJWK("a", rsaKey()), rsaJWK("b", rsaKey2())), 2, nil},
		{"duplicate kid", set(rsaJWK("a", rsaKey()), rsaJWK("a", rsaKey2())), 0, jwtauth.ErrKey},
		{"malformed key", set(rsaJWK("a", rsaKey()), map[string]any{"kty": "RSA", "alg": "RS256", "n": "@"}), 0, jwtauth.ErrKey},
		{"no keys member", []byte(`{}`), 0, jwtauth.ErrKey},
		{"not JSON", []byte(`[`), 0, jwtauth.ErrKey},
		{"too many keys", set(many...), 0, jwtauth.ErrKey},
	} {
		keys, err := jwtauth.ParseJWKSet(tc.data)
		if !errors.Is(err, tc.want) || len(keys) != tc.n {
			t.Errorf("ParseJWKSet(%s) = %d keys, %v; want %d, %v", tc.name, len(keys), err, tc.n, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	hk := jwtauth.Key{Algorithm: "HS256", Material: hmacSecret}
	for _, tc := range []struct {
		name string
		cfg  jwtauth.Config
	}{
		{"no keys", jwtauth.Config{}},
		{"keys and JWKS", jwtauth.Config{Keys: []jwtauth.Key{hk}, JWKS: &jwtauth.JWKS{}}},
		{"JWKS not from NewJWKS", jwtauth.Config{JWKS: &jwtauth.JWKS{}}},
		{"duplicate kid", jwtauth.Config{Keys: []jwtauth.Key{hk, hk}}},
		{"unknown alg", jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS1", Material: hmacSecret}}}},
		{"alg none", jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "none", Material: hmacSecret}}}},
		{"RSA key as HS256", jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: &rsaKey().PublicKey}}}},
		{"HMAC secret as RS256", jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "RS256", Material: hmacSecret}}}},
		{"short secret", jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: []byte("short")}}}},
		{"Ed25519 private key", jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "EdDSA", Material: edKey()}}}},
		{"negative leeway", jwtauth.Config{Keys: []jwtauth.Key{hk}, Leeway: -time.Second}},
		{"negative max", jwtauth.Config{Keys: []jwtauth.Key{hk}, MaxTokenBytes: -1}},
		{"empty required claim", jwtauth.Config{Keys: []jwtauth.Key{hk}, RequiredClaims: []string{""}}},
		{"quote in realm", jwtauth.Config{Keys: []jwtauth.Key{hk}, Realm: `a"b`}},
	} {
		if a, err := jwtauth.New(tc.cfg); err == nil {
			t.Errorf("New(%s) = %v, nil; want an error", tc.name, a)
		}
	}
}

// TestNewCopiesKeys: the caller's key material and config can change
// after New without effect.
func TestNewCopiesKeys(t *testing.T) {
	secret := append([]byte(nil), hmacSecret...)
	pub := &rsa.PublicKey{N: new(big.Int).Set(rsaKey().N), E: rsaKey().E}
	cfg := jwtauth.Config{
		Keys:           []jwtauth.Key{{ID: "h", Algorithm: "HS256", Material: secret}, {ID: "r", Algorithm: "RS256", Material: pub}},
		RequiredClaims: []string{"sub"},
		Audience:       []string{"api"},
		CacheSize:      -1,
	}
	a := newAuth(t, cfg)
	tok := sign(t, jwt.SigningMethodHS256, "h", validClaims(), hmacSecret)
	rtok := sign(t, jwt.SigningMethodRS256, "r", validClaims(), rsaKey())
	secret[0] ^= 1
	pub.N.SetInt64(7)
	cfg.RequiredClaims[0] = "nope"
	cfg.Audience[0] = "nope"
	if _, err := a.Authenticate(request(rtok)); err != nil {
		t.Errorf("Authenticate(RS256) after the caller changed its key = %v; want ok", err)
	}
	if _, err := a.Authenticate(request(tok)); err != nil {
		t.Errorf("Authenticate after the caller changed its config = %v; want ok", err)
	}
	if cfg.Realm != "" || cfg.MaxTokenBytes != 0 {
		t.Errorf("New changed the caller's Config: %+v", cfg)
	}
}
