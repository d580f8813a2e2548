package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/cache/store"
	"github.com/vivremotion/gateway/internal/redistest"
)

// client returns a client of the Redis server at addr, closed when t ends.
func client(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// newRedis returns a Redis store on the shared test server with c, a
// client of its own and a prefix no other test uses.
func newRedis(t testing.TB, c store.RedisConfig) *store.Redis {
	t.Helper()
	if c.Client == nil {
		c.Client = client(t, redistest.Addr(t))
	}
	if c.Prefix == "" {
		c.Prefix = redistest.Prefix(t)
	}
	r, err := store.NewRedis(c)
	if err != nil {
		t.Fatalf("NewRedis error %v", err)
	}
	return r
}

func TestNewRedisErrors(t *testing.T) {
	t.Parallel()
	var nilClient *redis.Client
	noDeadlines := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer noDeadlines.Close()
	ok := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer ok.Close()
	for _, c := range []store.RedisConfig{
		{},
		{Client: nilClient},
		{Client: ok, MaxEntry: -1},
		{Client: noDeadlines},
	} {
		if _, err := store.NewRedis(c); err == nil {
			t.Errorf("NewRedis(%+v) error = nil; want one", c)
		}
	}
	for _, c := range []store.RedisConfig{
		{Client: noDeadlines, Timeout: -1},
		{Client: ok, Grace: -1},
	} {
		if _, err := store.NewRedis(c); err != nil {
			t.Errorf("NewRedis(%+v) error %v; want none", c, err)
		}
	}
}

func TestRedisRoundTrip(t *testing.T) {
	t.Parallel()
	r := newRedis(t, store.RedisConfig{})
	ctx := context.Background()
	e := benchEntry()
	e.Stored = e.Stored.Round(0).UTC()
	e.Expires = e.Expires.Round(0).UTC()
	r.Set(ctx, "GET example.com/a", e)
	got, ok := r.Get(ctx, "GET example.com/a")
	if !ok {
		t.Fatalf("Get after Set: miss")
	}
	if got.Status != e.Status || string(got.Body) != string(e.Body) || !got.Expires.Equal(e.Expires) ||
		!got.Stored.Equal(e.Stored) || fmt.Sprint(got.Header) != fmt.Sprint(e.Header) {
		t.Errorf("Get = %+v; want %+v", got, e)
	}
	if _, ok := r.Get(ctx, "GET example.com/other"); ok {
		t.Errorf("Get(never set) ok; want a miss")
	}
}

func TestRedisPurge(t *testing.T) {
	t.Parallel()
	run(t, newRedis(t, store.RedisConfig{}), purgeSteps())
}

// TestRedisTTL checks each key's TTL: until Expires plus Grace, for the
// entry and for its tag sets, which keep the longest TTL of their members.
func TestRedisTTL(t *testing.T) {
	t.Parallel()
	c := client(t, redistest.Addr(t))
	prefix := redistest.Prefix(t)
	r := newRedis(t, store.RedisConfig{Client: c, Prefix: prefix, Grace: time.Minute})
	ctx := context.Background()
	r.Set(ctx, "long", entry(time.Hour, 10, "t"))
	r.Set(ctx, "short", entry(time.Minute, 10, "t"))
	check := func(key string, want time.Duration) {
		t.Helper()
		got, err := c.PTTL(ctx, key).Result()
		if err != nil || got > want || got < want-5*time.Second {
			t.Errorf("PTTL(%s) = %v, %v; want about %v", key, got, err, want)
		}
	}
	check(prefix+"k:long", time.Hour+time.Minute)
	check(prefix+"k:short", 2*time.Minute)
	check(prefix+"t:t", time.Hour+time.Minute)
	// An entry already past Expires+Grace is not stored.
	r.Set(ctx, "past", entry(-2*time.Minute, 10))
	if n, _ := c.Exists(ctx, prefix+"k:past").Result(); n != 0 {
		t.Errorf("an entry past Expires+Grace was stored")
	}
}

// TestRedisGrace checks how long past Expires each Grace keeps an entry:
// the TTL Set gives it, whether Set stores one just expired, and whether
// Get serves one just expired that Redis still holds. Zero Grace means
// DefaultGrace (10 minutes), negative means none.
func TestRedisGrace(t *testing.T) {
	t.Parallel()
	c := client(t, redistest.Addr(t))
	ctx := context.Background()
	for _, tc := range []struct {
		grace, kept time.Duration
	}{
		{0, 10 * time.Minute},
		{-1, 0},
		{-time.Hour, 0},
		{time.Minute, time.Minute},
	} {
		prefix := redistest.Prefix(t)
		r := newRedis(t, store.RedisConfig{Client: c, Prefix: prefix, Grace: tc.grace})
		r.Set(ctx, "fresh", entry(time.Hour, 10))
		want := time.Hour + tc.kept
		if got, err := c.PTTL(ctx, prefix+"k:fresh").Result(); err != nil || got > want || got < want-5*time.Second {
			t.Errorf("Grace %v: PTTL = %v, %v; want about %v", tc.grace, got, err, want)
		}
		r.Set(ctx, "expired", entry(-time.Second, 10))
		if n, err := c.Exists(ctx, prefix+"k:expired").Result(); err != nil || (n == 1) != (tc.kept > 0) {
			t.Errorf("Grace %v: Set(expired 1s ago) stored = %v, %v; want %v", tc.grace, n == 1, err, tc.kept > 0)
		}
		c.HSet(ctx, prefix+"k:held", "v", store.Encode(nil, entry(-time.Second, 1)))
		c.Expire(ctx, prefix+"k:held", time.Hour)
		if _, ok := r.Get(ctx, "held"); ok != (tc.kept > 0) {
			t.Errorf("Grace %v: Get(expired 1s ago, still held) ok = %v; want %v", tc.grace, ok, tc.kept > 0)
		}
	}
}

// TestRedisVariantIndex checks that a variant index (Status 0, no header,
// no VaryValues) comes back from Redis whole, its header nil whether it
// was nil or empty.
func TestRedisVariantIndex(t *testing.T) {
	t.Parallel()
	r := newRedis(t, store.RedisConfig{})
	ctx := context.Background()
	for _, h := range []http.Header{nil, {}} {
		e := variantIndex(time.Hour)
		e.Header = h
		want := *e
		want.Header = nil
		r.Set(ctx, "GET example.com/a", e)
		got, ok := r.Get(ctx, "GET example.com/a")
		if !ok || !reflect.DeepEqual(*got, want) {
			t.Errorf("Get(variant index, header %#v) = %+v, %v; want %+v, true", h, got, ok, want)
		}
	}
}

func TestRedisOversizeRefused(t *testing.T) {
	t.Parallel()
	r := newRedis(t, store.RedisConfig{MaxEntry: 2000})
	ctx := context.Background()
	small, big := entry(time.Hour, 1900), entry(time.Hour, 2000)
	r.Set(ctx, "small", small)
	r.Set(ctx, "big", big)
	if _, ok := r.Get(ctx, "small"); !ok {
		t.Errorf("Get(entry of %d bytes encoded, MaxEntry 2000) miss; want a hit", store.EncodedLen(small))
	}
	if _, ok := r.Get(ctx, "big"); ok {
		t.Errorf("Get(entry of %d bytes encoded, MaxEntry 2000) hit; want refused", store.EncodedLen(big))
	}
}

// TestRedisMalformedIsMiss checks that what another writer left under a
// key (another codec version, garbage) is a miss reported to OnError.
func TestRedisMalformedIsMiss(t *testing.T) {
	t.Parallel()
	c := client(t, redistest.Addr(t))
	prefix := redistest.Prefix(t)
	var errs atomic.Int32
	r := newRedis(t, store.RedisConfig{Client: c, Prefix: prefix, OnError: func(err error) {
		if !errors.Is(err, store.ErrCodec) {
			t.Errorf("OnError(%v); want ErrCodec", err)
		}
		errs.Add(1)
	}})
	c.HSet(context.Background(), prefix+"k:bad", "v", "\x02garbage")
	c.Expire(context.Background(), prefix+"k:bad", time.Minute)
	if _, ok := r.Get(context.Background(), "bad"); ok || errs.Load() != 1 {
		t.Errorf("Get(malformed) ok = %v, OnError calls %d; want a miss and 1", ok, errs.Load())
	}
}

// TestRedisDown checks that with Redis stopped Get misses and Set does
// nothing, without panics, each error reported to OnError, and that the
// store works again once Redis is back.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var errs atomic.Int32
	r := newRedis(t, store.RedisConfig{Client: client(t, srv.Addr), Backoff: -1, OnError: func(error) { errs.Add(1) }})
	ctx := context.Background()
	r.Set(ctx, "k", entry(time.Hour, 10, "t"))
	if _, ok := r.Get(ctx, "k"); !ok {
		t.Fatalf("Get with Redis up: miss")
	}
	srv.Stop()
	if _, ok := r.Get(ctx, "k"); ok {
		t.Errorf("Get with Redis down: hit; want a miss")
	}
	r.Set(ctx, "k", entry(time.Hour, 10))
	r.Set(ctx, "k", entry(time.Hour, 10, "t"))
	if n := errs.Load(); n != 3 {
		t.Errorf("OnError calls with Redis down = %d; want 3 (one Get, two Sets)", n)
	}
	if _, err := r.PurgeTag(ctx, "t"); err == nil {
		t.Errorf("PurgeTag with Redis down: no error; want one")
	}
	if _, err := r.PurgePrefix(ctx, ""); err == nil {
		t.Errorf("PurgePrefix with Redis down: no error; want one")
	}
	srv.Restart()
	r.Set(ctx, "k", entry(time.Hour, 10))
	if _, ok := r.Get(ctx, "k"); !ok {
		t.Errorf("Get after Redis restarted and Set: miss; want a hit")
	}
}

