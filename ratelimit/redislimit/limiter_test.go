package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway/internal/redistest"
	"github.com/vivremotion/gateway/ratelimit"
	"github.com/vivremotion/gateway/ratelimit/redislimit"
)

// step is one Allow and what it must answer. Durations are checked within
// slack below the figure, since Redis's clock moves on between steps.
type step struct {
	key       string
	cost      int64
	allowed   bool
	remaining int64
	retry     time.Duration
	reset     time.Duration
	err       error
}

// slack is how far real time may move a RetryAfter or Reset down during a
// test; the rates below earn a unit in minutes, so nothing refills.
const slack = 5 * time.Second

func run(t *testing.T, l ratelimit.Limiter, steps []step) {
	t.Helper()
	for i, s := range steps {
		d, err := l.Allow(context.Background(), s.key, s.cost)
		if !errors.Is(err, s.err) {
			t.Fatalf("step %d: Allow(%q, %d) error = %v; want %v", i, s.key, s.cost, err, s.err)
		}
		if err != nil {
			continue
		}
		if d.Allowed != s.allowed || d.Remaining != s.remaining || !near(d.RetryAfter, s.retry) || !near(d.Reset, s.reset) {
			t.Errorf("step %d: Allow(%q, %d) = %+v; want allowed %v, remaining %d, retry %v, reset %v (less up to %v)",
				i, s.key, s.cost, d, s.allowed, s.remaining, s.retry, s.reset, slack)
		}
	}
}

func near(got, want time.Duration) bool { return got <= want && got > want-slack }

func TestAllow(t *testing.T) {
	// 10 an hour, burst 5: a unit every 6 minutes.
	const unit = 6 * time.Minute
	l := limiter(t, redislimit.Config{Rate: ratelimit.Rate{Limit: 10, Period: time.Hour, Burst: 5}})
	run(t, l, []step{
		{key: "a", cost: 1, allowed: true, remaining: 4, reset: unit},
		{key: "a", cost: 3, allowed: true, remaining: 1, reset: 4 * unit},
		{key: "a", cost: 2, allowed: false, remaining: 1, retry: unit, reset: 4 * unit},
		{key: "a", cost: 0, allowed: true, remaining: 1, reset: 4 * unit},
		{key: "a", cost: 1, allowed: true, remaining: 0, reset: 5 * unit},
		{key: "a", cost: 1, allowed: false, remaining: 0, retry: unit, reset: 5 * unit},
		{key: "a", cost: 5, allowed: false, remaining: 0, retry: 5 * unit, reset: 5 * unit},
		// A cost above the burst can never pass: refused, no RetryAfter.
		{key: "a", cost: 6, allowed: false, remaining: 0, reset: 5 * unit},
		{key: "a", cost: -1, err: redislimit.ErrCost},
		// Keys are apart.
		{key: "b", cost: 5, allowed: true, remaining: 0, reset: 5 * unit},
		{key: "", cost: 2, allowed: true, remaining: 3, reset: 2 * unit},
	})
}

// TestAllowCostTooHigh: a cost above the burst is refused with
// CostTooHigh and no RetryAfter, and with the key's Remaining and Reset
// as for any other refusal, in either mode.
func TestAllowCostTooHigh(t *testing.T) {
	// In local-first mode the Reset is Redis's at the last round trip,
	// which took 3 units more for the lease.
	for batch, reset := range map[int64]time.Duration{0: 24 * time.Minute, 3: 42 * time.Minute} {
		// 10 an hour: a unit every 6 minutes, nothing refills meanwhile.
		l := limiter(t, redislimit.Config{Rate: ratelimit.Rate{Limit: 10, Period: time.Hour}, Batch: batch})
		ctx := context.Background()
		d, err := l.Allow(ctx, "k", 11)
		if want := (ratelimit.Decision{Limit: 10, Remaining: 10, CostTooHigh: true}); err != nil || d != want {
			t.Errorf("batch %d: Allow(fresh key, 11) = %+v, %v; want %+v", batch, d, err, want)
		}
		l.Allow(ctx, "k", 4)
		d, err = l.Allow(ctx, "k", 11)
		if err != nil || d.Allowed || !d.CostTooHigh || d.Remaining != 6 || d.RetryAfter != 0 || !near(d.Reset, reset) {
			t.Errorf("batch %d: Allow(k, 11) after spending 4 = %+v, %v; want CostTooHigh, Remaining 6, Reset %v", batch, d, err, reset)
		}
	}
}

