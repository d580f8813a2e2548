package ratelimit_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/ratelimit"
)

// step is one call in a limiter script: wait, then Allow(key, cost).
type step struct {
	wait time.Duration
	key  string
	cost int64
	want ratelimit.Decision
}

// run plays steps against l inside the caller's synctest bubble.
func run(t *testing.T, l ratelimit.Limiter, steps []step) {
	t.Helper()
	for i, s := range steps {
		time.Sleep(s.wait)
		key := s.key
		if key == "" {
			key = "k"
		}
		got, err := l.Allow(context.Background(), key, s.cost)
		if err != nil || got != s.want {
			t.Errorf("step %d: Allow(%q, %d) = %+v, %v; want %+v", i, key, s.cost, got, err, s.want)
		}
	}
}

type newLimiter func(ratelimit.Rate, ratelimit.Options) (ratelimit.Limiter, error)

func bucketLimiters() map[string]newLimiter {
	return map[string]newLimiter{
		"TokenBucket": func(r ratelimit.Rate, o ratelimit.Options) (ratelimit.Limiter, error) {
			return ratelimit.NewTokenBucket(r, o)
		},
		"GCRA": func(r ratelimit.Rate, o ratelimit.Options) (ratelimit.Limiter, error) {
			return ratelimit.NewGCRA(r, o)
		},
	}
}

func allow(limit, remaining int64, reset time.Duration) ratelimit.Decision {
	return ratelimit.Decision{Allowed: true, Limit: limit, Remaining: remaining, Reset: reset}
}

func refuse(limit, remaining int64, retry, reset time.Duration) ratelimit.Decision {
	return ratelimit.Decision{Limit: limit, Remaining: remaining, RetryAfter: retry, Reset: reset}
}

// TestBucket holds the token bucket and GCRA to the same script: they
// enforce the same limit.
func TestBucket(t *testing.T) {
	ms := time.Millisecond
	for name, mk := range bucketLimiters() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// 3 per second, burst 3: one unit every 333.33...ms.
				l, err := mk(ratelimit.Rate{Limit: 3, Period: time.Second}, ratelimit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				third := time.Duration(333333334) // ⌈1s/3⌉
				run(t, l, []step{
					{cost: 1, want: allow(3, 2, third)},
					{cost: 2, want: allow(3, 0, time.Second)},
					{cost: 1, want: refuse(3, 0, third, time.Second)},
					{key: "other", cost: 3, want: allow(3, 0, time.Second)},
					{cost: 4, want: ratelimit.Decision{Limit: 3, Remaining: 0, Reset: time.Second, CostTooHigh: true}},
					{wait: 333 * ms, cost: 1, want: refuse(3, 0, 333334, 667*ms)},
					{wait: 1 * ms, cost: 1, want: allow(3, 0, 999333334)},
					{cost: 0, want: allow(3, 0, 999333334)},
					{wait: 10 * time.Second, cost: 1, want: allow(3, 2, third)},
				})
			})
		})
	}
}

// TestBucketExact shows that a rate whose emission interval is not a whole
// number of nanoseconds (1s/7) loses nothing to rounding: 7000 units take
// exactly 1000s to repay, where an interval rounded to whole ns would be
// 6µs short.
func TestBucketExact(t *testing.T) {
	for name, mk := range bucketLimiters() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := mk(ratelimit.Rate{Limit: 7, Period: time.Second, Burst: 7000}, ratelimit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				var d ratelimit.Decision
				for range 7000 {
					d, _ = l.Allow(ctx, "k", 1)
				}
				if want := allow(7000, 0, 1000*time.Second); d != want {
					t.Errorf("Allow #7000 = %+v; want %+v", d, want)
				}
				if d, _ = l.Allow(ctx, "k", 1); d.RetryAfter != 142857143 {
					t.Errorf("Allow #7001 RetryAfter = %v; want 142.857143ms", d.RetryAfter)
				}
				time.Sleep(1000*time.Second - 1)
				if d, _ = l.Allow(ctx, "k", 0); d.Remaining != 6999 || d.Reset != 1 {
					t.Errorf("Allow 1ns before whole = %+v; want Remaining 6999, Reset 1ns", d)
				}
				time.Sleep(1)
				if d, _ = l.Allow(ctx, "k", 0); d.Remaining != 7000 || d.Reset != 0 {
					t.Errorf("Allow when whole = %+v; want Remaining 7000, Reset 0", d)
				}
			})
		})
	}
}

func TestSlidingWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := ratelimit.NewSlidingWindow(ratelimit.PerSecond(10), ratelimit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s := time.Second
		ms := time.Millisecond
		run(t, l, []step{
			{cost: 4, want: allow(10, 6, 2*s)},
			{cost: 6, want: allow(10, 0, 2*s)},
			{cost: 1, want: refuse(10, 0, s+100*ms, 2*s)},
			{cost: 11, want: ratelimit.Decision{Limit: 10, Remaining: 0, Reset: 2 * s, CostTooHigh: true}},
			// Half into the next window the previous 10 weigh 5.
			{wait: 1500 * ms, cost: 5, want: allow(10, 0, 1500*ms)},
			{cost: 1, want: refuse(10, 0, 100*ms, 1500*ms)},
			{wait: 100 * ms, cost: 1, want: allow(10, 0, 1400*ms)},
			// Two windows later everything is forgotten.
			{wait: 2 * s, cost: 10, want: allow(10, 0, 2*s-600*ms)},
		})
	})
}

func TestSlidingWindowBurst(t *testing.T) {
	if _, err := ratelimit.NewSlidingWindow(ratelimit.Rate{Limit: 10, Period: time.Second, Burst: 20}, ratelimit.Options{}); !errors.Is(err, ratelimit.ErrRate) {
		t.Errorf("NewSlidingWindow(burst 20, limit 10) = %v; want ErrRate", err)
	}
}

func TestNewErrors(t *testing.T) {
	bad := []ratelimit.Rate{
		{Limit: 0, Period: time.Second},
		{Limit: 1, Period: 0},
		{Limit: 1, Period: time.Second, Burst: -1},
		{Limit: 1, Period: time.Hour, Burst: 1 << 50}, // Burst·Period overflows
	}
	for name, mk := range bucketLimiters() {
		for _, r := range bad {
			if _, err := mk(r, ratelimit.Options{}); !errors.Is(err, ratelimit.ErrRate) {
				t.Errorf("%s(%v) = %v; want ErrRate", name, r, err)
			}
		}
		if _, err := mk(ratelimit.PerSecond(1), ratelimit.Options{MaxKeys: -1}); err == nil {
			t.Errorf("%s(MaxKeys -1) = nil error; want one", name)
		}
	}
	l, _ := ratelimit.NewGCRA(ratelimit.PerSecond(1), ratelimit.Options{})
	if _, err := l.Allow(context.Background(), "k", -1); !errors.Is(err, ratelimit.ErrCost) {
		t.Errorf("Allow(cost -1) = %v; want ErrCost", err)
	}
}

// TestReserve books slots ahead, in order, and gives one back.
func TestReserve(t *testing.T) {
	for name, mk := range bucketLimiters() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := mk(ratelimit.Rate{Limit: 1, Period: time.Second, Burst: 1}, ratelimit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				res := l.(ratelimit.Reserver)
				ctx := context.Background()
				var delays []time.Duration
				var last ratelimit.Decision
				for range 3 {
					d, _ := res.Reserve(ctx, "k", 1, 2*time.Second)
					delays = append(delays, d.Delay)
					if d.Allowed != (d.Delay <= 2*time.Second) {
						t.Errorf("Reserve = %+v; Allowed should hold when Delay fits", d)
					}
					last = d
				}
				if want := []time.Duration{0, time.Second, 2 * time.Second}; !slices.Equal(delays, want) {
					t.Errorf("Reserve delays = %v; want %v", delays, want)
				}
				if d, _ := res.Reserve(ctx, "k", 1, 2*time.Second); d.Allowed || d.RetryAfter != 3*time.Second {
					t.Errorf("4th Reserve = %+v; want refused with RetryAfter 3s", d)
				}
				res.Cancel("k", 1, last.Booking)
				if d, _ := res.Reserve(ctx, "k", 1, 2*time.Second); !d.Allowed || d.Delay != 2*time.Second {
					t.Errorf("Reserve after Cancel = %+v; want the slot at 2s", d)
				}
			})
		})
	}
}

