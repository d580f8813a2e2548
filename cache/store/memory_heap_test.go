package store_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/cache/store"
)

// TestMemoryHeapWithinMaxBytes checks that a full Memory holds at most
// 1.5 times MaxBytes on the heap, after GC, both for many small entries
// (where EntryOverhead dominates) and for entries with 64 tags each (where
// the tag index dominates).
func TestMemoryHeapWithinMaxBytes(t *testing.T) {
	const maxBytes = 8 << 20
	const factor = 1.5
	for _, tc := range []struct {
		name    string
		tags    int
		entries int
	}{{"plain", 0, 40000}, {"64 tags", 64, 2000}} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemory(t, store.MemoryConfig{MaxBytes: maxBytes})
			ctx := context.Background()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := range tc.entries {
				h := http.Header{"Content-Type": {"text/plain"}}
				if tc.tags > 0 {
					ts := make([]string, tc.tags)
					for j := range ts {
						ts[j] = fmt.Sprint(i, "-", j) // a tag of its own
					}
					h.Set("Cache-Tag", strings.Join(ts, ","))
				}
				m.Set(ctx, fmt.Sprint(i), &cache.Entry{Status: 200, Expires: time.Now().Add(time.Hour), Header: h, Body: []byte("x")})
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			if live > int64(factor*maxBytes) {
				t.Errorf("heap grew %d bytes (%.1fx) for MaxBytes %d with %d entries; want at most %.1fx", live, float64(live)/maxBytes, maxBytes, m.Len(), factor)
			}
			runtime.KeepAlive(m)
		})
	}
}
