package introspect

import (
	"sync"
	"time"

	"github.com/vivremotion/gateway/auth"
)

// key is the SHA-256 of a token: the cache and the table of calls in flight
// hold this, never the token.
type key = [32]byte

// answer is what an introspection said about a token: a Principal when the
// token is active, or the error to return when it is not.
type answer struct {
	p   *auth.Principal
	err error
}

// cache is a bounded LRU of answers with an expiry per entry, split into
// shards by the first byte of the key so that concurrent lookups of
// different tokens seldom wait for each other. Expired entries are dropped
// when found or when they reach the cold end; there is no goroutine.
type cache struct {
	shards []shard
	mask   byte
}

// newCache returns a cache that holds at most size entries in all.
func newCache(size int) *cache {
	n := 1
	if size >= 1024 {
		n = 16
	}
	c := &cache{shards: make([]shard, n), mask: byte(n - 1)}
	for i := range c.shards {
		s := &c.shards[i]
		s.max = size / n
		s.items = make(map[key]*node)
		s.head.prev, s.head.next = &s.head, &s.head
	}
	return c
}

func (c *cache) shard(k *key) *shard { return &c.shards[k[0]&c.mask] }

// get returns the answer cached for k, if any and not expired at now.
func (c *cache) get(k *key, now time.Time) (answer, bool) {
	return c.shard(k).get(k, now)
}

// put caches a for k until expires, evicting the least recently used
// entry of the shard when it is full.
func (c *cache) put(k *key, a answer, expires time.Time) {
	c.shard(k).put(k, a, expires)
}

// len returns the number of entries held, expired ones included.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.items)
		s.mu.Unlock()
	}
	return n
}

type node struct {
	k          key
	a          answer
	expires    time.Time
	prev, next *node
}

type shard struct {
	mu sync.Mutex // guards items and the list through head
	// items indexes the nodes of the list, most recently used first after
	// head.
	items map[key]*node
	head  node
	max   int
}

func (s *shard) get(k *key, now time.Time) (answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.items[*k]
	if n == nil {
		return answer{}, false
	}
	if !now.Before(n.expires) {
		s.remove(n)
		return answer{}, false
	}
	s.unlink(n)
	s.pushFront(n)
	return n.a, true
}

func (s *shard) put(k *key, a answer, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.items[*k]; n != nil {
		n.a, n.expires = a, expires
		s.unlink(n)
		s.pushFront(n)
		return
	}
	if len(s.items) >= s.max {
		s.remove(s.head.prev)
	}
	n := &node{k: *k, a: a, expires: expires}
	s.items[*k] = n
	s.pushFront(n)
}

func (s *shard) remove(n *node) {
	s.unlink(n)
	delete(s.items, n.k)
}

func (s *shard) unlink(n *node) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (s *shard) pushFront(n *node) {
	n.prev, n.next = &s.head, s.head.next
	s.head.next.prev = n
	s.head.next = n
}
