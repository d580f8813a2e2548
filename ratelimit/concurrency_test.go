package ratelimit_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/ratelimit"
)

// TestConcurrency: two in flight per key; the third waits for a slot in
// arrival order, the fourth gives up after MaxWait, another key is apart.
func TestConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := ratelimit.NewConcurrency(2, ratelimit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for range 2 {
			if err := c.Acquire(ctx, "k", 0); err != nil {
				t.Fatalf("Acquire = %v; want nil", err)
			}
		}
		if err := c.Acquire(ctx, "k", 0); !errors.Is(err, gateway.ErrRateLimited) {
			t.Errorf("third Acquire without wait = %v; want ErrRateLimited", err)
		}
		if err := c.Acquire(ctx, "other", 0); err != nil {
			t.Errorf("Acquire(other) = %v; want nil", err)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		var got []int
		errs := make([]error, 3)
		for i := range 3 {
			wg.Go(func() {
				errs[i] = c.Acquire(ctx, "k", time.Duration(3-i)*time.Second)
				mu.Lock()
				got = append(got, i)
				mu.Unlock()
			})
			synctest.Wait()
		}
		time.Sleep(500 * time.Millisecond)
		c.Release("k")
		synctest.Wait()
		c.Release("k")
		synctest.Wait()
		wg.Wait()
		// Waiter 0 and 1 get the two slots in turn; 2 times out at 1s.
		if want := []int{0, 1, 2}; !slices.Equal(got, want) {
			t.Errorf("waiters done in order %v; want %v", got, want)
		}
		if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], gateway.ErrRateLimited) {
			t.Errorf("waiters' errors %v; want nil, nil, ErrRateLimited", errs)
		}
		if n := c.InFlight("k"); n != 2 {
			t.Errorf("InFlight = %d; want 2", n)
		}
	})
}

func TestConcurrencyMiddleware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := ratelimit.NewConcurrency(1, ratelimit.Options{})
		release := make(chan struct{})
		h := c.Middleware(nil, 0)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
		go serve(h, request("192.0.2.1:1"))
		synctest.Wait()
		if w := serve(h, request("192.0.2.1:2")); w.Code != 429 {
			t.Errorf("second request in flight: status = %d; want 429", w.Code)
		}
		close(release)
		synctest.Wait()
		if n := c.InFlight("192.0.2.1"); n != 0 {
			t.Errorf("InFlight after the request = %d; want 0", n)
		}
	})
}

func TestNewConcurrencyErrors(t *testing.T) {
	if _, err := ratelimit.NewConcurrency(0, ratelimit.Options{}); err == nil {
		t.Errorf("NewConcurrency(0) = nil error; want one")
	}
}

// TestConcurrencyBusyKeyKept: a flood of new keys never evicts a key with
// requests in flight or waiting; its count and its line survive, and once
// everything is released the key is free again. The store holds such keys
// past MaxKeys instead.
func TestConcurrencyBusyKeyKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := ratelimit.NewConcurrency(1, ratelimit.Options{MaxKeys: 64}) // one key per shard
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := c.Acquire(ctx, "victim", 0); err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- c.Acquire(ctx, "victim", time.Second) }()
		synctest.Wait() // the second request waits
		for i := range 1000 {
			k := "flood" + strconv.Itoa(i)
			if err := c.Acquire(ctx, k, 0); err != nil {
				t.Fatalf("Acquire(%s) = %v; want nil", k, err)
			}
			c.Release(k)
		}
		if err := c.Acquire(ctx, "victim", 0); !errors.Is(err, gateway.ErrRateLimited) {
			t.Errorf("Acquire(victim) with one in flight and one waiting = %v; want ErrRateLimited", err)
		}
		time.Sleep(2 * time.Second) // the waiter gives up
		if err := <-done; !errors.Is(err, gateway.ErrRateLimited) {
			t.Errorf("waiting Acquire = %v; want ErrRateLimited after its wait", err)
		}
		c.Release("victim")
		if n := c.InFlight("victim"); n != 0 {
			t.Fatalf("InFlight = %d after every release; want 0", n)
		}
		if err := c.Acquire(ctx, "victim", 0); err != nil {
			t.Errorf("Acquire(victim) with nothing in flight = %v; want nil", err)
		}
	})
}
