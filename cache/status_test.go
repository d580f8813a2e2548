package cache_test

import (
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

func TestStatusFractionalTTL(t *testing.T) {
	for _, tt := range []struct {
		ttl  time.Duration
		want string
	}{
		{59*time.Second + 999*time.Millisecond, "gateway; ttl=60"},
		{time.Millisecond, "gateway; ttl=1"},
		{60 * time.Second, "gateway; ttl=60"},
		{0, "gateway; ttl=0"},
	} {
		if s := (cache.Status{Cache: "gateway", TTL: tt.ttl, HasTTL: true}).String(); s != tt.want {
			t.Errorf("Status(TTL %v) = %q; want %q", tt.ttl, s, tt.want)
		}
	}
}

func TestStatusNegativeFractionalTTL(t *testing.T) {
	if s := (cache.Status{Cache: "gateway", TTL: -500 * time.Millisecond, HasTTL: true}).String(); s != "gateway; ttl=-1" {
		t.Errorf("Status(TTL -0.5s) = %q; want %q", s, "gateway; ttl=-1")
	}
}

func TestStatusCacheName(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"gateway", "gateway; hit"},
		{"edge-1.example/cdn", "edge-1.example/cdn; hit"},
		{"my cache, x=1", `"my cache, x=1"; hit`},
		{`a"b\c`, `"a\"b\\c"; hit`},
		{"caf\u00e9", `"caf??"; hit`},
		{"1cache", `"1cache"; hit`},
	} {
		if got := (cache.Status{Cache: tc.name, Hit: true}).String(); got != tc.want {
			t.Errorf("Status{Cache: %q, Hit: true}.String() = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestStatusDetail(t *testing.T) {
	for _, tt := range []struct{ detail, want string }{
		{"only-if-cached", "gateway; detail=only-if-cached"},
		{"two words", `gateway; detail="two words"`},
	} {
		if s := (cache.Status{Cache: "gateway", Detail: tt.detail}).String(); s != tt.want {
			t.Errorf("Status(Detail %q) = %q; want %q", tt.detail, s, tt.want)
		}
	}
}
