package cache_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestStaleIfErrorFollowers: while the origin fails, requests that wait
// for the same key's revalidation are served the stale response the
// leader served, under stale-if-error, and do not ask the failing origin
// again.
func TestStaleIfErrorFollowers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int32
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.Header().Set("Cache-Control", "max-age=1, stale-if-error=60")
				w.Header().Set("Etag", `"v1"`)
				io.WriteString(w, "stale but fine")
				return
			}
			<-release
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "down")
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		serve(h, get())
		time.Sleep(5 * time.Second)
		recs := make([]*httptest.ResponseRecorder, 4)
		done := make(chan struct{})
		for i := range recs {
			go func() {
				recs[i] = serve(h, get())
				done <- struct{}{}
			}()
			synctest.Wait() // the first leads; the others wait on it
		}
		close(release)
		for range recs {
			<-done
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("origin calls = %d; want 2 (the first GET, one revalidation)", n)
		}
		collapsed := 0
		for i, rec := range recs {
			cs := cacheStatus(rec)
			if rec.Code != 200 || rec.Body.String() != "stale but fine" || !strings.Contains(cs, "fwd=stale; fwd-status=503") {
				t.Errorf("request %d = %d %q, Cache-Status %q; want the stale 200 after a 503", i, rec.Code, rec.Body, cs)
			}
			if strings.Contains(cs, "collapsed") {
				collapsed++
			}
		}
		if collapsed != len(recs)-1 {
			t.Errorf("%d responses collapsed; want %d", collapsed, len(recs)-1)
		}
	})
}

// TestNotModifiedWithoutValidator: a 304 that repeats no validator, to a
// request the cache made conditional on an entry with only Last-Modified,
// refreshes that entry: the origin is asked once, not a second time
// unconditionally.
func TestNotModifiedWithoutValidator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lastModified := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
		origin, calls := counted(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-Modified-Since") == lastModified {
				w.Header().Set("Cache-Control", "max-age=10")
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("Last-Modified", lastModified)
			io.WriteString(w, "page")
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		serve(h, get())
		time.Sleep(20 * time.Second)
		check(t, "stale GET", serve(h, get()), 200, "page", "gateway; fwd=stale; fwd-status=304; stored; ttl=10")
		check(t, "GET after the 304", serve(h, get()), 200, "page", "gateway; hit")
		if n := calls.Load(); n != 2 {
			t.Errorf("origin calls = %d; want 2", n)
		}
	})
}
