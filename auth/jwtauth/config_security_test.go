package jwtauth_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth/jwtauth"
)

// TestNewRefusesBadLimits: an empty audience entry and a Leeway above
// MaxLeeway are refused at construction.
func TestNewRefusesBadLimits(t *testing.T) {
	keys := []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}}
	for _, tc := range []struct {
		name string
		cfg  jwtauth.Config
	}{
		{"empty audience", jwtauth.Config{Keys: keys, Audience: []string{"api", ""}}},
		{"leeway a year", jwtauth.Config{Keys: keys, Leeway: 365 * 24 * time.Hour}},
		{"leeway just above max", jwtauth.Config{Keys: keys, Leeway: jwtauth.MaxLeeway + 1}},
	} {
		if _, err := jwtauth.New(tc.cfg); err == nil {
			t.Errorf("New(%s) = nil error; want one", tc.name)
		}
	}
	if _, err := jwtauth.New(jwtauth.Config{Keys: keys, Leeway: jwtauth.MaxLeeway}); err != nil {
		t.Errorf("New(Leeway MaxLeeway) = %v; want it accepted", err)
	}
}

// TestClaimsRejected: a non-string sub and numeric dates past 2^40
// seconds (which would overflow into the past) are refused.
func TestClaimsRejected(t *testing.T) {
	a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}}, CheckIssuedAt: true})
	for _, tc := range []struct {
		name  string
		claim string
		v     any
	}{
		{"sub object", "sub", map[string]any{"id": "admin"}},
		{"sub number", "sub", 42},
		{"nbf 1e300", "nbf", 1e300},
		{"iat 1e300", "iat", 1e300},
		{"exp 1e300", "exp", 1e300},
		{"nbf 2^41", "nbf", float64(1 << 41)},
	} {
		c := validClaims()
		c[tc.claim] = tc.v
		p, err := a.Authenticate(request(sign(t, jwt.SigningMethodHS256, "", c, hmacSecret)))
		if err == nil {
			t.Errorf("Authenticate(%s) accepted, Subject %q; want invalid_token", tc.name, p.Subject)
			continue
		}
		wantCode(t, err, "invalid_token", nil)
	}
}