// TestRedisBackoff checks that after a failure to reach Redis, Get and Set
// skip it (no wait, no OnError) for Backoff, and use it again after.
func TestRedisBackoff(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		backoff      time.Duration
		wantOnErrors int32
		wantHit      bool // after the restart
	}{
		{time.Hour, 1, false},
		{time.Millisecond, 1, true}, // the restart outlasts the backoff
	} {
		srv := redistest.Start(t)
		var errs atomic.Int32
		r := newRedis(t, store.RedisConfig{Client: client(t, srv.Addr), Backoff: tt.backoff, OnError: func(error) { errs.Add(1) }})
		ctx := context.Background()
		srv.Stop()
		r.Get(ctx, "k")
		for range 3 {
			r.Set(ctx, "k", entry(time.Hour, 10, "t"))
			r.Get(ctx, "k")
		}
		if n := errs.Load(); n != 1 {
			t.Errorf("Backoff %v: OnError calls = %d; want 1, the later calls skipped", tt.backoff, n)
		}
		srv.Restart()
		r.Set(ctx, "k", entry(time.Hour, 10))
		if _, ok := r.Get(ctx, "k"); ok != tt.wantHit {
			t.Errorf("Backoff %v: Get after restart ok = %v; want %v", tt.backoff, ok, tt.wantHit)
		}
	}
}

