package cache_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/cache"
	cachestore "github.com/vivremotion/gateway/cache/store"
)

// TestCoalesceWait: a request that waits for a concurrent miss of the same
// key goes forward itself after CoalesceWait, so that a leader stuck on a
// slow client or origin holds the others up for that long at most; with a
// negative CoalesceWait nobody waits.
func TestCoalesceWait(t *testing.T) {
	for _, tt := range []struct {
		wait     time.Duration
		wantWait time.Duration // how long the second request waited
	}{
		{0, 5 * time.Second},
		{time.Second, time.Second},
		{-1, 0},
	} {
		synctest.Test(t, func(t *testing.T) {
			m, _ := cachestore.NewMemory(cachestore.MemoryConfig{})
			c, err := cache.New(cache.Config{Store: m, CoalesceWait: tt.wait})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			release := make(chan struct{})
			var calls atomic.Int32
			h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				if calls.Add(1) == 1 {
					<-release // the leader is stuck
				}
				io.WriteString(w, "body")
			}))
			go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://example.com/slow", nil))
			synctest.Wait() // the leader is in the origin
			start := time.Now()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "http://example.com/slow", nil))
			if waited := time.Since(start); waited != tt.wantWait || rec.Body.String() != "body" || calls.Load() != 2 {
				t.Errorf("CoalesceWait %v: second request answered %q after %v, origin calls %d; want body after %v, 2 calls",
					tt.wait, rec.Body, waited, calls.Load(), tt.wantWait)
			}
			close(release)
			synctest.Wait()
		})
	}
}
