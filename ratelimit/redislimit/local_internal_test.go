package redislimit

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway/internal/redistest"
	"github.com/vivremotion/gateway/ratelimit"
)

// TestLeaseWithinBatch holds the invariant the local-first bound rests
// on: whatever many goroutines do to one key at once, a replica's units
// held and reserved by round trips in flight never exceed the batch.
func TestLeaseWithinBatch(t *testing.T) {
	rc := redis.NewClient(&redis.Options{Addr: redistest.Addr(t), ContextTimeoutEnabled: true})
	defer rc.Close()
	const batch = 8
	l, err := New(Config{
		Client: rc,
		Prefix: redistest.Prefix(t),
		Rate:   ratelimit.Rate{Limit: 1_000_000, Period: time.Hour},
		Batch:  batch,
	})
	if err != nil {
		t.Fatal(err)
	}
	sh := &l.local.shards[0]
	check := func() {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		for _, e := range sh.m {
			if e.held < 0 || e.reserved < 0 || e.held+e.reserved > batch {
				t.Errorf("lease held %d, reserved %d; want both >= 0 and a sum <= %d", e.held, e.reserved, batch)
			}
		}
	}
	// A key of the shard that check looks at.
	key := "k"
	for l.local.shard(key) != sh {
		key += "k"
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				cost := int64(1 + (g+i)%3)
				if d, err := l.Allow(context.Background(), key, cost); err != nil || !d.Allowed {
					t.Errorf("Allow(%s, %d) = %+v, %v; want allowed", key, cost, d, err)
					return
				}
			}
		})
	}
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for {
			select {
			case <-stop:
				return
			default:
				check()
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-checked
	check()
}

// TestLeaseSweep: leases that are over and idle leave the map as new keys
// come, so that a replica's memory follows its active keys.
func TestLeaseSweep(t *testing.T) {
	lc := newLocal(10, time.Second, 1<<20)
	sh := &lc.shards[0]
	for i := range 1000 {
		e := &lease{}
		if i%2 == 0 {
			e.expires = 1 << 62 // still held
		}
		sh.insert(string(rune('a'+i%26))+string(rune(i)), e, 1, lc.perShard)
	}
	// 1000 inserts with sweeps at 256, 512 (after halving), ...: the map
	// keeps the 500 held leases and fewer than a sweep's worth of others.
	held := 0
	for _, e := range sh.m {
		if e.expires > 1 {
			held++
		}
	}
	if held != 500 || len(sh.m) >= 1000 {
		t.Errorf("after 1000 inserts, half of them idle: %d leases, %d held; want 500 held and idle ones swept", len(sh.m), held)
	}
}

// TestLeaseTableBounded: the lease table holds at most MaxKeys keys
// however many distinct keys come within a lease's life.
func TestLeaseTableBounded(t *testing.T) {
	rc := redis.NewClient(&redis.Options{Addr: redistest.Addr(t), ContextTimeoutEnabled: true})
	defer rc.Close()
	l, err := New(Config{
		Client:  rc,
		Prefix:  redistest.Prefix(t),
		Rate:    ratelimit.PerMinute(100),
		Batch:   10,
		MaxKeys: 640,
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	for i := range n {
		if d, err := l.Allow(context.Background(), "client-"+strconv.Itoa(i), 1); err != nil || !d.Allowed {
			t.Fatalf("Allow(client-%d) = %+v, %v; want allowed", i, d, err)
		}
	}
	total := 0
	for i := range l.local.shards {
		total += len(l.local.shards[i].m)
	}
	if total > 640 {
		t.Errorf("after %d distinct keys within a lease's life: %d leases held; want at most MaxKeys, 640", n, total)
	}
}
