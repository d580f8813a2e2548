package store_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/cache/store"
)

// entry returns an entry fresh for ttl from now, with a body of n bytes
// and the given Cache-Tag values.
func entry(ttl time.Duration, n int, tags ...string) *cache.Entry {
	e := &cache.Entry{
		Status:  200,
		Header:  http.Header{},
		Body:    []byte(strings.Repeat("b", n)),
		Stored:  time.Now(),
		Expires: time.Now().Add(ttl),
	}
	if len(tags) > 0 {
		e.Header["Cache-Tag"] = tags
	}
	return e
}

func newMemory(t testing.TB, c store.MemoryConfig) *store.Memory {
	t.Helper()
	m, err := store.NewMemory(c)
	if err != nil {
		t.Fatalf("NewMemory(%+v) error %v", c, err)
	}
	return m
}

// step is one operation on a store and what it must answer.
type step struct {
	op   string // "set", "get", "purge", "prefix", "tag"
	key  string
	e    *cache.Entry
	want int // get: 1 hit, 0 miss; purges: count
}

// run applies steps to s in order.
func run(t *testing.T, s interface {
	store.Purger
	Get(context.Context, string) (*cache.Entry, bool)
	Set(context.Context, string, *cache.Entry)
}, steps []step) {
	t.Helper()
	ctx := context.Background()
	for i, st := range steps {
		switch st.op {
		case "set":
			s.Set(ctx, st.key, st.e)
		case "get":
			e, ok := s.Get(ctx, st.key)
			if got := map[bool]int{true: 1}[ok]; got != st.want {
				t.Fatalf("step %d: Get(%q) ok = %v; want %v", i, st.key, ok, st.want == 1)
			}
			if ok && e == nil {
				t.Fatalf("step %d: Get(%q) = nil, true", i, st.key)
			}
		case "purge", "prefix", "tag":
			var n int
			var err error
			switch st.op {
			case "purge":
				n, err = s.Purge(ctx, st.key)
			case "prefix":
				n, err = s.PurgePrefix(ctx, st.key)
			case "tag":
				n, err = s.PurgeTag(ctx, st.key)
			}
			if err != nil || n != st.want {
				t.Fatalf("step %d: %s(%q) = %d, %v; want %d, nil", i, st.op, st.key, n, err, st.want)
			}
		default:
			t.Fatalf("step %d: unknown op %q", i, st.op)
		}
	}
}

func TestNewMemoryErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []store.MemoryConfig{
		{MaxBytes: -1},
		{MaxEntry: -1},
		{MaxBytes: 1000, MaxEntry: 1001},
	} {
		if _, err := store.NewMemory(c); err == nil {
			t.Errorf("NewMemory(%+v) error = nil; want one", c)
		}
	}
	for _, c := range []store.MemoryConfig{{}, {Grace: -time.Second}} {
		want := c
		if _, err := store.NewMemory(c); err != nil || c != want {
			t.Errorf("NewMemory(%+v) = %v, config now %+v; want no error and the config untouched", want, err, c)
		}
	}
}

