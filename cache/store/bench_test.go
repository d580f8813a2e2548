package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/cache/store"
)

// BenchmarkMemoryGet measures a hit on a store of 10,000 entries, from one
// goroutine and from all of them at once (one lock: a hit moves the entry
// to the front of the LRU list).
func BenchmarkMemoryGet(b *testing.B) {
	m := newMemory(b, store.MemoryConfig{})
	ctx := context.Background()
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = fmt.Sprint("GET example.com/items/", i)
		m.Set(ctx, keys[i], entry(time.Hour, 1024))
	}
	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok := m.Get(ctx, keys[i%len(keys)]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, ok := m.Get(ctx, keys[i%len(keys)]); !ok {
					b.Fatal("miss")
				}
				i++
			}
		})
	})
}

// BenchmarkMemorySet measures storing an entry of 1 KiB body (with tags
// and without) into a full store, so that each Set also evicts.
func BenchmarkMemorySet(b *testing.B) {
	for _, tagged := range []bool{false, true} {
		b.Run(fmt.Sprint("tagged=", tagged), func(b *testing.B) {
			m := newMemory(b, store.MemoryConfig{MaxBytes: 1 << 20})
			ctx := context.Background()
			e := entry(time.Hour, 1024)
			if tagged {
				e = entry(time.Hour, 1024, "product-7,catalogue")
			}
			keys := make([]string, 4096)
			for i := range keys {
				keys[i] = fmt.Sprint("GET example.com/items/", i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Set(ctx, keys[i%len(keys)], e)
				i++
			}
		})
	}
}

// BenchmarkLRUGet measures golang-lru/v2's own thread-safe Cache.Get on
// the same keys, as a reference for BenchmarkMemoryGet: the cost of the
// LRU itself, beside Memory's expiry check and byte accounting.
func BenchmarkLRUGet(b *testing.B) {
	c, err := lru.New[string, *cache.Entry](10000)
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = fmt.Sprint("GET example.com/items/", i)
		c.Add(keys[i], entry(time.Hour, 1024))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := c.Get(keys[i%len(keys)]); !ok {
			b.Fatal("miss")
		}
		i++
	}
}
