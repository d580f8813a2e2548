package redislimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/vivremotion/gateway/internal/redistest"
	"github.com/vivremotion/gateway/ratelimit"
	"github.com/vivremotion/gateway/ratelimit/redislimit"
)

// replicas returns n Limiters with cfg, each with a client of its own, as
// n gateway replicas have, on one prefix.
func replicas(t *testing.T, n int, cfg redislimit.Config) []*redislimit.Limiter {
	t.Helper()
	addr := redistest.Addr(t)
	cfg.Prefix = redistest.Prefix(t)
	// The server is shared by the tests of the binary, and by the runs of
	// this one under -count: leave nothing behind for a later run to see.
	t.Cleanup(func() {
		rc := client(t, addr)
		ctx := context.Background()
		keys, _ := rc.Keys(ctx, cfg.Prefix+"*").Result()
		if len(keys) > 0 {
			rc.Del(ctx, keys...)
		}
	})
	ls := make([]*redislimit.Limiter, n)
	for i := range ls {
		c := cfg
		c.Client = client(t, addr)
		ls[i] = limiter(t, c)
	}
	return ls
}

// hammer has every limiter's goroutines ask for key until each has seen
// refusals in a row (the key is spent) or made calls calls, and returns
// how many units were admitted and how long it took. Requests cost 1, or 1
// to 3 in turn when mixed.
func hammer(t *testing.T, ls []*redislimit.Limiter, goroutines, calls int, key string, mixed bool) (admitted int64, took time.Duration) {
	t.Helper()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, l := range ls {
		for range goroutines {
			wg.Go(func() {
				refusals := 0
				for i := range calls {
					cost := int64(1)
					if mixed {
						cost += int64(i % 3)
					}
					d, err := l.Allow(context.Background(), key, cost)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						n.Add(cost)
						refusals = 0
					} else if refusals++; refusals == 5 {
						return
					}
				}
			})
		}
	}
	wg.Wait()
	return n.Load(), time.Since(start)
}

// TestReplicasSynchronous: 8 replicas of 4 goroutines each, all on one
// key, admit the burst and no more, but what the rate earns meanwhile (a
// unit every 3.6 s); with mixed costs, up to 2 units fewer, which no
// request of the remaining cost could take.
func TestReplicasSynchronous(t *testing.T) {
	rate := ratelimit.Rate{Limit: 1000, Period: time.Hour}
	for _, mixed := range []bool{false, true} {
		ls := replicas(t, 8, redislimit.Config{Rate: rate})
		admitted, took := hammer(t, ls, 4, 200, "shared", mixed)
		burst := rate.BurstOrLimit()
		earned := int64(took/(rate.Period/time.Duration(rate.Limit))) + 1
		least := burst
		if mixed {
			least -= 2
		}
		t.Logf("8 replicas x 4 goroutines, mixed costs %v: admitted %d in %v; allowed %d (burst %d + %d earned)", mixed, admitted, took, burst+earned, burst, earned)
		if admitted < least || admitted > burst+earned {
			t.Errorf("mixed costs %v: admitted %d; want %d to %d", mixed, admitted, least, burst+earned)
		}
	}
}

// TestReplicasLocalFirst shows the local-first bound reached. Each replica
// first takes a lease (one decision, which takes 1 + Batch units and
// spends one); then the key's allowance in Redis becomes whole again, as
// it does when the key has been idle long enough (here by deleting the
// key, so that the test needs no waiting). The replicas then admit the
// burst from Redis plus what their leases hold: the burst + replicas ×
// Batch, the bound.
func TestReplicasLocalFirst(t *testing.T) {
	const n, batch = 4, 10
	rate := ratelimit.Rate{Limit: 1000, Period: time.Hour, Burst: 100}
	ls := replicas(t, n, redislimit.Config{Rate: rate, Batch: batch})
	ctx := context.Background()
	for _, l := range ls {
		if d, err := l.Allow(ctx, "shared", 1); err != nil || !d.Allowed {
			t.Fatalf("Allow(shared, 1) = %+v, %v; want allowed", d, err)
		}
	}
	rc := client(t, redistest.Addr(t))
	keys, _ := rc.Keys(ctx, "test:"+t.Name()+":*").Result()
	if len(keys) != 1 {
		t.Fatalf("KEYS = %v; want the one key", keys)
	}
	rc.Del(ctx, keys[0])

	admitted, took := hammer(t, ls, 4, 200, "shared", false)
	earned := int64(took/(rate.Period/time.Duration(rate.Limit))) + 1
	bound := rate.Burst + earned + n*batch
	t.Logf("%d replicas, batch %d: admitted %d in %v; burst %d, bound %d", n, batch, admitted, took, rate.Burst, bound)
	// Each replica held a batch when the key was deleted.
	if want := rate.Burst + n*batch; admitted < want || admitted > bound {
		t.Errorf("admitted %d; want %d (burst + leases held) to %d (burst + replicas x batch + earned)", admitted, want, bound)
	}
}

