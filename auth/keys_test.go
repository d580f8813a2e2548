package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/auth"
)

func TestKeys(t *testing.T) {
	anon := httptest.NewRequest("GET", "/", nil)
	known := anon.WithContext(auth.NewContext(anon.Context(), alice))
	for _, tt := range []struct {
		name string
		f    func([]byte, *http.Request) []byte
		r    *http.Request
		want string
	}{
		{"KeySubject", auth.KeySubject, known, "k:alice"},
		{"KeySubject anonymous", auth.KeySubject, anon, "k:"},
		{"KeyTenant", auth.KeyTenant, known, "k:acme"},
		{"KeyTenant anonymous", auth.KeyTenant, anon, "k:"},
	} {
		if got := string(tt.f([]byte("k:"), tt.r)); got != tt.want {
			t.Errorf("%s(...) = %q; want %q", tt.name, got, tt.want)
		}
	}
	if got := auth.PlanOf(known); got != "pro" {
		t.Errorf("PlanOf(alice) = %q; want pro", got)
	}
	if got := auth.PlanOf(anon); got != "" {
		t.Errorf("PlanOf(anonymous) = %q; want empty", got)
	}
}