func TestRedisPurgePrefixMany(t *testing.T) {
	t.Parallel()
	r := newRedis(t, store.RedisConfig{})
	ctx := context.Background()
	for i := range 1200 {
		r.Set(ctx, fmt.Sprint("GET /a/", i), entry(time.Hour, 1))
	}
	r.Set(ctx, "GET /b/1", entry(time.Hour, 1))
	if n, err := r.PurgePrefix(ctx, "GET /a/"); n != 1200 || err != nil {
		t.Errorf("PurgePrefix = %d, %v; want 1200, nil", n, err)
	}
	if _, ok := r.Get(ctx, "GET /b/1"); !ok {
		t.Errorf("Get(other prefix) after PurgePrefix: miss; want a hit")
	}
}

func TestRedisConcurrent(t *testing.T) {
	t.Parallel()
	r := newRedis(t, store.RedisConfig{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				k := fmt.Sprint("GET /", i%20)
				switch (g + i) % 3 {
				case 0:
					r.Set(ctx, k, entry(time.Hour, 100, "t"))
				case 1:
					r.PurgeTag(ctx, "t")
				default:
					if e, ok := r.Get(ctx, k); ok && e.Status != 200 {
						t.Errorf("Get(%q).Status = %d; want 200", k, e.Status)
					}
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkRedis measures one Get hit and one Set (with and without tags)
// against the local test server: one round trip each.
func BenchmarkRedis(b *testing.B) {
	r := newRedis(b, store.RedisConfig{})
	ctx := context.Background()
	e := benchEntry()
	e.Expires = time.Now().Add(time.Hour)
	untagged := &cache.Entry{Status: e.Status, Header: http.Header{"Content-Type": {"text/plain"}}, Body: e.Body, Expires: e.Expires}
	r.Set(ctx, "GET example.com/a", e)
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := r.Get(ctx, "GET example.com/a"); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("Set", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Set(ctx, "GET example.com/b", untagged)
		}
	})
	b.Run("SetTagged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Set(ctx, "GET example.com/a", e)
		}
	})
}

