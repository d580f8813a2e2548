package ratelimit_test

import (
	"context"
	"hash/maphash"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/vivremotion/gateway/ratelimit"
)

// xrateStore is golang.org/x/time/rate put behind the same sharding as
// this package's limiters: 64 shards, a mutex and a map each, one
// *rate.Limiter per key. It is here to measure what this package would
// cost if it kept a rate.Limiter per key.
type xrateStore struct {
	seed   maphash.Seed
	limit  rate.Limit
	burst  int
	shards [64]struct {
		mu sync.Mutex
		m  map[string]*rate.Limiter
		_  [48]byte
	}
}

func newXrateStore(r ratelimit.Rate) *xrateStore {
	s := &xrateStore{seed: maphash.MakeSeed(), limit: rate.Limit(float64(r.Limit) / r.Period.Seconds()), burst: int(r.BurstOrLimit())}
	for i := range s.shards {
		s.shards[i].m = make(map[string]*rate.Limiter)
	}
	return s
}

func (s *xrateStore) Allow(_ context.Context, key string, cost int64) (ratelimit.Decision, error) {
	sh := &s.shards[maphash.String(s.seed, key)%64]
	now := time.Now()
	sh.mu.Lock()
	l, ok := sh.m[key]
	if !ok {
		l = rate.NewLimiter(s.limit, s.burst)
		sh.m[strings.Clone(key)] = l
	}
	sh.mu.Unlock()
	return ratelimit.Decision{Allowed: l.AllowN(now, int(cost)), Limit: int64(s.burst)}, nil
}

// benchRate is a rate no benchmark exhausts, so that every call takes the
// allowing path, and under which a key stays in debt (one second per call)
// so that no key goes idle and is dropped between two calls.
var benchRate = ratelimit.Rate{Limit: 1, Period: time.Second, Burst: 1 << 30}

// benchLimiters returns each limiter at benchRate (the sliding window, which
// has no burst, at 1<<30 per second).
func benchLimiters(b testing.TB) map[string]ratelimit.Limiter {
	tb, err := ratelimit.NewTokenBucket(benchRate, ratelimit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	g, _ := ratelimit.NewGCRA(benchRate, ratelimit.Options{})
	sw, err := ratelimit.NewSlidingWindow(ratelimit.Rate{Limit: 1 << 30, Period: time.Second}, ratelimit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]ratelimit.Limiter{"TokenBucket": tb, "GCRA": g, "SlidingWindow": sw, "xrate": newXrateStore(benchRate)}
}

var benchOrder = []string{"TokenBucket", "GCRA", "SlidingWindow", "xrate"}

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "client-" + strconv.Itoa(i)
	}
	return keys
}

// BenchmarkAllow measures one Allow on a key that exists: with one key
// (every call on one shard's lock) and cycling over 100 000 keys (cache
// misses), sequential and from every CPU. xrate is x/time/rate behind the
// same sharded map, for comparison.
func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	for _, name := range benchOrder {
		for _, n := range []int{1, 100_000} {
			keys := benchKeys(n)
			l := benchLimiters(b)[name]
			for _, k := range keys {
				l.Allow(ctx, k, 1)
			}
			b.Run(name+"/keys="+strconv.Itoa(n), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					l.Allow(ctx, keys[i%n], 1)
					i++
				}
			})
			b.Run(name+"/keys="+strconv.Itoa(n)+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				var seq atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					i := int(seq.Add(7919))
					for pb.Next() {
						l.Allow(ctx, keys[i%n], 1)
						i++
					}
				})
			})
		}
	}
}