// TestReplicasLocalFirstNeverExceedsTotal: with nothing refilling, the
// local-first replicas, asked for mixed costs, never admit more than Redis
// granted in all, the burst; they may admit less, by what their leases
// strand.
func TestReplicasLocalFirstNeverExceedsTotal(t *testing.T) {
	const n, batch = 4, 10
	rate := ratelimit.Rate{Limit: 1000, Period: time.Hour, Burst: 150}
	ls := replicas(t, n, redislimit.Config{Rate: rate, Batch: batch})
	admitted, took := hammer(t, ls, 4, 200, "shared", true)
	earned := int64(took/(rate.Period/time.Duration(rate.Limit))) + 1
	t.Logf("%d replicas, batch %d: admitted %d of burst %d in %v", n, batch, admitted, rate.Burst, took)
	if admitted < rate.Burst-n*batch || admitted > rate.Burst+earned {
		t.Errorf("admitted %d; want %d to %d", admitted, rate.Burst-n*batch, rate.Burst+earned)
	}
}

// TestLocalFirstRoundTrips: one replica spending a key one unit at a time
// asks Redis once per batch.
func TestLocalFirstRoundTrips(t *testing.T) {
	rc := client(t, redistest.Addr(t))
	var cmds counter
	rc.AddHook(&cmds)
	const batch, decisions = 10, 100
	l := limiter(t, redislimit.Config{Client: rc, Rate: ratelimit.Rate{Limit: 1000, Period: time.Hour}, Batch: batch})
	ctx := context.Background()
	for i := range decisions {
		d, err := l.Allow(ctx, "k", 1)
		if err != nil || !d.Allowed || d.Limit != 1000 {
			t.Fatalf("decision %d: Allow(k, 1) = %+v, %v; want allowed, Limit 1000", i, d, err)
		}
		// Remaining counts what Redis had left at the last lease and
		// what this replica still holds: one less each time.
		if want := int64(1000 - 1 - i); d.Remaining != want {
			t.Errorf("decision %d: Remaining = %d; want %d", i, d.Remaining, want)
		}
	}
	if got := cmds.n.Load(); got != decisions/batch {
		t.Errorf("%d decisions ran %d scripts; want %d, one per batch", decisions, got, decisions/batch)
	}
}

// TestLocalFirstRefusalRemembered: after Redis refuses a key, the replica
// refuses the same cost until the RetryAfter without asking again.
func TestLocalFirstRefusalRemembered(t *testing.T) {
	rc := client(t, redistest.Addr(t))
	var cmds counter
	rc.AddHook(&cmds)
	l := limiter(t, redislimit.Config{Client: rc, Rate: ratelimit.Rate{Limit: 10, Period: time.Hour, Burst: 4}, Batch: 2})
	ctx := context.Background()
	run(t, l, []step{
		{key: "k", cost: 1, allowed: true, remaining: 3, reset: 18 * time.Minute}, // takes 1 + 2
		{key: "k", cost: 1, allowed: true, remaining: 2, reset: 18 * time.Minute}, // from the lease
		{key: "k", cost: 3, allowed: false, remaining: 2, retry: 6 * time.Minute, reset: 18 * time.Minute},
		{key: "k", cost: 2, allowed: true, remaining: 0, reset: 24 * time.Minute}, // a smaller cost still asks
		{key: "k", cost: 1, allowed: false, remaining: 0, retry: 6 * time.Minute, reset: 24 * time.Minute},
	})
	before := cmds.n.Load()
	d, err := l.Allow(ctx, "k", 1)
	if err != nil || d.Allowed || !near(d.RetryAfter, 6*time.Minute) {
		t.Errorf("Allow(k, 1) again = %+v, %v; want refused, RetryAfter 6m", d, err)
	}
	if got := cmds.n.Load() - before; got != 0 {
		t.Errorf("a remembered refusal ran %d scripts; want 0", got)
	}
}

// TestAllowKeyReused: Allow's key is valid only during the call; the
// caller may then write other bytes into its memory, as the middleware's
// pooled buffers do, and neither mode keeps the old bytes' key in use.
func TestAllowKeyReused(t *testing.T) {
	for _, batch := range []int64{0, 5} {
		l := limiter(t, redislimit.Config{Rate: ratelimit.Rate{Limit: 10, Period: time.Hour}, Batch: batch})
		buf := []byte("client-1")
		key := unsafe.String(unsafe.SliceData(buf), len(buf))
		ctx := context.Background()
		allow := func(key string, want int64) {
			t.Helper()
			if d, err := l.Allow(ctx, key, 2); err != nil || !d.Allowed || d.Remaining != want {
				t.Errorf("batch %d: Allow(%s, 2) = %+v, %v; want allowed, Remaining %d", batch, key, d, err, want)
			}
		}
		allow(key, 8)
		copy(buf, "client-2")
		allow(key, 8)
		allow("client-1", 6)
		allow("client-2", 6)
	}
}
