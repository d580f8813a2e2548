package cache_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// TestOuterVaryKeptOnHit: a middleware in front of the cache (CORS)
// sets Vary: Origin before calling it. On a miss the client gets both the
// middleware's Vary and the origin's; on a hit the stored Vary replaces the
// middleware's, so a browser or CDN in front sees no Vary: Origin and may
// give one origin's CORS answer to another.
func TestOuterVaryKeptOnHit(t *testing.T) {
	c := newHandler(t, cache.Config{Store: newMapStore()})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Encoding")
		io.WriteString(w, "body")
	})
	cors := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Vary", "Origin")
			w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			next.ServeHTTP(w, r)
		})
	}
	h := cors(c.Middleware(app))
	for i, want := range []string{"fwd=uri-miss", "hit"} {
		rec := serve(h, getURL("http://api.example/r", "Origin", "https://a.example"))
		if !strings.Contains(cacheStatus(rec), want) {
			t.Fatalf("request %d Cache-Status = %q; want %s", i+1, cacheStatus(rec), want)
		}
		vary := strings.Join(rec.Result().Header.Values("Vary"), ", ")
		if !strings.Contains(vary, "Origin") {
			t.Errorf("request %d (%s): Vary = %q; want it to keep the Origin the middleware in front set", i+1, want, vary)
		}
	}
}

// TestUpgradeHeaderStillStored: the agreed behaviour bypasses the
// lookup of a request with Upgrade but still stores its response (and says
// fwd=bypass). Serve passes such requests straight to next instead: a
// client that offers "Upgrade: h2c" on every request (curl --http2 over
// http) never gets a Cache-Status, and what the origin answers it (a plain
// 200, no switch) is never stored.
func TestUpgradeHeaderStillStored(t *testing.T) {
	c := newHandler(t, cache.Config{Store: newMapStore()})
	app, calls := counted(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "body")
	})
	h := c.Middleware(app)
	rec := serve(h, getURL("http://api.example/r", "Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAAQCAAAAAAIAAAAA"))
	if cs := cacheStatus(rec); !strings.Contains(cs, "fwd=bypass") {
		t.Errorf("GET with Upgrade: h2c answered 200: Cache-Status = %q; want fwd=bypass", cs)
	}
	rec = serve(h, getURL("http://api.example/r"))
	check(t, "GET after it", rec, 200, "body", "gateway; hit")
	if n := calls.Load(); n != 1 {
		t.Errorf("origin requests = %d; want 1", n)
	}
}

// TestRevalidateEachVariant: stale-while-revalidate refreshes one
// key at a time, but the revalidating set is keyed by the primary key, so
// while one variant is being refreshed a stale hit on another variant
// starts none: that variant stays stale until a later hit after the first
// revalidation ends.
func TestRevalidateEachVariant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newHandler(t, cache.Config{Store: newMapStore()})
		app, calls := counted(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=1, stale-while-revalidate=60")
			w.Header().Set("Vary", "Accept-Language")
			w.Header().Set("ETag", `"`+r.Header.Get("Accept-Language")+`"`)
			if r.Header.Get("If-None-Match") != "" {
				time.Sleep(10 * time.Second) // a slow validation
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, r.Header.Get("Accept-Language"))
		})
		h := c.Middleware(app)
		for _, lang := range []string{"en", "fr"} {
			serve(h, getURL("http://api.example/r", "Accept-Language", lang))
		}
		time.Sleep(2 * time.Second)
		for _, lang := range []string{"en", "fr"} {
			rec := serve(h, getURL("http://api.example/r", "Accept-Language", lang))
			check(t, "stale GET "+lang, rec, 200, lang, "")
		}
		synctest.Wait()
		if n := calls.Load(); n != 4 {
			t.Errorf("origin requests = %d after a stale hit on each of two variants; want 4 (two stores, two background validations)", n)
		}
		time.Sleep(time.Minute)
	})
}