// purgeSteps is the purge behaviour both stores share.
func purgeSteps() []step {
	return []step{
		// Purging what was never stored removes nothing, and is no error.
		{op: "purge", key: "GET never.example/", want: 0},
		{op: "prefix", key: "GET never.example/", want: 0},
		{op: "tag", key: "never", want: 0},
		{op: "set", key: "GET a.example/x/1", e: entry(time.Hour, 10, "red, blue")},
		{op: "set", key: "GET a.example/x/2", e: entry(time.Hour, 10, "blue")},
		{op: "set", key: "GET a.example/y/1", e: entry(time.Hour, 10, "green")},
		{op: "set", key: "GET b.example/x/1", e: entry(time.Hour, 10)},
		{op: "purge", key: "GET b.example/x/1", want: 1},
		{op: "get", key: "GET b.example/x/1", want: 0},
		{op: "purge", key: "GET b.example/x/1", want: 0},
		{op: "tag", key: "blue", want: 2},
		{op: "get", key: "GET a.example/x/1", want: 0},
		{op: "get", key: "GET a.example/x/2", want: 0},
		{op: "get", key: "GET a.example/y/1", want: 1},
		{op: "tag", key: "blue", want: 0},
		{op: "tag", key: "red", want: 0},
		{op: "set", key: "GET a.example/x/1", e: entry(time.Hour, 10)},
		{op: "set", key: "GET a.example/x*", e: entry(time.Hour, 10)},
		{op: "prefix", key: "GET a.example/x*", want: 1},
		{op: "prefix", key: "GET a.example/", want: 2},
		{op: "get", key: "GET a.example/y/1", want: 0},
		{op: "tag", key: "green", want: 0},
	}
}

func TestMemoryPurge(t *testing.T) {
	t.Parallel()
	run(t, newMemory(t, store.MemoryConfig{}), purgeSteps())
}

func TestMemoryTagHeader(t *testing.T) {
	t.Parallel()
	m := newMemory(t, store.MemoryConfig{TagHeader: "surrogate-key"})
	e := entry(time.Hour, 1)
	e.Header.Set("Surrogate-Key", "a  b\tc")
	m.Set(context.Background(), "k", e)
	for _, tag := range []string{"a", "b", "c"} {
		m.Set(context.Background(), "k", e)
		if n, _ := m.PurgeTag(context.Background(), tag); n != 1 {
			t.Errorf("PurgeTag(%q) = %d; want 1", tag, n)
		}
	}
	off := newMemory(t, store.MemoryConfig{TagHeader: "-"})
	off.Set(context.Background(), "k", entry(time.Hour, 1, "a"))
	if n, _ := off.PurgeTag(context.Background(), "a"); n != 0 {
		t.Errorf("with tags off, PurgeTag = %d; want 0", n)
	}
}

// TestMemoryEvictionOrder checks that the least recently used entry goes
// first, a Get counting as a use.
func TestMemoryEvictionOrder(t *testing.T) {
	t.Parallel()
	size := store.Size("k1", entry(time.Hour, 100))
	m := newMemory(t, store.MemoryConfig{MaxBytes: 3 * size})
	run(t, m, []step{
		{op: "set", key: "k1", e: entry(time.Hour, 100)},
		{op: "set", key: "k2", e: entry(time.Hour, 100)},
		{op: "set", key: "k3", e: entry(time.Hour, 100)},
		{op: "get", key: "k1", want: 1}, // k2 is now the oldest
		{op: "set", key: "k4", e: entry(time.Hour, 100)},
		{op: "get", key: "k2", want: 0},
		{op: "get", key: "k1", want: 1},
		{op: "get", key: "k3", want: 1},
		{op: "get", key: "k4", want: 1},
		// An entry twice the size evicts the two oldest: k1 and k3.
		{op: "set", key: "k5", e: entry(time.Hour, 100+int(size))},
		{op: "get", key: "k1", want: 0},
		{op: "get", key: "k3", want: 0},
		{op: "get", key: "k4", want: 1},
		{op: "get", key: "k5", want: 1},
	})
	if got := m.Bytes(); got > 3*size {
		t.Errorf("Bytes() = %d; want at most %d", got, 3*size)
	}
}

func TestMemoryOversizeRefused(t *testing.T) {
	t.Parallel()
	m := newMemory(t, store.MemoryConfig{MaxEntry: 1000})
	run(t, m, []step{
		{op: "set", key: "small", e: entry(time.Hour, 1000-store.EntryOverhead-len("small"))},
		{op: "get", key: "small", want: 1},
		{op: "set", key: "big", e: entry(time.Hour, 1000-store.EntryOverhead-len("big")+1)},
		{op: "get", key: "big", want: 0},
		// A refused entry also removes the outdated one under its key.
		{op: "set", key: "small", e: entry(time.Hour, 2000)},
		{op: "get", key: "small", want: 0},
	})
	if m.Bytes() != 0 || m.Len() != 0 {
		t.Errorf("after refusals Bytes, Len = %d, %d; want 0, 0", m.Bytes(), m.Len())
	}
}