// TestCancel: a cancelled booking gives back only what no later booking
// needs, never more than its cost, and nothing once it is due.
func TestCancel(t *testing.T) {
	type booking struct {
		cost  int64
		delay time.Duration // want
	}
	tests := []struct {
		name   string
		burst  int64
		book   []booking
		cancel []int // indexes into book, in order
		// Then a Reserve of cost 1 is due after next.
		next time.Duration
	}{
		{"last in line", 1, []booking{{1, 0}, {1, time.Second}, {1, 2 * time.Second}}, []int{2}, 2 * time.Second},
		{"before a later one", 1, []booking{{1, 0}, {1, time.Second}, {1, 2 * time.Second}}, []int{1}, 3 * time.Second},
		{"both, last first", 1, []booking{{1, 0}, {1, time.Second}, {1, 2 * time.Second}}, []int{2, 1}, time.Second},
		{"both, first first", 1, []booking{{1, 0}, {1, time.Second}, {1, 2 * time.Second}}, []int{1, 2}, 2 * time.Second},
		{"due already", 2, []booking{{1, 0}, {1, 0}}, []int{1}, time.Second},
		// 3 then 1 behind it: the 1 keeps its slot and its place in line.
		{"mixed costs", 3, []booking{{3, 0}, {3, 3 * time.Second}, {1, 4 * time.Second}}, []int{1}, 5 * time.Second},
		{"mixed costs, last first", 3, []booking{{3, 0}, {3, 3 * time.Second}, {1, 4 * time.Second}}, []int{2, 1}, time.Second},
	}
	for name, mk := range bucketLimiters() {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					l, err := mk(ratelimit.Rate{Limit: 1, Period: time.Second, Burst: tt.burst}, ratelimit.Options{})
					if err != nil {
						t.Fatal(err)
					}
					res := l.(ratelimit.Reserver)
					ctx := context.Background()
					ds := make([]ratelimit.Decision, len(tt.book))
					for i, b := range tt.book {
						ds[i], _ = res.Reserve(ctx, "k", b.cost, time.Minute)
						if !ds[i].Allowed || ds[i].Delay != b.delay {
							t.Fatalf("Reserve(%d) #%d = %+v; want allowed after %v", b.cost, i, ds[i], b.delay)
						}
					}
					for _, i := range tt.cancel {
						res.Cancel("k", tt.book[i].cost, ds[i].Booking)
					}
					if d, _ := res.Reserve(ctx, "k", 1, time.Minute); !d.Allowed || d.Delay != tt.next {
						t.Errorf("Reserve(1) after the cancels = %+v; want allowed after %v", d, tt.next)
					}
				})
			})
		}
	}
}

// TestCancelAfterEviction: a Booking made before the key's state was
// evicted gives nothing back to the state the key has since.
func TestCancelAfterEviction(t *testing.T) {
	for name, mk := range bucketLimiters() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := mk(ratelimit.Rate{Limit: 1, Period: time.Second, Burst: 1}, ratelimit.Options{MaxKeys: 64}) // a key per shard
				if err != nil {
					t.Fatal(err)
				}
				res := l.(ratelimit.Reserver)
				ctx := context.Background()
				res.Reserve(ctx, "k", 1, 0)
				old, _ := res.Reserve(ctx, "k", 1, 10*time.Second)
				for i := range 1000 { // k's shard gets other keys: k is evicted
					l.Allow(ctx, "flood-"+strconv.Itoa(i), 1)
				}
				res.Reserve(ctx, "k", 1, 0) // a fresh state, booked as the old one was
				if d, _ := res.Reserve(ctx, "k", 1, 10*time.Second); d.Delay != time.Second {
					t.Fatalf("Reserve(k) after eviction = %+v; want a Delay of 1s", d)
				}
				res.Cancel("k", 1, old.Booking)
				if d, _ := res.Reserve(ctx, "k", 1, 10*time.Second); d.Delay != 2*time.Second {
					t.Errorf("Reserve(k) after cancelling a booking from before the eviction = %+v; want a Delay of 2s", d)
				}
			})
		})
	}
}

// TestCostTooHighAfterReserve: a refusal for a cost above the burst
// reports Remaining 0, not the debt that bookings ahead ran up.
func TestCostTooHighAfterReserve(t *testing.T) {
	for name, mk := range bucketLimiters() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := mk(ratelimit.PerSecond(10), ratelimit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				res := l.(ratelimit.Reserver)
				ctx := context.Background()
				res.Reserve(ctx, "k", 10, 0)
				res.Reserve(ctx, "k", 10, 2*time.Second) // booked ahead: a debt of twice the burst
				want := ratelimit.Decision{Limit: 10, Remaining: 0, Reset: 2 * time.Second, CostTooHigh: true}
				if d, _ := l.Allow(ctx, "k", 11); d != want {
					t.Errorf("Allow(k, 11) after bookings = %+v; want %+v", d, want)
				}
			})
		})
	}
}