// counter is a go-redis hook that counts the commands and pipelines sent.
type counter struct{ n atomic.Int32 }

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestRedisOneRoundTrip checks that Get, Set and Set with tags each send
// one command (once the tag script is loaded in Redis).
func TestRedisOneRoundTrip(t *testing.T) {
	t.Parallel()
	c := client(t, redistest.Addr(t))
	var cnt counter
	c.AddHook(&cnt)
	r := newRedis(t, store.RedisConfig{Client: c})
	ctx := context.Background()
	r.Set(ctx, "warm", entry(time.Hour, 10, "t")) // loads the script
	for _, tt := range []struct {
		name string
		do   func()
	}{
		{"Set", func() { r.Set(ctx, "k", entry(time.Hour, 10)) }},
		{"Set with tags", func() { r.Set(ctx, "k", entry(time.Hour, 10, "a,b,c")) }},
		{"Get hit", func() { r.Get(ctx, "k") }},
		{"Get miss", func() { r.Get(ctx, "absent") }},
	} {
		before := cnt.n.Load()
		tt.do()
		if n := cnt.n.Load() - before; n != 1 {
			t.Errorf("%s: %d round trips; want 1", tt.name, n)
		}
	}
}

// deadlineHook records, for each command sent, whether its context had a
// deadline.
type deadlineHook struct {
	mu      sync.Mutex
	without []string // commands sent without a deadline
	sent    int
}

func (h *deadlineHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *deadlineHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record(ctx, cmd.Name())
		return next(ctx, cmd)
	}
}

func (h *deadlineHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			h.record(ctx, c.Name())
		}
		return next(ctx, cmds)
	}
}

func (h *deadlineHook) record(ctx context.Context, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent++
	if _, ok := ctx.Deadline(); !ok {
		h.without = append(h.without, name)
	}
}

