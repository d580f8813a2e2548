package cache_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// TestFollowerDeadline: a request waiting for a concurrent miss
// whose context ends (a deadline set by a middleware before the cache, or
// the server's) is not answered with an empty 200 as if it had succeeded:
// it gets what next answers for a request whose context is done, or an
// error status.
func TestFollowerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := cache.New(cache.Config{Store: newMapStore()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		release := make(chan struct{})
		var calls atomic.Int32
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				<-release // the leader's origin is slow
			}
			if r.Context().Err() != nil {
				http.Error(w, "deadline exceeded", http.StatusGatewayTimeout)
				return
			}
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "body")
		})
		// A deadline middleware in front of the cache, as a gateway has.
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), time.Second)
			defer cancel()
			c.Serve(w, r.WithContext(ctx), origin)
		})
		go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://example.com/slow", nil))
		synctest.Wait()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://example.com/slow", nil))
		if cs := rec.Header().Get("Cache-Status"); rec.Code != http.StatusGatewayTimeout || cs != "gateway; fwd=uri-miss; detail=coalesce-wait" || calls.Load() != 1 {
			t.Errorf("a follower whose deadline passed while waiting = %d %q, Cache-Status %q, origin calls %d; want 504 from the cache, no trip to the origin",
				rec.Code, rec.Body, cs, calls.Load())
		}
		close(release)
		synctest.Wait()
	})
}

// TestEncodedPathHitAllocs: a hit on a target whose path keeps an
// escaped form of its own (an escaped slash, common in object keys and
// package names: /files/a%2Fb) allocates nothing, as any other hit.
func TestEncodedPathHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	c := newHandler(t, cache.Config{Store: newMemory(t)})
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, "body")
	}))
	r := httptest.NewRequest(http.MethodGet, "http://api.example/files/a%2Fb", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	w := &reusedWriter{h: make(http.Header)}
	allocs := testing.AllocsPerRun(200, func() {
		w.reset()
		h.ServeHTTP(w, r)
	})
	if allocs != 0 || w.h.Get("Cache-Status") != "gateway; hit" {
		t.Errorf("a hit on /files/a%%2Fb allocates %v times (Cache-Status %q); want 0 and a hit", allocs, w.h.Get("Cache-Status"))
	}
}
