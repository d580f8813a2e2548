package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache/store"
)

// blockingTransport answers with a stale-while-revalidate response, and
// holds every request after the first until its context ends.
type blockingTransport struct{ calls atomic.Int32 }

func (t *blockingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.calls.Add(1) > 1 {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	body := []byte("v1")
	return &http.Response{
		StatusCode:    200,
		Header:        http.Header{"Cache-Control": {"max-age=1, stale-while-revalidate=600"}, "Etag": {`"v1"`}, "Content-Length": {strconv.Itoa(len(body))}},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(bytes.NewReader(body)),
		Request:       r,
	}, nil
}

// TestProxyClose: Close ends the background revalidation the Proxy's
// cache started, and returns once it has ended; after it, stale hits are
// still served, and start no revalidation.
func TestProxyClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := store.NewMemory(store.MemoryConfig{})
		tr := &blockingTransport{}
		p := &gateway.Proxy{Upstreams: balancer.MustPool("http://10.0.0.1"), Transport: tr, Cache: m, Logger: discardLog}
		get := func() string {
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, httptest.NewRequest("GET", "http://api.example/r", nil))
			return rec.Body.String()
		}
		get()
		time.Sleep(2 * time.Second)
		if body := get(); body != "v1" {
			t.Fatalf("stale hit = %q; want v1 at once", body)
		}
		synctest.Wait() // the revalidation is held in the transport
		if n := tr.calls.Load(); n != 2 {
			t.Fatalf("transport calls = %d; want 2 (the revalidation in flight)", n)
		}
		p.Close() // cancels it and waits: a leaked goroutine fails synctest
		if body := get(); body != "v1" || tr.calls.Load() != 2 {
			t.Errorf("after Close: body %q, transport calls %d; want v1 served stale, no new revalidation", body, tr.calls.Load())
		}
	})
}
