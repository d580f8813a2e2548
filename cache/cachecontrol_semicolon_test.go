package cache_test

import (
	"testing"
	"time"
)

func TestCacheControlSemicolon(t *testing.T) {
	rs := res(200, "Cache-Control", "private; must-revalidate", "Last-Modified", httpDate(-100*time.Hour))
	if pol.Storable(get(), rs) {
		t.Errorf("Storable(Cache-Control %q) = true; want false", rs.Header.Get("Cache-Control"))
	}
}
