package jwtauth_test

import (
	"slices"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth/jwtauth"
)

func TestPrincipal(t *testing.T) {
	cfg := jwtauth.Config{
		Keys:        []jwtauth.Key{{Algorithm: "HS256", Material: hmacSecret}},
		TenantClaim: "org",
		PlanClaim:   "https://example.com/plan",
		RolesClaim:  "realm_access.roles",
	}
	for _, tc := range []struct {
		name            string
		claims          map[string]any
		cfg             func(*jwtauth.Config)
		subject, tenant string
		plan            string
		scopes, roles   []string
	}{
		{name: "scope string", claims: map[string]any{"sub": "u1", "scope": "read  write"}, subject: "u1", scopes: []string{"read", "write"}},
		{name: "scp array", claims: map[string]any{"scp": []any{"read", 7, "write"}}, scopes: []string{"read", "write"}},
		{name: "scp string", claims: map[string]any{"scp": "read"}, scopes: []string{"read"}},
		{name: "tenant and plan", claims: map[string]any{"org": "acme", "https://example.com/plan": "gold"}, tenant: "acme", plan: "gold"},
		{name: "tenant not a string", claims: map[string]any{"org": 12}},
		{name: "dotted roles", claims: map[string]any{"realm_access": map[string]any{"roles": []any{"admin", "dev"}}}, roles: []string{"admin", "dev"}},
		{name: "dotted path missing", claims: map[string]any{"realm_access": "x"}},
		{name: "literal dotted name", claims: map[string]any{"realm_access.roles": "ops"}, roles: []string{"ops"}},
		{name: "default roles claim", claims: map[string]any{"roles": []any{"a"}}, cfg: func(c *jwtauth.Config) { c.RolesClaim = "" }, roles: []string{"a"}},
		{name: "nested tenant", claims: map[string]any{"ext": map[string]any{"tenant": "t9"}}, cfg: func(c *jwtauth.Config) { c.TenantClaim = "ext.tenant" }, tenant: "t9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			if tc.cfg != nil {
				tc.cfg(&c)
			}
			a := newAuth(t, c)
			claims := validClaims()
			delete(claims, "sub")
			for k, v := range tc.claims {
				claims[k] = v
			}
			p, err := a.Authenticate(request(sign(t, jwt.SigningMethodHS256, "", claims, hmacSecret)))
			if err != nil {
				t.Fatal(err)
			}
			if p.Subject != tc.subject || p.Tenant != tc.tenant || p.Plan != tc.plan || p.Method != "jwt" {
				t.Errorf("Principal = {Subject %q Tenant %q Plan %q Method %q}; want {%q %q %q jwt}", p.Subject, p.Tenant, p.Plan, p.Method, tc.subject, tc.tenant, tc.plan)
			}
			if !slices.Equal(p.Scopes, tc.scopes) && len(p.Scopes)+len(tc.scopes) > 0 {
				t.Errorf("Scopes = %q; want %q", p.Scopes, tc.scopes)
			}
			if !slices.Equal(p.Roles, tc.roles) && len(p.Roles)+len(tc.roles) > 0 {
				t.Errorf("Roles = %q; want %q", p.Roles, tc.roles)
			}
			if p.Claims["iss"] != "https://issuer.example" {
				t.Errorf("Claims = %v; want every claim kept", p.Claims)
			}
		})
	}
}
