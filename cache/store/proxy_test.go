package store_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache/store"
	"github.com/vivremotion/gateway/internal/redistest"
)

// TestProxyReplicasShareRedis runs two Proxies, as two gateway replicas
// with clients of their own, on one Redis store prefix: a response the
// first stores is served by the second without asking the origin, until
// it is purged by tag.
func TestProxyReplicasShareRedis(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Cache-Tag", "greetings")
		io.WriteString(w, "hello")
	}))
	defer origin.Close()
	addr, prefix := redistest.Addr(t), redistest.Prefix(t)
	var replicas [2]*gateway.Proxy
	var stores [2]*store.Redis
	for i := range replicas {
		stores[i] = newRedis(t, store.RedisConfig{Client: client(t, addr), Prefix: prefix})
		replicas[i] = &gateway.Proxy{Upstreams: balancer.MustPool(origin.URL), Cache: stores[i]}
	}
	get := func(p *gateway.Proxy) {
		t.Helper()
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://api.example/greeting", nil))
		if w.Code != 200 || w.Body.String() != "hello" {
			t.Fatalf("GET = %d %q; want 200 hello", w.Code, w.Body)
		}
	}
	get(replicas[0])
	get(replicas[1])
	if n := calls.Load(); n != 1 {
		t.Errorf("origin calls after a GET on each replica = %d; want 1", n)
	}
	if n, err := stores[1].PurgeTag(t.Context(), "greetings"); n != 1 || err != nil {
		t.Errorf("PurgeTag = %d, %v; want 1, nil", n, err)
	}
	get(replicas[0])
	if n := calls.Load(); n != 2 {
		t.Errorf("origin calls after the purge and a GET = %d; want 2", n)
	}
}
