package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
	"github.com/vivremotion/gateway/ratelimit"
)

// memTransport answers every request with the same in-memory response, so
// that a benchmark measures the proxy's own work and nothing of the network.
// Like net/http's transports, it tells an httptrace.ClientTrace when it has
// written the request. Fields of header are added to each response; calls
// counts the requests.
type memTransport struct {
	body   []byte
	header http.Header
	calls  atomic.Int64
}

func (t *memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.calls.Add(1)
	h := http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(t.body))}}
	for k, vs := range t.header {
		h[k] = vs
	}
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if trace := httptrace.ContextClientTrace(r.Context()); trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		ContentLength: int64(len(t.body)),
		Body:          io.NopCloser(bytes.NewReader(t.body)),
		Request:       r,
	}, nil
}

// discardWriter is a ResponseWriter that keeps nothing, reused across
// iterations so that only the proxy's allocations are counted.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) reset()                      { clear(w.h) }

func benchRequest() *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://gateway.test/v1/users/42?fields=name", nil)
	r.RemoteAddr = "192.0.2.10:51234"
	r.RequestURI = "/v1/users/42?fields=name"
	r.Header.Set("User-Agent", "bench")
	r.Header.Set("Accept", "application/json")
	return r
}

// BenchmarkProxyServeHTTP measures one forwarded GET with a 1 KiB answer
// over an in-memory transport: Proxy against httputil.ReverseProxy set up to
// do the same work (SetURL, SetXForwarded, a buffer pool).
func BenchmarkProxyServeHTTP(b *testing.B) {
	tr := &memTransport{body: bytes.Repeat([]byte("x"), 1024)}
	target, _ := url.Parse("http://10.0.0.1:8080")
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"Proxy", &gateway.Proxy{Upstreams: balancer.MustPool(target.String()), Transport: tr}},
		{"ReverseProxy", &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.SetXForwarded()
			},
			Transport:  tr,
			BufferPool: &bufPool{},
		}},
	}
	for _, h := range handlers {
		b.Run(h.name, func(b *testing.B) {
			r := benchRequest()
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				h.h.ServeHTTP(w, r)
			}
		})
	}
}

type bufPool struct{ free [][]byte }

func (p *bufPool) Get() []byte {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return make([]byte, 32<<10)
}
func (p *bufPool) Put(b []byte) { p.free = append(p.free, b) }

// TestProxyServeAllocs guards the Proxy's allocations per forwarded GET over
// the in-memory transport: at most 10 (of which the transport's response
// makes 8 and the outbound request's context 2), and fewer than half of what
// httputil.ReverseProxy makes for the same work.
func TestProxyServeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers at random")
	}
	tr := &memTransport{body: bytes.Repeat([]byte("x"), 1024)}
	target, _ := url.Parse("http://10.0.0.1:8080")
	measure := func(h http.Handler) float64 {
		r := benchRequest()
		w := &discardWriter{h: http.Header{}}
		return testing.AllocsPerRun(200, func() {
			w.reset()
			h.ServeHTTP(w, r)
		})
	}
	proxy := measure(&gateway.Proxy{Upstreams: balancer.MustPool(target.String()), Transport: tr})
	rp := measure(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport:  tr,
		BufferPool: &bufPool{},
	})
	if proxy > 10 {
		t.Errorf("Proxy.ServeHTTP allocates %v times per request; want at most 10", proxy)
	}
	if 2*proxy >= rp {
		t.Errorf("Proxy.ServeHTTP allocates %v times per request, ReverseProxy %v; want fewer than half", proxy, rp)
	}
}

// TestProxyPoliciesAllocs guards what the policies of package breaker and
// package ratelimit add to a forwarded request: nothing, with a circuit of
// one upstream in three open, so that the Balancer is offered the others.
func TestProxyPoliciesAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers at random")
	}
	tr := &memTransport{body: bytes.Repeat([]byte("x"), 1024)}
	pool := balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080")
	ub := breaker.NewPerUpstream(breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour})
	bad := pool.All()[0]
	ticket, _ := ub.Allow(bad)
	ub.Done(bad, ticket, gateway.Outcome{Class: balancer.ServerError})
	lim, err := ratelimit.NewGCRA(ratelimit.PerSecond(1e9), ratelimit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	measure := func(p *gateway.Proxy) float64 {
		r := benchRequest()
		w := &discardWriter{h: http.Header{}}
		return testing.AllocsPerRun(300, func() {
			w.reset()
			p.ServeHTTP(w, r)
		})
	}
	base := measure(&gateway.Proxy{Upstreams: pool, Transport: tr})
	with := measure(&gateway.Proxy{Upstreams: pool, Transport: tr,
		Breaker: breaker.New(breaker.Settings{}), UpstreamBreaker: ub, Limiter: lim})
	if with > base {
		t.Errorf("Proxy.ServeHTTP with a breaker, per-upstream breakers (one open) and a limiter allocates %v times per request; want %v, as without", with, base)
	}
	if !ub.Open(bad) {
		t.Errorf("the failing upstream's circuit closed during the test")
	}
}
