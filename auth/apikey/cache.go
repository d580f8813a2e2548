package apikey

import (
	"sync"
	"time"
)

// localCache keeps records read from a shared store for a short time. It
// is bounded: when full, putting a record drops another one (the first
// that map iteration yields, which is close to random).
//
// A read from the shared store races with a change made through this
// process: the read may return the old record after the change dropped
// the cached copy. So every drop counts a generation, a reader notes the
// generation before it reads, and [localCache.putIf] caches only if no
// drop happened meanwhile.
type localCache struct {
	ttl  time.Duration
	size int

	mu      sync.RWMutex // guards entries and gen
	entries map[string]cached
	gen     uint64 // drops so far
}

type cached struct {
	rec   *Record
	until time.Time
}

func newLocalCache(ttl time.Duration, size int) *localCache {
	return &localCache{ttl: ttl, size: size, entries: make(map[string]cached, min(size, 1024))}
}

// get returns the record of id if cached and fresh, else nil.
func (c *localCache) get(id string) *Record {
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if !ok || !time.Now().Before(e.until) {
		return nil
	}
	return e.rec
}

// generation returns the count of drops so far, for putIf.
func (c *localCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// putIf caches r if no record was dropped since generation returned gen:
// r may have been read before a change whose drop has since run.
func (c *localCache) putIf(r *Record, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if _, ok := c.entries[r.ID]; !ok && len(c.entries) >= c.size {
		for id := range c.entries {
			delete(c.entries, id)
			break
		}
	}
	c.entries[r.ID] = cached{rec: r, until: time.Now().Add(c.ttl)}
}

func (c *localCache) drop(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.gen++
	c.mu.Unlock()
}
