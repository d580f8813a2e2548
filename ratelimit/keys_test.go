package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/vivremotion/gateway/ratelimit"
)

type ctxKey struct{}

func TestKeys(t *testing.T) {
	trusted, err := ratelimit.ByClientIP(ratelimit.ClientIP{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	perAddr, err := ratelimit.ByClientIP(ratelimit.ClientIP{IPv6Bits: 128})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/v1/things?a=1&tenant=acme%20co&tenant=2", nil)
	r.RemoteAddr = "10.1.1.1:5000"
	r.Header.Set("X-Forwarded-For", "1.1.1.1, 198.51.100.7")
	r.Header.Set("X-Api-Key", "k-123")
	r.Pattern = "GET /v1/things"
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, "principal-9"))
	v6 := httptest.NewRequest("GET", "/", nil)
	v6.RemoteAddr = "[2001:db8:1:2:3:4:5:6]:443"
	v6.Header.Set("X-Forwarded-For", "198.51.100.7")

	tests := []struct {
		name string
		key  ratelimit.KeyFunc
		r    *http.Request
		want string
	}{
		{"ByIP ignores the header", ratelimit.ByIP, r, "10.1.1.1"},
		{"ByIP keys IPv6 by /64", ratelimit.ByIP, v6, "2001:db8:1:2::/64"},
		{"ByClientIP 128 bits", perAddr, v6, "2001:db8:1:2:3:4:5:6"},
		{"ByClientIP trusts the proxy", trusted, r, "198.51.100.7"},
		{"ByClientIP, untrusted peer", trusted, v6, "2001:db8:1:2::/64"},
		{"ByHeader", ratelimit.ByHeader("x-api-key"), r, "k-123"},
		{"ByHeader missing", ratelimit.ByHeader("X-Missing"), r, ""},
		{"ByQuery first value, unescaped", ratelimit.ByQuery("tenant"), r, "acme co"},
		{"ByQuery missing", ratelimit.ByQuery("b"), r, ""},
		{"ByRoute", ratelimit.ByRoute, r, "GET /v1/things"},
		{"ByFunc", ratelimit.ByFunc(func(r *http.Request) string { return r.Method }), r, "GET"},
		{"ByContext", ratelimit.ByContext(ctxKey{}), r, "principal-9"},
		{"ByContext missing", ratelimit.ByContext(struct{}{}), r, ""},
		{"Compose", ratelimit.Compose(ratelimit.ByRoute, trusted), r, "GET /v1/things\x00198.51.100.7"},
	}
	for _, tt := range tests {
		if got := string(tt.key(nil, tt.r)); got != tt.want {
			t.Errorf("%s: key = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestByClientIPErrors(t *testing.T) {
	bad := []ratelimit.ClientIP{
		{TrustedProxies: []netip.Prefix{{}}},
		{Header: "X-Real-IP"},
		{IPv6Bits: 129},
		{IPv6Bits: -1},
	}
	for _, c := range bad {
		if _, err := ratelimit.ByClientIP(c); err == nil {
			t.Errorf("ByClientIP(%+v) = nil error; want one", c)
		}
	}
}

// TestByQuery: the key is the value the handler reads from
// r.URL.Query().Get(name), however the client escapes it, so that one
// value has one allowance.
func TestByQuery(t *testing.T) {
	key := ratelimit.ByQuery("key")
	for _, q := range []string{
		"key=abc", "key=%61bc", "key=a%62c", "key=ab%63", "key=%61%62%63", "k%65y=abc",
		"x=1&key=abc&key=zzz", "key=a+b", "key=a%20b", "key=a%2Bb", "key=%", "key=%zz&key=abc",
		"key=a%2", "key;x=1&key=abc", "key=a;b&key=abc", "key", "key=", "&&key=abc", "%zz=1&key=abc",
		"KEY=abc", "key=%C3%A9", "key=%e9", "key=a=b", "",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = q
		want := r.URL.Query().Get("key")
		if got := string(key([]byte("prefix|"), r)); got != "prefix|"+want {
			t.Errorf("ByQuery(key) of ?%s = %q; want %q, as r.URL.Query().Get says", q, got, "prefix|"+want)
		}
	}
}

// TestKeyAllocs: building a composite key into a buffer allocates nothing.
func TestKeyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	trusted, _ := ratelimit.ByClientIP(ratelimit.ClientIP{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	key := ratelimit.Compose(ratelimit.ByRoute, trusted, ratelimit.ByHeader("X-Api-Key"), ratelimit.ByQuery("tenant"))
	r := httptest.NewRequest("GET", "/v1/things?x=1&t%65nant=a+c%6De", nil)
	r.RemoteAddr = "10.1.1.1:5000"
	r.Header.Set("X-Forwarded-For", "2001:db8::1, 10.2.2.2")
	r.Header.Set("X-Api-Key", "k-123")
	r.Pattern = "GET /v1/things"
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { buf = key(buf[:0], r) }); n != 0 {
		t.Errorf("composite key: %v allocs; want 0", n)
	}
}
