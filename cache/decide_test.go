package cache_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// TestDecideLegacyEntry checks that an Entry made without the inputs of
// RFC 9111 4.2.3 (as the Proxy makes them today: Stored and Expires only)
// is still decided on by its Expires.
func TestDecideLegacyEntry(t *testing.T) {
	e := &cache.Entry{Status: 200, Header: http.Header{"Age": {"5"}}, Stored: t0, Expires: t0.Add(time.Minute)}
	steps := []struct {
		at      time.Duration
		want    cache.Action
		wantAge time.Duration
		wantTTL time.Duration
	}{
		{0, cache.Fresh, 5 * time.Second, time.Minute},
		{59 * time.Second, cache.Fresh, 64 * time.Second, time.Second},
		{time.Minute, cache.MustValidate, 65 * time.Second, 0},
	}
	for _, s := range steps {
		d := pol.Decide(get(), e, t0.Add(s.at))
		if d.Action != s.want || d.Age != s.wantAge || d.TTL != s.wantTTL {
			t.Errorf("Decide(t0+%v) = %v, age %v, ttl %v; want %v, age %v, ttl %v", s.at, d.Action, d.Age, d.TTL, s.want, s.wantAge, s.wantTTL)
		}
	}
}
