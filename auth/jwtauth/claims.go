package jwtauth

import (
	"strings"

	"github.com/vivremotion/gateway/auth"
)

// principal maps verified claims to a Principal.
func (a *Authenticator) principal(claims map[string]any) *auth.Principal {
	p := &auth.Principal{Method: "jwt", Claims: claims}
	p.Subject, _ = claims["sub"].(string)
	if a.tenantClaim != "" {
		p.Tenant, _ = claimAt(claims, a.tenantClaim).(string)
	}
	if a.planClaim != "" {
		p.Plan, _ = claimAt(claims, a.planClaim).(string)
	}
	if s, ok := claims["scope"].(string); ok {
		p.Scopes = strings.Fields(s)
	} else {
		p.Scopes = auth.ClaimStrings(claims["scp"])
	}
	p.Roles = auth.ClaimStrings(claimAt(claims, a.rolesClaim))
	return p
}

// claimAt returns the claim named name, or, when there is none, the value
// at the dotted path name ("realm_access.roles") through nested objects.
func claimAt(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}
