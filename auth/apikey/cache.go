package apikey

import (
	"sync"
	"time"
)

// localCache keeps records read from a shared store for a short time. It
// is bounded: when full, putting a record drops another one (the first
// that map iteration yields, which is close to random).
type localCache struct {
	ttl  time.Duration
	size int

	mu      sync.RWMutex // guards entries
	entries map[string]cached
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

func (c *localCache) put(r *Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
	c.mu.Unlock()
}
