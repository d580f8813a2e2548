package cache_test

import (
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

func TestCDNCacheControlIgnoresExpires(t *testing.T) {
	p := cache.Policy{CDNCacheControl: true, HeuristicMax: -1}
	e := store(p, get(), res(200, "Cdn-Cache-Control", "public", "Expires", httpDate(time.Hour)))
	if e.Lifetime != 0 {
		t.Errorf("CDN-Cache-Control in use: Lifetime = %v; want 0 (Expires ignored)", e.Lifetime)
	}
}
