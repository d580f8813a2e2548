package cache_test

import (
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

func TestNotModifiedOnlyFor2xx(t *testing.T) {
	for _, status := range []int{404, 301} {
		e := store(pol, get(), res(status, "Cache-Control", "max-age=60", "Etag", `"x"`))
		if cache.NotModified(get("If-None-Match", "*"), e) || cache.NotModified(get("If-Modified-Since", httpDate(time.Hour)), e) {
			t.Errorf("NotModified(stored %d) = true; want false", status)
		}
	}
	e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Etag", `"x"`))
	if !cache.NotModified(get("If-None-Match", "*"), e) {
		t.Errorf("NotModified(If-None-Match: *, stored 200) = false; want true")
	}
}
