package cache_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/cache"
)

func TestKeyScheme(t *testing.T) {
	a := httptest.NewRequest("GET", "http://example.com/r", nil)
	b := httptest.NewRequest("GET", "https://example.com/r", nil)
	if cache.Key(a) == cache.Key(b) {
		t.Errorf("Key(http) == Key(https) = %q", cache.Key(a))
	}
	post := httptest.NewRequest("POST", "https://example.com/r", nil)
	if ks := cache.Invalidates(post, &http.Response{StatusCode: 200}); len(ks) == 0 || ks[0] != cache.Key(b) {
		t.Errorf("Invalidates(POST https) = %q; want first %q", ks, cache.Key(b))
	}
}
