package introspect_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/vivremotion/gateway/auth/introspect"
)

// TestRefreshTokenRefused: an active answer whose token_type is
// refresh_token is refused as not an access token; other token types pass.
func TestRefreshTokenRefused(t *testing.T) {
	e := newEndpoint(t)
	in := mustNew(t, serve(t, e))
	for _, tc := range []struct {
		tokenType string
		want      error
	}{
		{"refresh_token", introspect.ErrTokenType},
		{"Refresh_Token", introspect.ErrTokenType},
		{"access_token", nil},
		{"Bearer", nil},
		{"", nil},
	} {
		tok := "tok-" + tc.tokenType
		e.set(tok, fmt.Sprintf(`{"active":true,"sub":"alice","token_type":%q,"exp":%d}`, tc.tokenType, future))
		p, err := in.Authenticate(bearer(tok))
		if tc.want == nil {
			if err != nil || p.Subject != "alice" {
				t.Errorf("Authenticate(token_type %q) = %v, %v; want alice", tc.tokenType, p, err)
			}
			continue
		}
		wantError(t, fmt.Sprintf("Authenticate(token_type %q)", tc.tokenType), err, http.StatusUnauthorized, "invalid_token", tc.want)
	}
}

// TestSubjectFallback: Subject is "sub", else "username", else
// "client_id"; with SubjectFromSubOnly, "sub" alone.
func TestSubjectFallback(t *testing.T) {
	e := newEndpoint(t)
	e.set("user", fmt.Sprintf(`{"active":true,"username":"bob","client_id":"app","exp":%d}`, future))
	e.set("client", fmt.Sprintf(`{"active":true,"client_id":"app","exp":%d}`, future))
	e.set("sub", fmt.Sprintf(`{"active":true,"sub":"alice","username":"bob","client_id":"app","exp":%d}`, future))
	cfg := serve(t, e)
	in := mustNew(t, cfg)
	cfg.SubjectFromSubOnly = true
	strict := mustNew(t, cfg)
	for _, tc := range []struct {
		tok, want, wantStrict string
	}{
		{"sub", "alice", "alice"},
		{"user", "bob", ""},
		{"client", "app", ""},
	} {
		if p, err := in.Authenticate(bearer(tc.tok)); err != nil || p.Subject != tc.want {
			t.Errorf("Authenticate(%s) = %v, %v; want Subject %q", tc.tok, p, err, tc.want)
		}
		if p, err := strict.Authenticate(bearer(tc.tok)); err != nil || p.Subject != tc.wantStrict {
			t.Errorf("SubjectFromSubOnly: Authenticate(%s) = %v, %v; want Subject %q", tc.tok, p, err, tc.wantStrict)
		}
	}
}