// TestAllowLongKeys: a key longer than 64 bytes is kept in Redis as a
// hash of fixed length, the same on every replica, so that long keys
// cost Redis little and are still limited together across replicas.
func TestAllowLongKeys(t *testing.T) {
	rc := client(t, redistest.Addr(t))
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	cfg := redislimit.Config{Prefix: prefix, Rate: ratelimit.Rate{Limit: 2, Period: time.Hour}}
	a, b := limiter(t, cfg), limiter(t, cfg) // two replicas
	long := strings.Repeat("x", 100<<10)
	for i, tt := range []struct {
		l    *redislimit.Limiter
		key  string
		want bool
	}{{a, long + "1", true}, {b, long + "1", true}, {a, long + "1", false}, {b, long + "2", true}} {
		if d, err := tt.l.Allow(ctx, tt.key, 1); err != nil || d.Allowed != tt.want {
			t.Errorf("step %d: Allow(%d bytes) = %+v, %v; want Allowed %v", i, len(tt.key), d, err, tt.want)
		}
	}
	keys, err := rc.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("KEYS %s* = %d keys, %v; want 2", prefix, len(keys), err)
	}
	for _, k := range keys {
		if len(k) > len(prefix)+64 {
			t.Errorf("a key in Redis is %d bytes long; want at most the prefix and 64", len(k))
		}
	}
}

func TestAllowLimitIsBurst(t *testing.T) {
	for _, r := range []ratelimit.Rate{
		{Limit: 10, Period: time.Hour},
		{Limit: 10, Period: time.Hour, Burst: 3},
	} {
		l := limiter(t, redislimit.Config{Rate: r})
		for _, cost := range []int64{1, 100} {
			d, err := l.Allow(context.Background(), "k", cost)
			if err != nil || d.Limit != r.BurstOrLimit() {
				t.Errorf("%v: Allow(k, %d) = %+v, %v; want Limit %d", r, cost, d, err, r.BurstOrLimit())
			}
		}
	}
}

// TestAllowExactFraction: 3 a second is an emission interval of 333333⅓
// µs, kept exact: three units at once make a Reset of exactly one second,
// where rounding the interval to whole microseconds would make 999999 µs.
func TestAllowExactFraction(t *testing.T) {
	for _, tc := range []struct {
		rate ratelimit.Rate
		cost int64
		want time.Duration
	}{
		{ratelimit.Rate{Limit: 3, Period: time.Second}, 3, time.Second},
		{ratelimit.Rate{Limit: 3, Period: time.Second}, 1, 333334 * time.Microsecond},
		{ratelimit.Rate{Limit: 7, Period: time.Second}, 7, time.Second},
		{ratelimit.Rate{Limit: 1000, Period: time.Hour}, 1000, time.Hour},
	} {
		l := limiter(t, redislimit.Config{Rate: tc.rate})
		d, err := l.Allow(context.Background(), "fresh", tc.cost)
		if err != nil || !d.Allowed || d.Reset != tc.want {
			t.Errorf("%v: Allow(fresh, %d) = %+v, %v; want allowed, Reset %v", tc.rate, tc.cost, d, err, tc.want)
		}
	}
}