// TestMemoryBytesBound floods a small store from many goroutines, with
// entries of many sizes, replacements and purges, and checks that the
// byte count never passes the bound and matches the entries kept.
func TestMemoryBytesBound(t *testing.T) {
	t.Parallel()
	const maxBytes = 64 << 10
	m := newMemory(t, store.MemoryConfig{MaxBytes: maxBytes, MaxEntry: 8 << 10})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 3000 {
				key := fmt.Sprintf("k%d", (g*7919+i)%500)
				m.Set(ctx, key, entry(time.Hour, (i*37)%(10<<10), fmt.Sprint("t", i%7)))
				if b := m.Bytes(); b > maxBytes {
					t.Errorf("Bytes() = %d; want at most %d", b, maxBytes)
					return
				}
				m.Get(ctx, fmt.Sprintf("k%d", i%500))
				if i%500 == 0 {
					m.PurgeTag(ctx, fmt.Sprint("t", i%7))
					m.PurgePrefix(ctx, "k1")
				}
			}
		})
	}
	wg.Wait()
	if b := m.Bytes(); b > maxBytes || b <= 0 {
		t.Errorf("after the flood Bytes() = %d; want in (0, %d]", b, maxBytes)
	}
	// Emptying the store by purges leaves nothing counted.
	for g := range 7 {
		m.PurgeTag(ctx, fmt.Sprint("t", g))
	}
	if m.Bytes() != 0 || m.Len() != 0 {
		t.Errorf("after purging every tag Bytes, Len = %d, %d; want 0, 0", m.Bytes(), m.Len())
	}
}

// TestMemoryTagIndexCleanedOnEviction checks that an evicted entry leaves
// its tags: purging the tag later removes nothing, and a new entry under
// the same key without the tag is not purged by it.
func TestMemoryTagIndexCleanedOnEviction(t *testing.T) {
	t.Parallel()
	size := store.Size("k1", entry(time.Hour, 100, "old")) + store.TagOverhead
	m := newMemory(t, store.MemoryConfig{MaxBytes: size})
	run(t, m, []step{
		{op: "set", key: "k1", e: entry(time.Hour, 100, "old")},
		{op: "set", key: "k2", e: entry(time.Hour, 100, "new")}, // evicts k1
		{op: "get", key: "k1", want: 0},
		{op: "tag", key: "old", want: 0},
		{op: "set", key: "k1", e: entry(time.Hour, 100)}, // evicts k2
		{op: "tag", key: "new", want: 0},
		{op: "get", key: "k1", want: 1},
		// Replacing an entry drops its old tags.
		{op: "set", key: "k1", e: entry(time.Hour, 100, "old")},
		{op: "set", key: "k1", e: entry(time.Hour, 100, "new")},
		{op: "tag", key: "old", want: 0},
		{op: "tag", key: "new", want: 1},
	})
}

// TestMemoryExpiry checks that an entry is served until Expires plus
// Grace, stale after Expires, and dropped after.
func TestMemoryExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, store.MemoryConfig{Grace: 10 * time.Second})
		ctx := context.Background()
		m.Set(ctx, "k", entry(5*time.Second, 10))
		m.Set(ctx, "past", entry(-11*time.Second, 10))
		if _, ok := m.Get(ctx, "past"); ok {
			t.Errorf("Get(entry past Expires+Grace at Set) ok; want refused")
		}
		time.Sleep(14 * time.Second)
		e, ok := m.Get(ctx, "k")
		if !ok || e.Fresh(time.Now()) {
			t.Fatalf("at 14s Get = %v, fresh %v; want a stale hit within Grace", ok, ok && e.Fresh(time.Now()))
		}
		time.Sleep(time.Second)
		if _, ok := m.Get(ctx, "k"); ok {
			t.Errorf("at 15s (Expires+Grace) Get ok; want a miss")
		}
		if m.Len() != 0 || m.Bytes() != 0 {
			t.Errorf("after the expired Get Len, Bytes = %d, %d; want 0, 0 (dropped)", m.Len(), m.Bytes())
		}
	})
}

