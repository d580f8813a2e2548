package gateway_test

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache/store"
)

// TestProxyCacheForwardedProto: behind a trusted TLS terminator the
// Proxy forwards the front's X-Forwarded-Proto, and origins answer by it
// (redirect http to https), but the cache key has "http" for both: the
// redirect stored for a plain-http client is served to https clients, who
// then loop on it.
func TestProxyCacheForwardedProto(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := store.NewMemory(store.MemoryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		tr := &ccTransport{origin: func(_ int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=3600")
			if r.Header.Get("X-Forwarded-Proto") != "https" {
				w.Header().Set("Location", "https://api.example/r")
				w.WriteHeader(http.StatusMovedPermanently)
				return
			}
			io.WriteString(w, "secure")
		}}
		p := &gateway.Proxy{
			Upstreams:      balancer.MustPool("http://origin.test"),
			Cache:          st,
			Transport:      tr,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
			Logger:         slog.New(slog.DiscardHandler),
		}
		for i, tc := range []struct {
			proto string
			want  int
		}{{"http", http.StatusMovedPermanently}, {"https", http.StatusOK}} {
			r := httptest.NewRequest(http.MethodGet, "http://api.example/r", nil) // RemoteAddr 192.0.2.1
			r.Header.Set("X-Forwarded-Proto", tc.proto)
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, r)
			if rec.Code != tc.want {
				t.Errorf("request %d (X-Forwarded-Proto: %s) = %d (Cache-Status %q); want %d", i+1, tc.proto, rec.Code, rec.Header().Get("Cache-Status"), tc.want)
			}
		}
	})
}

// TestProxyCacheStreamFlushes: an event stream goes through a cached
// Proxy as it comes: each client gets the first event while the origin is
// still sending, also when the stream carries freshness (so the cache keeps
// it while it fits MaxBody) and another client asks for it meanwhile.
func TestProxyCacheStreamFlushes(t *testing.T) {
	for _, cc := range []string{"no-cache", "max-age=60"} {
		t.Run(cc, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			done := func() { once.Do(func() { close(release) }) }
			defer done()
			origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Header().Set("Cache-Control", cc)
				io.WriteString(w, "data: 1\n\n")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			defer origin.Close()
			st, err := store.NewMemory(store.MemoryConfig{})
			if err != nil {
				t.Fatal(err)
			}
			p := &gateway.Proxy{Upstreams: balancer.MustPool(origin.URL), Cache: st, Logger: slog.New(slog.DiscardHandler)}
			front := httptest.NewServer(p)
			defer front.Close()
			defer p.CloseIdleConnections()

			var open sync.WaitGroup // the clients' streams, kept open to the end
			defer open.Wait()
			defer done() // first: the origin and the clients end, then the servers close
			first := func(name string) {
				t.Helper()
				got := make(chan string, 1)
				open.Go(func() {
					res, err := http.Get(front.URL + "/events")
					if err != nil {
						got <- err.Error()
						return
					}
					defer res.Body.Close()
					line, _ := bufio.NewReader(res.Body).ReadString('\n')
					got <- strings.TrimSpace(line)
					<-release
				})
				start := time.Now()
				select {
				case line := <-got:
					if line != "data: 1" {
						t.Errorf("%s: first line %q; want %q", name, line, "data: 1")
					}
					if d := time.Since(start); d > time.Second {
						t.Errorf("%s: first event after %v; want it at once", name, d.Round(time.Millisecond))
					}
				case <-time.After(3 * time.Second):
					t.Errorf("%s: no event within 3s while the origin streams", name)
				}
			}
			first("client 1")
			first("client 2, while client 1's stream is open")
		})
	}
}