// TestAllowRefills waits, in real time since the clock is Redis's, for
// the RetryAfter of a refusal: then the same request passes. The
// RetryAfter is at most the time two units take to earn, however slowly
// the test runs.
func TestAllowRefills(t *testing.T) {
	l := limiter(t, redislimit.Config{Rate: ratelimit.Rate{Limit: 50, Period: time.Second, Burst: 2}})
	ctx := context.Background()
	for range 2 {
		if d, err := l.Allow(ctx, "k", 1); err != nil || !d.Allowed {
			t.Fatalf("Allow(k, 1) = %+v, %v; want allowed", d, err)
		}
	}
	d, err := l.Allow(ctx, "k", 2)
	if err != nil || d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 40*time.Millisecond {
		t.Fatalf("Allow(k, 2) = %+v, %v; want refused, RetryAfter in (0, 40ms]", d, err)
	}
	time.Sleep(d.RetryAfter)
	if d, err := l.Allow(ctx, "k", 2); err != nil || !d.Allowed || d.Remaining != 0 {
		t.Fatalf("Allow(k, 2) after RetryAfter = %+v, %v; want allowed, Remaining 0", d, err)
	}
}

// TestAllowKeys checks what the limiter leaves in Redis: the key under
// the prefix, with a TTL equal to the Reset, so that idle keys expire.
func TestAllowKeys(t *testing.T) {
	rc := client(t, redistest.Addr(t))
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	l := limiter(t, redislimit.Config{Client: rc, Prefix: prefix, Rate: ratelimit.Rate{Limit: 7, Period: time.Minute}})
	key := []byte("client-1")
	d, err := l.Allow(ctx, string(key), 3)
	if err != nil || !d.Allowed {
		t.Fatalf("Allow = %+v, %v; want allowed", d, err)
	}
	copy(key, "XXXXXXXX") // the key was valid only during the call
	v, err := rc.Get(ctx, prefix+"client-1").Result()
	if err != nil {
		t.Fatalf("GET %sclient-1 = %v; want the key's state", prefix, err)
	}
	if f := strings.Fields(v); len(f) != 3 || f[2] != "7" {
		t.Errorf("GET %sclient-1 = %q; want \"tat rem 7\"", prefix, v)
	}
	ttl, err := rc.PTTL(ctx, prefix+"client-1").Result()
	if err != nil || ttl <= 0 || ttl > d.Reset+time.Millisecond || ttl < d.Reset-slack {
		t.Errorf("PTTL = %v, %v; want the Reset, %v", ttl, err, d.Reset)
	}
	if n, _ := rc.Exists(ctx, prefix+"XXXXXXXX").Result(); n != 0 {
		t.Errorf("the caller's buffer, changed after the call, made a key")
	}

	// The default prefix.
	def, err := redislimit.New(redislimit.Config{Client: rc, Rate: ratelimit.PerMinute(5)})
	if err != nil {
		t.Fatal(err)
	}
	k := prefix + "default"
	if _, err := def.Allow(ctx, k, 1); err != nil {
		t.Fatal(err)
	}
	defer rc.Del(ctx, "ratelimit:"+k)
	if n, _ := rc.Exists(ctx, "ratelimit:"+k).Result(); n != 1 {
		t.Errorf("EXISTS ratelimit:%s = %d; want 1 with the default prefix", k, n)
	}
}

// TestAllowForeignState: a key written under another Rate (a rolling
// deploy that changed it) or holding garbage gives sane decisions.
func TestAllowForeignState(t *testing.T) {
	rc := client(t, redistest.Addr(t))
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	old := limiter(t, redislimit.Config{Client: rc, Prefix: prefix, Rate: ratelimit.Rate{Limit: 3, Period: time.Hour}})
	if d, err := old.Allow(ctx, "k", 3); err != nil || !d.Allowed {
		t.Fatalf("old Allow(k, 3) = %+v, %v", d, err)
	}
	// 7 an hour, burst 2: the old state (an hour of debt) is capped to
	// this rate's burst, so the key waits for one unit, not for an hour.
	cur := limiter(t, redislimit.Config{Client: rc, Prefix: prefix, Rate: ratelimit.Rate{Limit: 7, Period: time.Hour, Burst: 2}})
	unit := time.Hour / 7
	if d, err := cur.Allow(ctx, "k", 1); err != nil || d.Allowed || !near(d.RetryAfter, unit+time.Microsecond) {
		t.Errorf("Allow(k, 1) over another rate's state = %+v, %v; want refused, RetryAfter %v", d, err, unit)
	}
	rc.Set(ctx, prefix+"junk", "not a state", 0)
	if d, err := cur.Allow(ctx, "junk", 1); err != nil || !d.Allowed || d.Remaining != 1 {
		t.Errorf("Allow(junk, 1) over garbage = %+v, %v; want allowed as a fresh key", d, err)
	}
	rc.HSet(ctx, prefix+"hash", "f", "v")
	if _, err := cur.Allow(ctx, "hash", 1); !errors.Is(err, redislimit.ErrUnavailable) {
		t.Errorf("Allow(hash, 1) over a hash = %v; want ErrUnavailable (WRONGTYPE)", err)
	}
}

