package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache/store"
)

// chunkedTransport answers with a cacheable body of unknown length (an
// origin that sends it chunked, as most do for large or generated
// bodies); the first response's body waits for release.
type chunkedTransport struct {
	calls   atomic.Int32
	release chan struct{}
}

type gatedReader struct {
	gate <-chan struct{}
	r    io.Reader
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.gate != nil {
		<-g.gate
		g.gate = nil
	}
	return g.r.Read(p)
}

func (t *chunkedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var gate <-chan struct{}
	if t.calls.Add(1) == 1 {
		gate = t.release
	}
	return &http.Response{
		StatusCode: http.StatusOK, ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"public, max-age=60"}},
		ContentLength: -1,
		Body:          io.NopCloser(&gatedReader{gate: gate, r: strings.NewReader(`{"big":"report"}`)}),
		Request:       r,
	}, nil
}

// TestProxyCacheCoalesceUnknownLength: concurrent misses of a
// cacheable response of unknown length are coalesced through the Proxy as
// they are for one with a Content-Length: the origin is asked once. The
// Proxy flushes the head of every response of unknown length at once, and
// the cache takes any flush for a stream and lets the waiting requests go,
// so every chunked response (most large ones) is fetched by each of them.
func TestProxyCacheCoalesceUnknownLength(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, err := store.NewMemory(store.MemoryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		tr := &chunkedTransport{release: make(chan struct{})}
		p := &gateway.Proxy{Upstreams: balancer.MustPool("http://10.0.0.1:8080"), Transport: tr, Cache: m}
		defer p.Close()
		req := func() *http.Request { return httptest.NewRequest("GET", "http://gateway.test/report", nil) }
		recs := [2]*httptest.ResponseRecorder{httptest.NewRecorder(), httptest.NewRecorder()}
		done := make(chan struct{}, 2)
		go func() { p.ServeHTTP(recs[0], req()); done <- struct{}{} }()
		synctest.Wait() // the leader has the head and waits for the body
		go func() { p.ServeHTTP(recs[1], req()); done <- struct{}{} }()
		synctest.Wait()
		close(tr.release)
		<-done
		<-done
		for i, rec := range recs {
			if rec.Code != http.StatusOK || rec.Body.String() != `{"big":"report"}` {
				t.Errorf("request %d = %d %q; want 200 and the body", i, rec.Code, rec.Body)
			}
		}
		if n := tr.calls.Load(); n != 1 {
			t.Errorf("origin asked %d times for two concurrent misses of a cacheable chunked response; want 1 (Cache-Status of the second: %q)",
				n, recs[1].Header().Get("Cache-Status"))
		}
	})
}