// TestCancelOnlyGivesBack: a Cancel of a cost no booking can have, or
// with a booking not made, never puts a key in debt nor gives back more
// than the burst.
func TestCancelOnlyGivesBack(t *testing.T) {
	for name, mk := range bucketLimiters() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := mk(ratelimit.PerSecond(10), ratelimit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				res := l.(ratelimit.Reserver)
				ctx := context.Background()
				d, _ := res.Reserve(ctx, "k", 1, 0)
				res.Cancel("k", 36028797018963868, d.Booking) // cost·Period wraps around int64
				if d, _ := l.Allow(ctx, "k", 1); !d.Allowed || d.Remaining != 8 {
					t.Errorf("Allow after an over-large Cancel = %+v; want allowed, Remaining 8", d)
				}
				for range 3 {
					d, _ = res.Reserve(ctx, "k", 10, time.Minute)
				}
				res.Cancel("k", 1<<62, d.Booking-1<<40) // a booking from nowhere
				if d, _ := res.Reserve(ctx, "k", 10, time.Minute); !d.Allowed || d.Delay < 2*time.Second {
					t.Errorf("Reserve(10) after a bogus Cancel = %+v; want no more than a burst given back (Delay ≥ 2s)", d)
				}
			})
		})
	}
}

// TestFloodBounded sends two million distinct keys and shows that the store
// holds no more than MaxKeys, and that the heap after GC stays within what
// MaxKeys keys cost.
func TestFloodBounded(t *testing.T) {
	const maxKeys = 10_000
	n := 2_000_000
	if testing.Short() || raceEnabled {
		n = 200_000
	}
	for name, mk := range allLimiters() {
		t.Run(name, func(t *testing.T) {
			l, err := mk(ratelimit.PerSecond(10), ratelimit.Options{MaxKeys: maxKeys})
			if err != nil {
				t.Fatal(err)
			}
			heap := func() uint64 {
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			var buf []byte
			fill := func(from, to int) {
				for i := from; i < to; i++ {
					buf = strconv.AppendInt(buf[:0], int64(i), 10)
					l.Allow(context.Background(), string(buf), 1)
				}
			}
			fill(0, maxKeys*2) // the store at its bound
			before := heap()
			fill(maxKeys*2, n)
			after := heap()
			t.Logf("after %d keys: Len %d, heap %d → %d bytes", n, l.(interface{ Len() int }).Len(), before, after)
			if got := l.(interface{ Len() int }).Len(); got > maxKeys+63 {
				t.Errorf("Len after %d keys = %d; want at most %d", n, got, maxKeys)
			}
			if grown := int64(after) - int64(before); grown > 1<<20 {
				t.Errorf("heap grew by %d bytes over %d more keys; want it flat", grown, n-2*maxKeys)
			}
			runtime.KeepAlive(l)
		})
	}
}

// TestLongKeysBounded: MaxKeys bounds memory whatever the keys' length
// (a header can hold about a megabyte): long keys are stored as a hash.
func TestLongKeysBounded(t *testing.T) {
	pad := strings.Repeat("x", 16<<10)
	for name, mk := range allLimiters() {
		t.Run(name, func(t *testing.T) {
			l, err := mk(ratelimit.PerMinute(10), ratelimit.Options{MaxKeys: 640})
			if err != nil {
				t.Fatal(err)
			}
			heap := func() uint64 {
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			before := heap()
			for i := range 2000 {
				l.Allow(context.Background(), pad+strconv.Itoa(i), 1)
			}
			after := heap()
			if grown := int64(after) - int64(before); grown > 1<<20 {
				t.Errorf("heap grew by %d KiB for 640 keys of 16 KiB; want under 1 MiB", grown>>10)
			}
			runtime.KeepAlive(l)
		})
	}
}

// TestLongKeysApart: long keys that differ in their last byte have their
// own allowances, and a long key keeps its own.
func TestLongKeysApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pad := strings.Repeat("k", 100)
		for name, mk := range allLimiters() {
			l, err := mk(ratelimit.PerMinute(1), ratelimit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for _, tt := range []struct {
				key  string
				want bool
			}{{pad + "a", true}, {pad + "b", true}, {pad + "a", false}, {pad[:64], true}, {pad[:65], true}, {pad[:65], false}} {
				if d, _ := l.Allow(ctx, tt.key, 1); d.Allowed != tt.want {
					t.Errorf("%s: Allow(%d bytes ending %q) = %+v; want Allowed %v", name, len(tt.key), tt.key[len(tt.key)-1:], d, tt.want)
				}
			}
		}
	})
}

