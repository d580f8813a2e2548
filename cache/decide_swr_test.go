package cache_test

import (
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

func TestStaleWhileRevalidateHonoursRequestLimits(t *testing.T) {
	rs := res(200, "Cache-Control", "max-age=60, stale-while-revalidate=300")
	for _, cc := range []string{"max-age=0", "max-age=30", "min-fresh=10"} {
		if got := action(pol, get("Cache-Control", cc), rs, 90*time.Second); got.Serves() {
			t.Errorf("request %q, entry 30s stale with swr: Decide = %v; want not served", cc, got)
		}
	}
	if got := action(pol, get(), rs, 90*time.Second); got != cache.StaleWhileRevalidate {
		t.Errorf("plain request, entry 30s stale with swr: Decide = %v; want %v", got, cache.StaleWhileRevalidate)
	}
}