// TestMemoryGrace checks how long past Expires each Grace keeps an entry:
// zero means DefaultGrace (10 minutes), negative means none.
func TestMemoryGrace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		grace, kept time.Duration
	}{
		{0, 10 * time.Minute},
		{-1, 0},
		{-time.Hour, 0},
		{time.Minute, time.Minute},
	} {
		synctest.Test(t, func(t *testing.T) {
			m := newMemory(t, store.MemoryConfig{Grace: tc.grace})
			ctx := context.Background()
			m.Set(ctx, "k", entry(time.Second, 10))
			time.Sleep(time.Second + tc.kept - time.Millisecond)
			if _, ok := m.Get(ctx, "k"); !ok {
				t.Errorf("Grace %v: Get at Expires+%v-1ms miss; want a hit", tc.grace, tc.kept)
			}
			time.Sleep(time.Millisecond)
			if _, ok := m.Get(ctx, "k"); ok {
				t.Errorf("Grace %v: Get at Expires+%v hit; want a miss", tc.grace, tc.kept)
			}
		})
	}
}

// variantIndex returns an entry like the one package cache stores under
// a primary key for a response with Vary: Status 0, no header, no
// VaryValues, a nonce for body. Its times carry no monotonic reading or
// location, as a decoded entry's.
func variantIndex(ttl time.Duration) *cache.Entry {
	now := time.Now().Round(0).UTC()
	return &cache.Entry{
		Vary:     []string{"Accept-Encoding"},
		Body:     []byte("0123456789abcdef"),
		Stored:   now,
		Expires:  now.Add(ttl),
		Lifetime: ttl,
	}
}

func TestMemoryVariantIndex(t *testing.T) {
	t.Parallel()
	m := newMemory(t, store.MemoryConfig{})
	ctx := context.Background()
	for _, h := range []http.Header{nil, {}} {
		e := variantIndex(time.Hour)
		e.Header = h
		want := *e
		m.Set(ctx, "GET example.com/a", e)
		got, ok := m.Get(ctx, "GET example.com/a")
		if !ok || !reflect.DeepEqual(*got, want) {
			t.Errorf("Get(variant index, header %#v) = %+v, %v; want %+v, true", h, got, ok, want)
		}
	}
}

func TestMemoryConcurrent(t *testing.T) {
	t.Parallel()
	m := newMemory(t, store.MemoryConfig{MaxBytes: 1 << 20})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprint("GET /", i%100)
				switch (g + i) % 5 {
				case 0:
					m.Set(ctx, k, entry(time.Hour, i%3000, "t"))
				case 1:
					m.Purge(ctx, k)
				case 2:
					m.PurgePrefix(ctx, "GET /1")
				case 3:
					m.PurgeTag(ctx, "t")
				default:
					if e, ok := m.Get(ctx, k); ok && e.Status != 200 {
						t.Errorf("Get(%q).Status = %d; want 200", k, e.Status)
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestMemoryGetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	m := newMemory(t, store.MemoryConfig{})
	ctx := context.Background()
	m.Set(ctx, "GET example.com/a", entry(time.Hour, 1024, "a"))
	n := testing.AllocsPerRun(1000, func() {
		if _, ok := m.Get(ctx, "GET example.com/a"); !ok {
			t.Fatal("miss")
		}
	})
	if n != 0 {
		t.Errorf("Memory.Get hit: %v allocations; want 0", n)
	}
}
