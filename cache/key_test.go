package cache_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
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

// TestKeyRequestURI: the key's request URI is url.URL.RequestURI's, built
// without allocating, for every form a request target takes.
func TestKeyRequestURI(t *testing.T) {
	for _, target := range []string{"/", "/a?", "/a?b=1&c", "/%7Euser", "/a;b", "/a%2Fb", "/ü/ß?x=é", "*"} {
		r := httptest.NewRequest("OPTIONS", target, nil)
		if got, want := cache.Key(r), "OPTIONS http://example.com"+r.URL.RequestURI(); got != want {
			t.Errorf("Key(%s) = %q; want %q", target, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.URL = &url.URL{Scheme: "http", Opaque: "//other.example/x%20y", RawQuery: "q=1"}
	if got, want := cache.Key(r), "GET http://example.com"+r.URL.RequestURI(); got != want {
		t.Errorf("Key(opaque %q) = %q; want %q", r.URL.Opaque, got, want)
	}
	r.URL = &url.URL{Opaque: "/plain"}
	if got, want := cache.Key(r), "GET http://example.com/plain"; got != want {
		t.Errorf("Key(opaque /plain) = %q; want %q", got, want)
	}
}