// TestRedisPurgeTimeout checks that every call of Purge, PurgePrefix and
// PurgeTag to Redis is bounded by Timeout, as Get and Set are, even when
// the caller's context has no deadline.
func TestRedisPurgeTimeout(t *testing.T) {
	t.Parallel()
	c := client(t, redistest.Addr(t))
	r := newRedis(t, store.RedisConfig{Client: c, Timeout: time.Second})
	ctx := context.Background()
	for _, k := range []string{"a1", "a2", "b"} {
		r.Set(ctx, k, entry(time.Hour, 1, "t"))
	}
	h := &deadlineHook{}
	c.AddHook(h)
	if _, err := r.Purge(ctx, "b"); err != nil {
		t.Fatalf("Purge error %v", err)
	}
	if _, err := r.PurgePrefix(ctx, "a"); err != nil {
		t.Fatalf("PurgePrefix error %v", err)
	}
	if _, err := r.PurgeTag(ctx, "t"); err != nil {
		t.Fatalf("PurgeTag error %v", err)
	}
	if h.sent < 4 || len(h.without) > 0 {
		t.Errorf("purges sent %d commands, %v without a deadline; want all with one", h.sent, h.without)
	}
}

// TestRedisReplacedTags checks that an entry stored again without a tag
// leaves that tag's set: purging the old tag no longer removes it.
func TestRedisReplacedTags(t *testing.T) {
	t.Parallel()
	r := newRedis(t, store.RedisConfig{})
	ctx := context.Background()
	r.Set(ctx, "k", entry(time.Hour, 1, "old", "both"))
	r.Set(ctx, "k", entry(time.Hour, 1, "both"))
	if n, err := r.PurgeTag(ctx, "old"); n != 0 || err != nil {
		t.Errorf("PurgeTag(old) = %d, %v; want 0, nil", n, err)
	}
	if _, ok := r.Get(ctx, "k"); !ok {
		t.Fatalf("Get(k) missed after PurgeTag of a tag it no longer has")
	}
	r.Set(ctx, "k", entry(time.Hour, 1)) // no tags at all
	if n, err := r.PurgeTag(ctx, "both"); n != 0 || err != nil {
		t.Errorf("PurgeTag(both) = %d, %v; want 0, nil", n, err)
	}
	if _, ok := r.Get(ctx, "k"); !ok {
		t.Errorf("Get(k) missed after PurgeTag of a tag it no longer has")
	}
}

// TestRedisTagSetTrimmed checks that a tag set drops its expired members
// when an entry is stored with the tag, and that PurgeTag walks a tag of
// more members than one batch.
func TestRedisTagSetTrimmed(t *testing.T) {
	t.Parallel()
	c := client(t, redistest.Addr(t))
	prefix := redistest.Prefix(t)
	r := newRedis(t, store.RedisConfig{Client: c, Prefix: prefix})
	ctx := context.Background()
	for i := range 1200 {
		r.Set(ctx, fmt.Sprint("live", i), entry(time.Hour, 1, "all"))
	}
	// Expired members, as Redis keeps them once their entries are gone.
	for i := range 50 {
		c.ZAdd(ctx, prefix+"t:all", redis.Z{Score: float64(time.Now().Add(-time.Minute).UnixMilli()), Member: fmt.Sprint(prefix, "k:gone", i)})
	}
	r.Set(ctx, "live0", entry(time.Hour, 1, "all"))
	if n, err := c.ZCard(ctx, prefix+"t:all").Result(); n != 1200 || err != nil {
		t.Errorf("tag set holds %d members, %v; want 1200 (expired ones dropped)", n, err)
	}
	if n, err := r.PurgeTag(ctx, "all"); n != 1200 || err != nil {
		t.Errorf("PurgeTag(all) = %d, %v; want 1200, nil", n, err)
	}
	if n, _ := c.Exists(ctx, prefix+"t:all", prefix+"k:live7").Result(); n != 0 {
		t.Errorf("after PurgeTag, %d of the tag set and an entry remain; want 0", n)
	}
}

