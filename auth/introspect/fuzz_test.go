package introspect

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/auth"
)

// FuzzBearerToken: whatever the header, bearerToken either finds no
// credential, refuses with an *auth.Error, or returns a token that RFC
// 6750 allows, within the limit, taken from the end of the header.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer   a.b-c~d+e/f==", "Bearer", "Bearer ", "Basic x", "Bearer a b", "BEARER =", "Bearerx y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		const max = 64
		tok, err := bearerToken(http.Header{"Authorization": {v}}, max)
		var ae *auth.Error
		switch {
		case errors.Is(err, auth.ErrNoCredentials):
			if len(v) >= 7 && strings.EqualFold(v[:7], "bearer ") {
				t.Fatalf("bearerToken(%q) = no credentials; want a token or a refusal", v)
			}
		case errors.As(err, &ae):
			if ae.Status != 0 || ae.Code == "" {
				t.Fatalf("bearerToken(%q) = %+v; want a 401 with a code", v, ae)
			}
		case err != nil:
			t.Fatalf("bearerToken(%q) = %v; want ErrNoCredentials or an *auth.Error", v, err)
		default:
			if tok == "" || len(tok) > max || !auth.IsB64Token(tok) || !strings.HasSuffix(strings.TrimRight(v, " "), tok) {
				t.Fatalf("bearerToken(%q) = %q; want a valid token from the header", v, tok)
			}
			if !strings.EqualFold(strings.TrimRight(strings.TrimRight(v, " ")[:len(strings.TrimRight(v, " "))-len(tok)], " "), "bearer") {
				t.Fatalf("bearerToken(%q) = %q; want only the scheme and spaces before it", v, tok)
			}
		}
	})
}
