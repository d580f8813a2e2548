package jwtauth

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"time"
	"unsafe"

	"github.com/vivremotion/gateway/auth"
)

// cacheShards is the number of independently locked parts of the token
// cache, so that concurrent requests seldom meet on one lock.
const cacheShards = 16

// evictScan is how many entries an insert into a full shard looks at for
// an expired one to drop before it drops one of them at random.
const evictScan = 8

// tokenCache holds the Principals of verified tokens, by a keyed hash of
// the token, until the token expires or the key that verified it leaves
// the key set. An entry keeps the token itself and a hit compares it in
// full, so that a hash collision is a miss and never another token's
// Principal.
type tokenCache struct {
	seed   maphash.Seed
	n      uint64 // shards in use: cacheShards, or fewer for a small cache
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu  sync.RWMutex
	m   map[uint64]*cacheEntry
	cap int // the most entries this shard holds
	// pad keeps two shards' locks off one cache line.
	_ [32]byte
}

type cacheEntry struct {
	token   string
	p       *auth.Principal
	expires int64 // Unix nanoseconds: the token's exp plus the leeway
	key     *key
}

// newTokenCache returns a cache of at most size entries (size > 0),
// shared out exactly among its shards.
func newTokenCache(size int) *tokenCache {
	n := min(cacheShards, size)
	c := &tokenCache{seed: maphash.MakeSeed(), n: uint64(n)}
	for i := range n {
		c.shards[i].m = make(map[uint64]*cacheEntry)
		c.shards[i].cap = size / n
		if i < size%n {
			c.shards[i].cap++
		}
	}
	return c
}

// get returns the Principal of tok, or nil when tok is not cached, has
// expired at now, or its key was removed. It does not allocate.
func (c *tokenCache) get(tok string, now int64) *auth.Principal {
	h := maphash.String(c.seed, tok)
	s := &c.shards[h%c.n]
	s.mu.RLock()
	e := s.m[h]
	s.mu.RUnlock()
	if e == nil || !equalConstantTime(e.token, tok) {
		return nil
	}
	if now >= e.expires || e.key.removed.Load() {
		s.mu.Lock()
		if s.m[h] == e {
			delete(s.m, h)
		}
		s.mu.Unlock()
		return nil
	}
	return e.p
}

// put caches p for tok until expires (Unix nanoseconds) or until k is
// removed from its set. A full shard drops an expired entry, or else one
// at random.
func (c *tokenCache) put(tok string, p *auth.Principal, expires int64, k *key, now int64) {
	h := maphash.String(c.seed, tok)
	s := &c.shards[h%c.n]
	e := &cacheEntry{token: tok, p: p, expires: expires, key: k}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[h]; !ok && len(s.m) >= s.cap {
		var victim uint64
		n := 0
		for id, old := range s.m { // map order is random: a random sample
			if n == 0 {
				victim = id
			}
			if now >= old.expires || old.key.removed.Load() {
				victim = id
				break
			}
			if n++; n == evictScan {
				break
			}
		}
		delete(s.m, victim)
	}
	s.m[h] = e
}

// len returns the number of entries, for tests.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// equalConstantTime reports whether a == b in time that depends only on
// their lengths. It reads eight bytes at a time: a byte loop was a
// quarter of a cache hit's cost.
func equalConstantTime(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	// Views of the strings' bytes, not copies: no allocation.
	x := unsafe.Slice(unsafe.StringData(a), len(a))
	y := unsafe.Slice(unsafe.StringData(b), len(b))
	var v uint64
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v |= binary.LittleEndian.Uint64(x[i:]) ^ binary.LittleEndian.Uint64(y[i:])
	}
	for ; i < len(x); i++ {
		v |= uint64(x[i] ^ y[i])
	}
	return v == 0
}

// unixNano is t in Unix nanoseconds, saturated far in the future.
func unixNano(t time.Time) int64 {
	if t.After(maxTime) {
		return maxTime.UnixNano()
	}
	return t.UnixNano()
}

var maxTime = time.Unix(0, 1<<63-1)