// TestIdleDropped: keys whose allowance is whole again are dropped as new
// keys come in, without a MaxKeys bound being reached.
func TestIdleDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for name, mk := range bucketLimiters() {
			l, err := mk(ratelimit.PerSecond(10), ratelimit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i := range 1000 {
				l.Allow(ctx, "old-"+strconv.Itoa(i), 1)
			}
			time.Sleep(100 * time.Millisecond) // every old key is whole again
			for i := range 1000 {
				l.Allow(ctx, "new-"+strconv.Itoa(i), 1)
			}
			if n := l.(interface{ Len() int }).Len(); n > 1100 {
				t.Errorf("%s: Len = %d after 1000 idle and 1000 new keys; want the idle ones dropped (≤ 1100)", name, n)
			}
		}
	})
}

func allLimiters() map[string]newLimiter {
	m := bucketLimiters()
	m["SlidingWindow"] = func(r ratelimit.Rate, o ratelimit.Options) (ratelimit.Limiter, error) {
		r.Burst = 0
		return ratelimit.NewSlidingWindow(r, o)
	}
	return m
}

// TestRetryAfterExact checks, over random traffic, that RetryAfter is the
// exact wait: the refused request is still refused 1ns before it and
// allowed at it.
func TestRetryAfterExact(t *testing.T) {
	for name, mk := range allLimiters() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := mk(ratelimit.Rate{Limit: 7, Period: 3 * time.Second, Burst: 7}, ratelimit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				rng := rand.New(rand.NewPCG(1, 2))
				checked := 0
				for range 2000 {
					time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
					cost := 1 + rng.Int64N(4)
					d, _ := l.Allow(ctx, "k", cost)
					if d.Allowed || d.CostTooHigh {
						continue
					}
					if d.RetryAfter <= 0 {
						t.Fatalf("refused Allow(%d) = %+v; want RetryAfter > 0", cost, d)
					}
					time.Sleep(d.RetryAfter - 1)
					if e, _ := l.Allow(ctx, "k", cost); e.Allowed {
						t.Fatalf("Allow(%d) 1ns before RetryAfter %v = allowed; want refused", cost, d.RetryAfter)
					}
					time.Sleep(1)
					if e, _ := l.Allow(ctx, "k", cost); !e.Allowed {
						t.Fatalf("Allow(%d) at RetryAfter %v = %+v; want allowed", cost, d.RetryAfter, e)
					}
					checked++
				}
				if checked < 100 {
					t.Errorf("only %d refusals checked; want the traffic to hit the limit more", checked)
				}
			})
		})
	}
}

// TestResetExact checks, over random traffic at rates whose emission
// interval is not a whole number of nanoseconds, that Reset is exact: the
// key is not whole 1ns before it and is whole at it.
func TestResetExact(t *testing.T) {
	for name, mk := range allLimiters() {
		for _, r := range []ratelimit.Rate{
			{Limit: 10, Period: time.Second},
			{Limit: 3, Period: 7 * time.Millisecond},
			{Limit: 13, Period: 999 * time.Millisecond},
		} {
			t.Run(name+"/"+r.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					l, err := mk(r, ratelimit.Options{})
					if err != nil {
						t.Fatal(err)
					}
					ctx := context.Background()
					rng := rand.New(rand.NewPCG(5, 6))
					for i := range 500 {
						time.Sleep(time.Duration(rng.Int64N(int64(r.Period) / r.Limit * 2)))
						d, _ := l.Allow(ctx, "k", 1+rng.Int64N(3))
						if i%10 != 0 || d.Reset == 0 {
							continue
						}
						time.Sleep(d.Reset - 1)
						if e, _ := l.Allow(ctx, "k", 0); e.Remaining == r.Limit {
							t.Fatalf("whole 1ns before Reset %v: %+v", d.Reset, e)
						}
						time.Sleep(1)
						if e, _ := l.Allow(ctx, "k", 0); e.Remaining != r.Limit || e.Reset != 0 {
							t.Fatalf("at Reset %v: %+v; want whole", d.Reset, e)
						}
					}
				})
			})
		}
	}
}

// TestParallelExact: many goroutines on one key at one instant are
// allowed exactly the burst between them.
func TestParallelExact(t *testing.T) {
	for name, mk := range allLimiters() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := mk(ratelimit.PerMinute(100), ratelimit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				var allowed atomic.Int64
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						for range 100 {
							if d, _ := l.Allow(context.Background(), "k", 1); d.Allowed {
								allowed.Add(1)
							}
						}
					})
				}
				wg.Wait() // time stands still in the bubble: nothing refills
				if n := allowed.Load(); n != 100 {
					t.Errorf("allowed %d of 800 at one instant; want 100", n)
				}
			})
		})
	}
}
