package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
)

// shadowHit is what a shadow upstream saw of a copied request.
type shadowHit struct {
	method, path, query, header, xff string
	n                                int64
	sha                              string
}

// newShadow starts a shadow upstream that reports each request it gets.
func newShadow(t *testing.T) (string, <-chan shadowHit) {
	t.Helper()
	hits := make(chan shadowHit, 16)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		hits <- shadowHit{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Test"), r.Header.Get("X-Forwarded-For"), n, hex.EncodeToString(h.Sum(nil))}
		io.WriteString(w, "shadow")
	})
	return up.URL, hits
}

// TestProxyMirrorCopies shows that the shadow gets the method, path, query,
// headers and body of the request, with X-Forwarded-For set as the primary
// gets it, and the client the primary's answer.
func TestProxyMirrorCopies(t *testing.T) {
	shadow, hits := newShadow(t)
	p := proxyTo(t, newUpstream(t, okHandler).URL)
	p.Mirror = &gateway.Mirror{Upstreams: balancer.MustPool(shadow)}
	f := newFront(t, p)
	for _, tc := range []struct {
		method string
		body   []byte
	}{
		{"GET", nil},
		{"POST", bytes.Repeat([]byte("b"), 1<<10)},
		{"PUT", bytes.Repeat([]byte("c"), 64<<10)}, // MaxBodyBytes exactly
	} {
		t.Run(tc.method, func(t *testing.T) {
			ctx := boundedContext(t)
			req, _ := http.NewRequestWithContext(ctx, tc.method, f.URL+"/v1/items?q=1", bytes.NewReader(tc.body))
			req.Header.Set("X-Test", "mirrored")
			req.Header.Set("X-Forwarded-For", "192.0.2.66") // untrusted: dropped
			res, body := roundTrip(t, f.Client(), req)
			if res.StatusCode != http.StatusOK || string(body) != "ok" {
				t.Errorf("client got %d %q; want 200 %q", res.StatusCode, body, "ok")
			}
			sum := sha256.Sum256(tc.body)
			want := shadowHit{tc.method, "/v1/items", "q=1", "mirrored", "127.0.0.1", int64(len(tc.body)), hex.EncodeToString(sum[:])}
			if got := wait(t, ctx, hits, "the shadow's copy"); got != want {
				t.Errorf("shadow got %+v; want %+v", got, want)
			}
		})
	}
}

// TestProxyMirrorSkipsLargeBodies shows that a request whose body is over
// MaxBodyBytes, or of unknown length, is not copied, and reaches the
// primary whole.
func TestProxyMirrorSkipsLargeBodies(t *testing.T) {
	shadow, hits := newShadow(t)
	p := proxyTo(t, newUpstream(t, echo).URL)
	p.Mirror = &gateway.Mirror{Upstreams: balancer.MustPool(shadow), MaxBodyBytes: 1 << 10}
	f := newFront(t, p)
	ctx := boundedContext(t)

	for _, body := range []io.Reader{
		bytes.NewReader(bytes.Repeat([]byte("L"), 1<<10+1)),
		io.MultiReader(bytes.NewReader([]byte("unknown length"))),
	} {
		req, _ := http.NewRequestWithContext(ctx, "POST", f.URL+"/large", body)
		s := seenBy(t, f.Client(), req)
		if s.BodyLen == 0 {
			t.Errorf("primary got no body")
		}
		f.waitServed(t, 1)
	}
	// A small one is copied, and is the first copy the shadow gets.
	req, _ := http.NewRequestWithContext(ctx, "POST", f.URL+"/small", bytes.NewReader([]byte("small")))
	seenBy(t, f.Client(), req)
	if got := wait(t, ctx, hits, "the shadow's copy"); got.path != "/small" {
		t.Errorf("shadow got %s first; want /small", got.path)
	}
}

// TestProxyMirrorHangingShadow shows that a shadow that never answers
// neither slows the primary nor gets more than MaxConcurrent copies at once.
func TestProxyMirrorHangingShadow(t *testing.T) {
	const maxConcurrent = 4
	var inflight, peak atomic.Int64
	release := make(chan struct{})
	shadow := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // before the shadow closes
	p := proxyTo(t, newUpstream(t, okHandler).URL)
	p.Mirror = &gateway.Mirror{Upstreams: balancer.MustPool(shadow.URL), MaxConcurrent: maxConcurrent}
	f := newFront(t, p)
	ctx := boundedContext(t)

	var slowest time.Duration
	for range 10 * maxConcurrent {
		req, _ := http.NewRequestWithContext(ctx, "POST", f.URL, bytes.NewReader([]byte("payload")))
		start := time.Now()
		res, body := roundTrip(t, f.Client(), req)
		slowest = max(slowest, time.Since(start))
		if res.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("client got %d %q; want 200 %q", res.StatusCode, body, "ok")
		}
	}
	if slowest > time.Second {
		t.Errorf("slowest primary request took %v; want well under 1s", slowest)
	}
	for inflight.Load() < maxConcurrent && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	if got := peak.Load(); got != maxConcurrent {
		t.Errorf("copies in flight at the shadow peaked at %d; want MaxConcurrent, %d", got, maxConcurrent)
	}
}

// TestProxyMirrorShadowDown shows that a shadow that cannot be reached
// changes nothing for the client, and that a retried request is copied
// once.
func TestProxyMirrorShadowDown(t *testing.T) {
	up := newFlaky(t, 1, unavailable)
	p := proxyTo(t, up.url)
	p.Retry = fastRetry()
	shadows := balancer.MustPool("http://" + closedAddr(t))
	p.Mirror = &gateway.Mirror{Upstreams: shadows}
	f := newFront(t, p)
	ctx := boundedContext(t)
	req, _ := http.NewRequestWithContext(ctx, "GET", f.URL, nil)
	res, body := roundTrip(t, f.Client(), req)
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("client got %d %q; want 200 %q", res.StatusCode, body, "ok")
	}
	u := shadows.All()[0]
	for u.Requests() == 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	if u.Requests() != 1 || u.Failures() != 1 {
		t.Errorf("shadow Requests, Failures = %d, %d; want 1, 1", u.Requests(), u.Failures())
	}
}

// TestProxyMirrorLongPrimary shows that a primary request that lasts (a
// stream) holds no mirror slot while it runs: with MaxConcurrent 1, a
// request served meanwhile is still copied. The stream itself, copied
// when it ends, is not waited for.
func TestProxyMirrorLongPrimary(t *testing.T) {
	shadow, hits := newShadow(t)
	release, streaming := make(chan struct{}), make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			close(streaming)
			<-release
		}
		io.WriteString(w, "ok")
	})
	p := proxyTo(t, up.URL)
	p.Mirror = &gateway.Mirror{Upstreams: balancer.MustPool(shadow), MaxConcurrent: 1}
	f := newFront(t, p)
	ctx := boundedContext(t)
	streamDone := make(chan struct{})
	defer func() { // also when the test fails, so that the stream ends
		close(release)
		<-streamDone
	}()
	go func() {
		defer close(streamDone)
		req, _ := http.NewRequestWithContext(ctx, "GET", f.URL+"/stream", nil)
		if res, err := f.Client().Do(req); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}()
	wait(t, ctx, streaming, "the stream's head")
	req, _ := http.NewRequestWithContext(ctx, "GET", f.URL+"/fast", nil)
	roundTrip(t, f.Client(), req)
	if h := wait(t, ctx, hits, "a copy"); h.path != "/fast" {
		t.Errorf("copy went to %q; want /fast", h.path)
	}
}
