package cache_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// typicalCC is a typical response Cache-Control.
var typicalCC = []string{"public, max-age=300, s-maxage=600, stale-while-revalidate=30, stale-if-error=86400"}

// hotPath returns a request and the fresh entry that answers it, varying
// on Accept-Encoding.
func hotPath() (*http.Request, *cache.Entry) {
	rq := get("Accept-Encoding", "gzip, br", "Accept", "*/*", "If-None-Match", `"v0", "v1"`)
	e := store(pol, rq, res(200, "Cache-Control", typicalCC[0], "Vary", "Accept-Encoding", "Etag", `"v1"`))
	return rq, e
}

// BenchmarkParseCacheControl measures parsing a typical response
// Cache-Control.
func BenchmarkParseCacheControl(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = cache.ParseCacheControl(typicalCC)
	}
}

// BenchmarkDecideFresh measures the decision for a GET that a fresh,
// varying entry answers: request and response directives parsed, Vary
// matched, age computed.
func BenchmarkDecideFresh(b *testing.B) {
	rq, e := hotPath()
	now := t0.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		if pol.Decide(rq, e, now).Action != cache.Fresh {
			b.Fatal("not fresh")
		}
	}
}

// BenchmarkDecideFreshParallel is BenchmarkDecideFresh on one entry shared
// by all goroutines, as a store shares it.
func BenchmarkDecideFreshParallel(b *testing.B) {
	_, e := hotPath()
	now := t0.Add(time.Second)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rq := get("Accept-Encoding", "gzip, br", "Accept", "*/*")
		for pb.Next() {
			if pol.Decide(rq, e, now).Action != cache.Fresh {
				b.Error("not fresh")
				return
			}
		}
	})
}

// BenchmarkMatches measures Vary matching of a request against an entry
// that varies on two fields.
func BenchmarkMatches(b *testing.B) {
	rq := get("Accept-Encoding", "gzip, br", "Accept-Language", "fr, en;q=0.5")
	e := store(pol, rq, res(200, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding, Accept-Language"))
	b.ReportAllocs()
	for b.Loop() {
		if !e.Matches(rq) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkStatusAppend measures writing a Cache-Status member into a
// reused buffer.
func BenchmarkStatusAppend(b *testing.B) {
	s := cache.Status{Cache: "gateway", Hit: true, TTL: 42 * time.Second, HasTTL: true}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Append(buf[:0])
	}
}

func TestHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	rq, e := hotPath()
	now := t0.Add(time.Second)
	s := cache.Status{Cache: "gateway", Hit: true, Fwd: cache.FwdStale, TTL: 42 * time.Second, HasTTL: true}
	buf := make([]byte, 0, 64)
	reqCC := []string{"max-age=100, min-fresh=5"}
	quoted := cache.Status{Cache: "my cache", Hit: true, TTL: -1500 * time.Millisecond, HasTTL: true}
	cdn := cache.Policy{CDNCacheControl: true}
	swrEntry := store(cdn, get(), res(200, "Cache-Control", "max-age=60, stale-while-revalidate=30", "Cdn-Cache-Control", "max-age=5; stale-while-revalidate=300", "Expires", httpDate(time.Hour)))
	swrReq := get("Cache-Control", "max-stale=10; min-fresh=1", "If-None-Match", `"a", W/"b"`)
	tests := []struct {
		name string
		f    func()
	}{
		{"ParseCacheControl", func() { _ = cache.ParseCacheControl(typicalCC) }},
		{"Decide", func() { _ = pol.Decide(rq, e, now) }},
		{"Decide with request directives", func() {
			rq.Header["Cache-Control"] = reqCC
			_ = pol.Decide(rq, e, now)
			delete(rq.Header, "Cache-Control")
		}},
		{"Matches", func() { _ = e.Matches(rq) }},
		{"NotModified", func() { _ = cache.NotModified(rq, e) }},
		{"Status.Append", func() { buf = s.Append(buf[:0]) }},
		{"Status.Append quoted name", func() { buf = quoted.Append(buf[:0]) }},
		{"Decide stale, CDN-Cache-Control, request limits", func() {
			_ = cdn.Decide(swrReq, swrEntry, t0.Add(90*time.Second))
		}},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.f); got != 0 {
			t.Errorf("%s: AllocsPerRun = %v; want 0", tt.name, got)
		}
	}
}