func TestNew(t *testing.T) {
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer rc.Close()
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer plain.Close()
	ok := ratelimit.PerSecond(10)
	for _, tc := range []struct {
		name string
		cfg  redislimit.Config
		want string // "" when New must succeed
	}{
		{"ok", redislimit.Config{Client: rc, Rate: ok}, ""},
		{"no client", redislimit.Config{Rate: ok}, "redislimit: no client"},
		{"nil *Client", redislimit.Config{Client: (*redis.Client)(nil), Rate: ok}, "redislimit: no client"},
		{"nil *ClusterClient", redislimit.Config{Client: (*redis.ClusterClient)(nil), Rate: ok}, "redislimit: no client"},
		{"zero rate", redislimit.Config{Client: rc}, "ratelimit: invalid rate: limit 0 is not positive"},
		{"no period", redislimit.Config{Client: rc, Rate: ratelimit.Rate{Limit: 1}}, "ratelimit: invalid rate: period 0s is not positive"},
		{"negative burst", redislimit.Config{Client: rc, Rate: ratelimit.Rate{Limit: 1, Period: time.Second, Burst: -1}}, "ratelimit: invalid rate: burst -1 is negative"},
		{"sub-µs period", redislimit.Config{Client: rc, Rate: ratelimit.Rate{Limit: 1, Period: 1500 * time.Nanosecond}}, "ratelimit: invalid rate: period 1.5µs is not a whole number of microseconds"},
		{"too fine", redislimit.Config{Client: rc, Rate: ratelimit.Rate{Limit: 1_000_003, Period: 24 * time.Hour}}, "ratelimit: invalid rate: 1000003/24h0m0s (burst 1000003) needs figures beyond 2^53"},
		{"fine but fits", redislimit.Config{Client: rc, Rate: ratelimit.Rate{Limit: 1_000_000_000, Period: time.Hour}}, ""},
		{"negative batch", redislimit.Config{Client: rc, Rate: ok, Batch: -1}, "redislimit: batch -1 is not between 0 and the burst, 10"},
		{"batch over burst", redislimit.Config{Client: rc, Rate: ok, Batch: 11}, "redislimit: batch 11 is not between 0 and the burst, 10"},
		{"batch of burst", redislimit.Config{Client: rc, Rate: ok, Batch: 10}, ""},
		{"negative MaxKeys", redislimit.Config{Client: rc, Rate: ok, Batch: 1, MaxKeys: -1}, "redislimit: MaxKeys -1 is negative"},
		{"deadlines ignored", redislimit.Config{Client: plain, Rate: ok}, "redislimit: the client ignores context deadlines"},
		{"client's own timeouts", redislimit.Config{Client: plain, Rate: ok, Timeout: -1}, ""},
	} {
		cfg := tc.cfg
		l, err := redislimit.New(cfg)
		switch {
		case tc.want == "" && (err != nil || l == nil):
			t.Errorf("%s: New() = %v, %v; want a Limiter", tc.name, l, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: New() error = %v; want %q...", tc.name, err, tc.want)
		case tc.want != "" && l != nil:
			t.Errorf("%s: New() = %v with an error; want nil", tc.name, l)
		}
		if fmt.Sprint(cfg) != fmt.Sprint(tc.cfg) {
			t.Errorf("%s: New changed its Config: %+v; was %+v", tc.name, cfg, tc.cfg)
		}
	}
}
