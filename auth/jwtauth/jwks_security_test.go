package jwtauth_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth/jwtauth"
)

// TestJWKSURLScheme: an http:// JWKS URL needs AllowHTTP; a URL with
// userinfo is refused either way.
func TestJWKSURLScheme(t *testing.T) {
	f := &fakeJWKS{}
	f.setKeys(rsaJWK("a", rsaKey()))
	for _, tc := range []struct {
		url       string
		allowHTTP bool
		ok        bool
	}{
		{"https://idp.example/jwks", false, true},
		{"http://idp.example/jwks", false, false},
		{"http://idp.example/jwks", true, true},
		{"https://gw:s3cr3t@idp.example/jwks", false, false},
		{"https://gw@idp.example/jwks", false, false},
	} {
		j, err := jwtauth.NewJWKS(t.Context(), jwtauth.JWKSConfig{URL: tc.url, AllowHTTP: tc.allowHTTP, Client: &http.Client{Transport: f}})
		if err == nil {
			j.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("NewJWKS(URL %s, AllowHTTP %v) = %v; want ok %v", tc.url, tc.allowHTTP, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("NewJWKS error %q holds the URL password", err)
		}
	}
}

// TestJWKSRefreshLogged: a failed refresh is logged with the URL's host
// (credentials cannot be in the URL: NewJWKS refuses them).
func TestJWKSRefreshLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeJWKS{}
		f.setKeys(rsaJWK("a", rsaKey()))
		var buf bytes.Buffer
		j, err := jwtauth.NewJWKS(t.Context(), jwtauth.JWKSConfig{URL: "https://idp.example/jwks", Client: &http.Client{Transport: f}, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		f.mu.Lock()
		f.status = 500
		f.mu.Unlock()
		time.Sleep(16 * time.Minute)
		synctest.Wait()
		if !strings.Contains(buf.String(), "idp.example") {
			t.Errorf("log = %q; want the failed refresh logged with its host", buf.String())
		}
	})
}

// TestJWKSDefaultClientNoRedirect: the default client does not follow a
// redirect away from the configured URL.
func TestJWKSDefaultClientNoRedirect(t *testing.T) {
	body := must(json.Marshal(map[string]any{"keys": []any{rsaJWK("a", rsaKey())}}))
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirect.Close()
	// httptest servers are http: AllowHTTP is needed.
	j, err := jwtauth.NewJWKS(t.Context(), jwtauth.JWKSConfig{URL: redirect.URL, AllowHTTP: true})
	if err == nil {
		j.Close()
		t.Errorf("NewJWKS(URL that redirects) = nil error; want the redirect refused")
	}
}

// TestJWKSSkipsBadKeys: in a fetched set, a key that cannot be used (too
// small, an alg that does not fit its kty, a repeated kid, a symmetric
// key) is skipped and the good keys are kept (RFC 7517 section 5).
func TestJWKSSkipsBadKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	dup := rsaJWK("good", rsaKey2())
	dup["alg"] = "PS256"
	dupEC := map[string]any{"kty": "EC", "crv": "P-256", "kid": "good", "alg": "ES256", "x": b64(ecKey().X.FillBytes(make([]byte, 32))), "y": b64(ecKey().Y.FillBytes(make([]byte, 32)))}
	for _, tc := range []struct {
		name string
		bad  map[string]any
	}{
		{"1024-bit RSA", rsaJWK("legacy", small)},
		{"alg not fitting kty", map[string]any{"kty": "EC", "crv": "P-256", "kid": "odd", "alg": "RS256", "x": "AA", "y": "AA"}},
		{"duplicate kid, same kty", dup},
		{"duplicate kid, other kty", dupEC},
		{"symmetric key", map[string]any{"kty": "oct", "kid": "h", "alg": "HS256", "k": b64(hmacSecret)}},
		{"malformed", map[string]any{"kty": "RSA", "kid": "m", "alg": "RS256", "n": "!!", "e": "AQAB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeJWKS{}
			f.setKeys(rsaJWK("good", rsaKey()), tc.bad)
			var buf bytes.Buffer
			j, err := jwtauth.NewJWKS(t.Context(), jwtauth.JWKSConfig{URL: "https://idp.example/jwks", Client: &http.Client{Transport: f}, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
			if err != nil {
				t.Fatalf("NewJWKS(good key + %s) = %v; want the good key kept", tc.name, err)
			}
			defer j.Close()
			if keys := j.Keys(); len(keys) != 1 || keys[0].ID != "good" || keys[0].Algorithm != "RS256" {
				t.Errorf("Keys() = %+v; want only kid good, RS256", keys)
			}
			if !strings.Contains(buf.String(), "skipped") {
				t.Errorf("log = %q; want the skipped key logged", buf.String())
			}
			a := newAuth(t, jwtauth.Config{JWKS: j})
			if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodRS256, "good", validClaims(), rsaKey()))); err != nil {
				t.Errorf("Authenticate(token of the good key) = %v", err)
			}
		})
	}
}

// TestJWKSSymmetricKeyNotUsed: an HMAC key in a fetched set (public, so
// its secret is anyone's) verifies nothing.
func TestJWKSSymmetricKeyNotUsed(t *testing.T) {
	f := &fakeJWKS{}
	f.setKeys(rsaJWK("a", rsaKey()), map[string]any{"kty": "oct", "kid": "h", "alg": "HS256", "k": b64(hmacSecret)})
	j := newJWKS(t, f, jwtauth.JWKSConfig{UnknownKIDInterval: time.Hour})
	a := newAuth(t, jwtauth.Config{JWKS: j})
	_, err := a.Authenticate(request(sign(t, jwt.SigningMethodHS256, "h", validClaims(), hmacSecret)))
	wantCode(t, err, "invalid_token", jwtauth.ErrUnknownKey)
}

// TestParseJWKSetStaysStrict: ParseJWKSet still refuses a set with a bad
// key; only the fetch path skips it.
func TestParseJWKSetStaysStrict(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	body := must(json.Marshal(map[string]any{"keys": []any{rsaJWK("good", rsaKey()), rsaJWK("legacy", small)}}))
	if keys, err := jwtauth.ParseJWKSet(body); err == nil {
		t.Errorf("ParseJWKSet(set with a 1024-bit key) = %d keys, nil error; want an error", len(keys))
	}
}

// TestJWKSKeysAreCopies: writing to what Keys returns changes nothing the
// Authenticator accepts.
func TestJWKSKeysAreCopies(t *testing.T) {
	f := &fakeJWKS{}
	f.setKeys(rsaJWK("a", rsaKey()))
	j := newJWKS(t, f, jwtauth.JWKSConfig{})
	a := newAuth(t, jwtauth.Config{JWKS: j, CacheSize: -1})
	pub := j.Keys()[0].Material.(*rsa.PublicKey)
	pub.N.Set(rsaKey2().N) // e.g. a caller that reuses the value
	pub.E = rsaKey2().E
	if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodRS256, "a", validClaims(), rsaKey2()))); err == nil {
		t.Errorf("after writing to JWKS.Keys()[0].Material, a token of the written key is accepted; want Keys to return copies")
	}
	if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodRS256, "a", validClaims(), rsaKey()))); err != nil {
		t.Errorf("Authenticate(token of the fetched key) = %v", err)
	}
}