// BenchmarkNewKey measures the first Allow of a key, the case of a flood of
// new clients, with the store at its bound (MaxKeys 100 000) so that each
// insert also evicts; it reports the heap each key costs at the bound.
func BenchmarkNewKey(b *testing.B) {
	ctx := context.Background()
	const maxKeys = 100_000
	for _, name := range []string{"TokenBucket", "GCRA", "SlidingWindow", "xrate"} {
		b.Run(name, func(b *testing.B) {
			r := ratelimit.PerSecond(10)
			var l ratelimit.Limiter
			switch name {
			case "TokenBucket":
				l, _ = ratelimit.NewTokenBucket(r, ratelimit.Options{MaxKeys: maxKeys})
			case "GCRA":
				l, _ = ratelimit.NewGCRA(r, ratelimit.Options{MaxKeys: maxKeys})
			case "SlidingWindow":
				l, _ = ratelimit.NewSlidingWindow(r, ratelimit.Options{MaxKeys: maxKeys})
			case "xrate":
				l = newXrateStore(r) // unbounded: it has no eviction
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			buf := []byte("new-client-")
			for i := range maxKeys {
				l.Allow(ctx, string(strconv.AppendInt(buf, int64(i), 10)), 1)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			perKey := float64(after.HeapAlloc-before.HeapAlloc) / maxKeys
			b.ReportAllocs()
			i := maxKeys
			for b.Loop() {
				buf = strconv.AppendInt(buf[:len("new-client-")], int64(i), 10)
				l.Allow(ctx, unsafeString(buf), 1)
				i++
			}
			b.ReportMetric(perKey, "heap-B/key")
		})
	}
}

// BenchmarkMiddleware measures a request through PerKey end to end, with
// the draft headers set, the key built from the peer address, and a
// handler that does nothing: allowed, refused, and allowed from every CPU
// over 1000 clients.
func BenchmarkMiddleware(b *testing.B) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	b.Run("allowed", func(b *testing.B) {
		h := ratelimit.PerKey(mustGCRA(b, benchRate), nil)(next)
		r := request("192.0.2.1:1")
		w := &discard{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, r)
		}
	})
	b.Run("refused", func(b *testing.B) {
		h := ratelimit.PerKey(mustGCRA(b, ratelimit.Rate{Limit: 1, Period: time.Hour}), nil)(next)
		r := request("192.0.2.1:1")
		w := &discard{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(w, r)
		}
	})
	b.Run("allowed/parallel", func(b *testing.B) {
		h := ratelimit.PerKey(mustGCRA(b, benchRate), nil)(next)
		var seq atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			n := seq.Add(1)
			reqs := make([]*http.Request, 1000)
			for i := range reqs {
				reqs[i] = request("192.0.2." + strconv.Itoa(int(n)) + ":" + strconv.Itoa(i))
				reqs[i].RemoteAddr = "10." + strconv.Itoa(int(n)) + "." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256) + ":1"
			}
			w := &discard{h: http.Header{}}
			i := 0
			for pb.Next() {
				clear(w.h)
				h.ServeHTTP(w, reqs[i%len(reqs)])
				i++
			}
		})
	})
	b.Run("httptest", func(b *testing.B) {
		srv := httptest.NewServer(ratelimit.PerKey(mustGCRA(b, benchRate), nil)(next))
		defer srv.Close()
		c := srv.Client()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.Get(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
}

// TestAllowAllocs: Allow on a key that exists allocates nothing.
func TestAllowAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	ctx := context.Background()
	for _, key := range [][]byte{[]byte("client-1"), []byte(strings.Repeat("long key ", 100))} {
		for _, name := range benchOrder[:3] {
			l := benchLimiters(t)[name]
			l.Allow(ctx, string(key), 1)
			if n := testing.AllocsPerRun(100, func() { l.Allow(ctx, unsafeString(key), 1) }); n != 0 {
				t.Errorf("%s: Allow on an existing key of %d bytes: %v allocs; want 0", name, len(key), n)
			}
		}
	}
}

// TestMiddlewareAllocs: a refused request through PerKey allocates at most
// what the Retry-After and rate limit headers need.
func TestMiddlewareAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := ratelimit.PerKey(mustGCRA(t, ratelimit.Rate{Limit: 1, Period: time.Hour}), nil)(next)
	r := request("192.0.2.1:1")
	w := &discard{h: http.Header{}}
	n := testing.AllocsPerRun(100, func() {
		clear(w.h)
		h.ServeHTTP(w, r)
	})
	if n > 2 {
		t.Errorf("refused request: %v allocs; want at most 2", n)
	}
}

// BenchmarkConcurrency measures Acquire and Release of one slot of a key
// that has state, sequential and from every CPU on 1000 keys.
func BenchmarkConcurrency(b *testing.B) {
	ctx := context.Background()
	c, err := ratelimit.NewConcurrency(1<<30, ratelimit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	keys := benchKeys(1000)
	for _, k := range keys {
		c.Acquire(ctx, k, 0) // one held per key, so that no key is idle
	}
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Acquire(ctx, keys[0], 0)
			c.Release(keys[0])
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var seq atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(7919))
			for pb.Next() {
				k := keys[i%len(keys)]
				c.Acquire(ctx, k, 0)
				c.Release(k)
				i++
			}
		})
	})
}

// BenchmarkAdaptive measures one Acquire and Done, the cost the adaptive
// limit adds to a request.
func BenchmarkAdaptive(b *testing.B) {
	a, err := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{Initial: 1000, Max: 1000})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if a.Acquire() {
			a.Done(time.Millisecond, false)
		}
	}
}

// TestConcurrencyAllocs: taking and giving back a slot of a key that has
// state allocates nothing, nor does the adaptive limit.
func TestConcurrencyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	ctx := context.Background()
	c, _ := ratelimit.NewConcurrency(2, ratelimit.Options{})
	key := []byte("client-1")
	c.Acquire(ctx, string(key), 0)
	if n := testing.AllocsPerRun(100, func() {
		c.Acquire(ctx, unsafeString(key), 0)
		c.Release(unsafeString(key))
	}); n != 0 {
		t.Errorf("Concurrency Acquire+Release: %v allocs; want 0", n)
	}
	a, _ := ratelimit.NewAdaptive(ratelimit.AdaptiveConfig{})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := a.Middleware()(next)
	r := request("192.0.2.1:1")
	w := &discard{h: http.Header{}}
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("Adaptive middleware: %v allocs; want 0", n)
	}
}