// TestRedisGetOverMaxEntry checks that Get refuses, as malformed, a value
// longer than MaxEntry, which this store would not have stored, without
// decoding it.
func TestRedisGetOverMaxEntry(t *testing.T) {
	t.Parallel()
	c := client(t, redistest.Addr(t))
	prefix := redistest.Prefix(t)
	var errs atomic.Int32
	r := newRedis(t, store.RedisConfig{Client: c, Prefix: prefix, MaxEntry: 1 << 10, OnError: func(err error) {
		if !errors.Is(err, store.ErrCodec) {
			t.Errorf("OnError(%v); want ErrCodec", err)
		}
		errs.Add(1)
	}})
	ctx := context.Background()
	big := store.Encode(nil, entry(time.Hour, 2<<10))
	c.HSet(ctx, prefix+"k:big", "v", big)
	c.Expire(ctx, prefix+"k:big", time.Minute)
	if _, ok := r.Get(ctx, "big"); ok || errs.Load() != 1 {
		t.Errorf("Get(over MaxEntry) ok = %v, OnError calls %d; want a miss and 1", ok, errs.Load())
	}
}

// TestRedisGetExpiredEncoding checks that Get misses on an entry past its
// Expires plus Grace even while Redis still holds it (a longer TTL, set by
// another replica with a longer Grace, or a clock ahead).
func TestRedisGetExpiredEncoding(t *testing.T) {
	t.Parallel()
	c := client(t, redistest.Addr(t))
	prefix := redistest.Prefix(t)
	r := newRedis(t, store.RedisConfig{Client: c, Prefix: prefix, Grace: time.Second})
	ctx := context.Background()
	for _, tc := range []struct {
		key string
		ttl time.Duration
		ok  bool
	}{{"expired", -2 * time.Second, false}, {"fresh", time.Hour, true}} {
		c.HSet(ctx, prefix+"k:"+tc.key, "v", store.Encode(nil, entry(tc.ttl, 1)))
		c.Expire(ctx, prefix+"k:"+tc.key, time.Hour)
		if _, ok := r.Get(ctx, tc.key); ok != tc.ok {
			t.Errorf("Get(%s) ok = %v; want %v", tc.key, ok, tc.ok)
		}
	}
}

// TestRedisCancelledCallerNoBackoff checks that a Get or Set failing only
// because its caller's context was cancelled starts no backoff: the next
// caller still reaches Redis.
func TestRedisCancelledCallerNoBackoff(t *testing.T) {
	t.Parallel()
	var errs atomic.Int32
	r := newRedis(t, store.RedisConfig{Backoff: time.Hour, OnError: func(error) { errs.Add(1) }})
	ctx := context.Background()
	r.Set(ctx, "k", entry(time.Hour, 1))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok := r.Get(cancelled, "k"); ok {
		t.Fatalf("Get with a cancelled context hit; want a miss")
	}
	r.Set(cancelled, "k2", entry(time.Hour, 1))
	if errs.Load() == 0 {
		t.Fatalf("OnError not called for the cancelled calls; the test reaches no error")
	}
	if _, ok := r.Get(ctx, "k"); !ok {
		t.Errorf("Get after a cancelled caller missed; want a hit (no backoff)")
	}
}

// TestTagsCapped checks that only the first 64 tags of an entry are kept,
// in both stores.
func TestTagsCapped(t *testing.T) {
	t.Parallel()
	ts := make([]string, 70)
	for i := range ts {
		ts[i] = fmt.Sprint("t", i)
	}
	for _, s := range []interface {
		store.Purger
		Set(context.Context, string, *cache.Entry)
	}{newMemory(t, store.MemoryConfig{}), newRedis(t, store.RedisConfig{})} {
		ctx := context.Background()
		s.Set(ctx, "k", entry(time.Hour, 1, strings.Join(ts, ",")))
		for _, tc := range []struct {
			tag  string
			want int
		}{{"t64", 0}, {"t69", 0}, {"t63", 1}} {
			if n, err := s.PurgeTag(ctx, tc.tag); n != tc.want || err != nil {
				t.Errorf("%T.PurgeTag(%s) = %d, %v; want %d, nil", s, tc.tag, n, err, tc.want)
			}
		}
	}
}
