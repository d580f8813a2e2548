package cache_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
	cachestore "github.com/vivremotion/gateway/cache/store"
)

// reusedWriter is a ResponseWriter whose header map is cleared and reused
// between responses, so that a measurement counts the cache's allocations
// alone: net/http gives each response a new map, an allocation of its own.
type reusedWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *reusedWriter) Header() http.Header         { return w.h }
func (w *reusedWriter) WriteHeader(code int)        { w.status = code }
func (w *reusedWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *reusedWriter) reset()                      { clear(w.h); w.status, w.n = 0, 0 }

// hitSetup returns a Handler in front of an origin that answers 1 KiB
// bodies, fresh for an hour, varying on Accept-Encoding when vary is set,
// and a request whose response it has stored.
func hitSetup(tb testing.TB, vary bool) (http.Handler, *http.Request) {
	tb.Helper()
	m, err := cachestore.NewMemory(cachestore.MemoryConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cache.New(cache.Config{Store: m})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	body := strings.Repeat("x", 1024)
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Etag", `"v1"`)
		if vary {
			w.Header().Set("Vary", "Accept-Encoding")
		}
		w.Write([]byte(body))
	})
	h := c.Middleware(origin)
	r := httptest.NewRequest(http.MethodGet, "http://api.example/items?page=2", nil)
	r.Header.Set("Accept-Encoding", "gzip, br")
	h.ServeHTTP(httptest.NewRecorder(), r)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if got := rec.Header().Get("Cache-Status"); got != "gateway; hit" {
		tb.Fatalf("second GET Cache-Status = %q; want a hit", got)
	}
	return h, r
}

// BenchmarkHandlerHit measures serving a fresh 1 KiB hit from a Memory
// store, header map reused: lookup, Decide, header copy, body write.
func BenchmarkHandlerHit(b *testing.B) {
	for _, vary := range []bool{false, true} {
		name := "plain"
		if vary {
			name = "vary"
		}
		b.Run(name, func(b *testing.B) {
			h, r := hitSetup(b, vary)
			w := &reusedWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, r)
			}
			if w.status != 200 || w.n != 1024 {
				b.Fatalf("hit = %d, %d bytes", w.status, w.n)
			}
		})
	}
}

// BenchmarkHandlerHitParallel is BenchmarkHandlerHit from all CPUs on one
// key.
func BenchmarkHandlerHitParallel(b *testing.B) {
	h, r := hitSetup(b, false)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &reusedWriter{h: make(http.Header)}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
		}
	})
}

// TestHandlerHitAllocs guards the hit path: serving a fresh entry, plain
// or one variant among others, allocates nothing beyond the response's
// header map, which net/http makes for each response.
func TestHandlerHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	for _, vary := range []bool{false, true} {
		h, r := hitSetup(t, vary)
		w := &reusedWriter{h: make(http.Header)}
		allocs := testing.AllocsPerRun(200, func() {
			w.reset()
			h.ServeHTTP(w, r)
		})
		if allocs != 0 || w.status != 200 {
			t.Errorf("vary %v: a hit allocates %v times (status %d); want 0", vary, allocs, w.status)
		}
	}
}

// TestHandlerHitAgeAllocs: the Age of an entry under 1024 seconds old
// costs no allocation; an older one costs two (the value and its slice).
func TestHandlerHitAgeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	m, _ := cachestore.NewMemory(cachestore.MemoryConfig{})
	c, _ := cache.New(cache.Config{Store: m})
	defer c.Close()
	now := time.Now()
	r := httptest.NewRequest(http.MethodGet, "http://api.example/old", nil)
	for _, tt := range []struct {
		age  time.Duration
		want float64
	}{{1023 * time.Second, 0}, {1024 * time.Second, 2}} {
		m.Set(t.Context(), cache.Key(r), &cache.Entry{
			Status: 200, Header: http.Header{"Cache-Control": {"max-age=86400"}}, Body: []byte("b"),
			RequestTime: now.Add(-tt.age), Stored: now.Add(-tt.age), Date: now.Add(-tt.age),
			Lifetime: 24 * time.Hour, Expires: now.Add(24*time.Hour - tt.age),
		})
		w := &reusedWriter{h: make(http.Header)}
		h := c.Middleware(http.NotFoundHandler())
		allocs := testing.AllocsPerRun(100, func() {
			w.reset()
			h.ServeHTTP(w, r)
		})
		if allocs != tt.want || w.status != 200 {
			t.Errorf("age %v: a hit allocates %v times (status %d); want %v", tt.age, allocs, w.status, tt.want)
		}
	}
}
