package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/auth"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		header []string
		tok    string
		err    error
	}{
		{nil, "", auth.ErrNoCredentials},
		{[]string{"Basic dXNlcjpwYXNz"}, "", auth.ErrNoCredentials},
		{[]string{"Bearerx abc"}, "", auth.ErrNoCredentials},
		{[]string{"Bear"}, "", auth.ErrNoCredentials},
		{[]string{"Bearer abc"}, "abc", nil},
		{[]string{"bEaReR   a.b-c~d+e/f== "}, "a.b-c~d+e/f==", nil},
		{[]string{"Bearer"}, "", auth.ErrBearerEmpty},
		{[]string{"Bearer    "}, "", auth.ErrBearerEmpty},
		{[]string{"Bearer a b"}, "", auth.ErrBearerMalformed},
		{[]string{"Bearer ab=c"}, "", auth.ErrBearerMalformed},
		{[]string{"Bearer =="}, "", auth.ErrBearerMalformed},
		{[]string{"Bearer a", "Bearer b"}, "", auth.ErrBearerDuplicate},
		{[]string{"Basic x", "Bearer b"}, "", auth.ErrNoCredentials},
	} {
		h := http.Header{}
		if tc.header != nil {
			h["Authorization"] = tc.header
		}
		tok, err := auth.BearerToken(h)
		if tok != tc.tok || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, tok, err, tc.tok, tc.err)
		}
	}
}

func TestBearerTokenAllocs(t *testing.T) {
	h := http.Header{"Authorization": {"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}}
	if n := testing.AllocsPerRun(100, func() { auth.BearerToken(h) }); n != 0 {
		t.Errorf("BearerToken allocates %v times; want 0", n)
	}
}

// FuzzBearerToken: whatever the header, BearerToken finds no credential,
// reports one of its malformations, or returns a b64token that ends the
// header, after the scheme and spaces.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer   a.b-c~d+e/f==", "Bearer", "Bearer ", "Basic x", "Bearer a b", "BEARER =", "Bearerx y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tok, err := auth.BearerToken(http.Header{"Authorization": {v}})
		switch {
		case errors.Is(err, auth.ErrNoCredentials):
			if len(v) >= 7 && strings.EqualFold(v[:7], "bearer ") {
				t.Fatalf("BearerToken(%q) = no credentials; want a token or a malformation", v)
			}
		case errors.Is(err, auth.ErrBearerEmpty), errors.Is(err, auth.ErrBearerMalformed):
		case err != nil:
			t.Fatalf("BearerToken(%q) = %v", v, err)
		default:
			trimmed := strings.TrimRight(v, " ")
			if !auth.IsB64Token(tok) || !strings.HasSuffix(trimmed, tok) ||
				!strings.EqualFold(strings.TrimRight(trimmed[:len(trimmed)-len(tok)], " "), "bearer") {
				t.Fatalf("BearerToken(%q) = %q; want the b64token after the scheme", v, tok)
			}
		}
	})
}
