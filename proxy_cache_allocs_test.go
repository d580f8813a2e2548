package gateway_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache/store"
)

// cachedTransport answers every request with a 1 KiB body that may be
// stored for an hour.
func cachedTransport() *memTransport {
	return &memTransport{body: bytes.Repeat([]byte("x"), 1024), header: http.Header{"Cache-Control": {"public, max-age=3600"}}}
}

// cachedProxy returns a Proxy with a Memory cache over tr.
func cachedProxy(tb testing.TB, tr http.RoundTripper) *gateway.Proxy {
	tb.Helper()
	m, err := store.NewMemory(store.MemoryConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	return &gateway.Proxy{Upstreams: balancer.MustPool("http://10.0.0.1:8080"), Transport: tr, Cache: m}
}

// BenchmarkProxyCacheHit measures a GET the Proxy answers from its cache:
// a fresh 1 KiB entry in a Memory store.
func BenchmarkProxyCacheHit(b *testing.B) {
	p := cachedProxy(b, cachedTransport())
	r := benchRequest()
	w := &discardWriter{h: http.Header{}}
	p.ServeHTTP(w, r) // stores it
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		p.ServeHTTP(w, r)
	}
}

// TestProxyCacheHitAllocs guards a cache hit through the Proxy: no
// allocation beyond the header map net/http makes for each response, and
// the origin asked once.
func TestProxyCacheHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	tr := cachedTransport()
	p := cachedProxy(t, tr)
	r := benchRequest()
	w := &discardWriter{h: http.Header{}}
	p.ServeHTTP(w, r)
	allocs := testing.AllocsPerRun(200, func() {
		w.reset()
		p.ServeHTTP(w, r)
	})
	if allocs != 0 {
		t.Errorf("a cache hit through the Proxy allocates %v times; want 0", allocs)
	}
	if got := w.h.Get("Cache-Status"); got != "gateway; hit" {
		t.Errorf("Cache-Status = %q; want a hit", got)
	}
	if n := tr.calls.Load(); n != 1 {
		t.Errorf("origin calls = %d; want 1", n)
	}
}

// BenchmarkProxyCacheMissUncacheable measures what the cache adds to a
// request it cannot serve: a response without freshness or validators,
// looked up, forwarded and not stored. Compare BenchmarkProxyServeHTTP.
func BenchmarkProxyCacheMissUncacheable(b *testing.B) {
	p := cachedProxy(b, &memTransport{body: bytes.Repeat([]byte("x"), 1024)})
	r := benchRequest()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		p.ServeHTTP(w, r)
	}
}

// TestProxyCacheMissAllocs guards what the cache adds to a request it
// cannot serve (no freshness, no validator): at most 8 allocations (the
// exchange and its header map, the flight other misses would wait on, the
// key, the Cache-Status value), and no copy of the response.
func TestProxyCacheMissAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	measure := func(p *gateway.Proxy) float64 {
		r := benchRequest()
		w := &discardWriter{h: http.Header{}}
		return testing.AllocsPerRun(200, func() {
			w.reset()
			p.ServeHTTP(w, r)
		})
	}
	body := bytes.Repeat([]byte("x"), 1024)
	plain := measure(&gateway.Proxy{Upstreams: balancer.MustPool("http://10.0.0.1:8080"), Transport: &memTransport{body: body}})
	cached := measure(cachedProxy(t, &memTransport{body: body}))
	if cached-plain > 8 {
		t.Errorf("an uncacheable request allocates %v times through a cached Proxy, %v without the cache; want at most 8 more", cached, plain)
	}
}
