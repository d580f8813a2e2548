package ratelimit

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Options holds what the limiters of this package share: the bound on the
// number of keys they keep state for. The zero value works.
type Options struct {
	// MaxKeys is the most keys a limiter keeps state for at once. When it is
	// reached, a new key first takes the place of an idle key (one whose
	// allowance is whole again), else of the least recently seen key among
	// a few sampled, whose allowance then starts whole again. [Concurrency]
	// never evicts a key with requests in flight or waiting: it keeps such
	// keys past the bound. A key longer than 64 bytes is stored as a
	// 128-bit hash of it, so that each key costs at most about 175 bytes
	// whatever its length. Zero means 1<<20 (about 180 MB at most); the
	// bound is rounded up to a multiple of the 64 shards.
	MaxKeys int
}

// DefaultMaxKeys is the bound on keys when [Options.MaxKeys] is zero.
const DefaultMaxKeys = 1 << 20

const (
	numShards = 64
	// sweepPerInsert is how many slots an insert looks at for idle keys to
	// drop, so that dropping idle keys is paid for on the path that adds them.
	sweepPerInsert = 2
	// evictSample is how many slots a full shard looks at for a key to evict.
	evictSample = 8
	// maxKeyLen is the longest key stored as it is; a longer one is stored
	// as its hash, so that a key costs at most maxKeyLen bytes.
	maxKeyLen = 64
)

// state is the per-key state of every algorithm here; each gives the three
// words its own meaning. Its zero value means "allowance whole", so a new
// key starts from it.
type state [3]int64

// slot is one key's place in a shard.
type slot struct {
	key  string
	last int64 // when the key was last seen, in ns since the table's epoch
	live bool
	st   state
}

// shard is one lock's worth of keys.
type shard struct {
	mu    sync.Mutex // guards index, slots, free and hand
	index map[string]int32
	slots []slot
	free  []int32
	hand  int
	_     [40]byte // keeps shards on separate cache lines
}

// table is the sharded per-key store the limiters share: keys are hashed
// with maphash onto 64 shards, each a mutex over a map from key to a slot
// in a slice, so that the hot path finds a key with one map lookup and
// changes its state in place.
type table struct {
	seed     maphash.Seed
	longSeed [2]maphash.Seed // the two halves of a long key's hash
	perShard int
	epoch    time.Time
	// idle reports whether a state is whole again at now: such a key is
	// dropped by the sweep, since a fresh slot would behave the same.
	idle func(st *state, now int64) bool
	// keepBusy, when set, keeps keys that are not idle: a full shard whose
	// sampled slots are all busy grows past its bound instead of evicting.
	keepBusy bool
	// randomCount, when set, starts st[2] of a new key at a random value:
	// the bucket limiters count bookings there, and a Booking made before
	// an eviction must not match the count of the key's next state.
	randomCount bool
	shards      [numShards]shard
}

func (t *table) init(o Options, idle func(*state, int64) bool) error {
	if o.MaxKeys < 0 {
		return fmt.Errorf("ratelimit: MaxKeys %d is negative", o.MaxKeys)
	}
	max := o.MaxKeys
	if max == 0 {
		max = DefaultMaxKeys
	}
	t.seed = maphash.MakeSeed()
	t.longSeed = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	t.perShard = (max + numShards - 1) / numShards
	t.epoch = time.Now()
	t.idle = idle
	for i := range t.shards {
		t.shards[i].index = make(map[string]int32)
	}
	return nil
}

// keyHash holds the stored form of a long key.
type keyHash [16]byte

// stored returns the form in which key is stored: key itself when it is
// at most maxKeyLen bytes long, else 128 bits of hash (two sums of
// maphash under secret seeds) written into h, so that a client cannot
// choose keys that collide. Every method of the limiters passes its key
// through it first; the result is valid while h is.
func (t *table) stored(key string, h *keyHash) string {
	if len(key) <= maxKeyLen {
		return key
	}
	binary.LittleEndian.PutUint64(h[:8], maphash.String(t.longSeed[0], key))
	binary.LittleEndian.PutUint64(h[8:], maphash.String(t.longSeed[1], key))
	return unsafe.String(&h[0], len(h))
}

// now returns the time since the table's epoch in ns, from the monotonic
// clock.
func (t *table) now() int64 { return int64(time.Since(t.epoch)) }

// shard returns key's shard. maphash.String hashes the string in place,
// without allocating.
func (t *table) shard(key string) *shard { return &t.shards[t.shardIndex(key)] }

func (t *table) shardIndex(key string) uint64 { return maphash.String(t.seed, key) % numShards }

// lookup returns key's slot, or nil. The shard must be locked.
func (s *shard) lookup(key string) *slot {
	if i, ok := s.index[key]; ok {
		return &s.slots[i]
	}
	return nil
}

// get returns key's slot, adding one with a whole allowance when key is new.
// It marks the slot seen at now. The shard must be locked.
func (t *table) get(s *shard, key string, now int64) *slot {
	if i, ok := s.index[key]; ok {
		sl := &s.slots[i]
		sl.last = now
		return sl
	}
	return t.insert(s, key, now)
}

// insert adds key; the shard must be locked. It first sweeps a few slots
// for idle keys, then, when the shard is still full, evicts one.
func (t *table) insert(s *shard, key string, now int64) *slot {
	t.sweep(s, now, sweepPerInsert)
	if len(s.index) >= t.perShard {
		t.evict(s, now)
	}
	var i int32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		s.slots = append(s.slots, slot{})
		i = int32(len(s.slots) - 1)
	}
	// The caller's key is valid only during the call: keep a copy.
	k := strings.Clone(key)
	s.slots[i] = slot{key: k, last: now, live: true}
	if t.randomCount {
		s.slots[i].st[2] = int64(rand.Uint64())
	}
	s.index[k] = i
	return &s.slots[i]
}

// sweep looks at the next n slots after the hand and drops the idle ones.
func (t *table) sweep(s *shard, now int64, n int) {
	for range min(n, len(s.slots)) {
		if s.hand >= len(s.slots) {
			s.hand = 0
		}
		if sl := &s.slots[s.hand]; sl.live && t.idle(&sl.st, now) {
			s.drop(int32(s.hand))
		}
		s.hand++
	}
}

// evict drops one key from a full shard: the first idle key among the next
// few slots, else the least recently seen of them, else (when keepBusy is
// set) none.
func (t *table) evict(s *shard, now int64) {
	oldest, oldestAt := int32(-1), int64(0)
	for range min(evictSample, len(s.slots)) {
		if s.hand >= len(s.slots) {
			s.hand = 0
		}
		i := int32(s.hand)
		s.hand++
		sl := &s.slots[i]
		if !sl.live {
			continue
		}
		if t.idle(&sl.st, now) {
			s.drop(i)
			return
		}
		if oldest < 0 || sl.last < oldestAt {
			oldest, oldestAt = i, sl.last
		}
	}
	if t.keepBusy {
		return
	}
	if oldest >= 0 {
		s.drop(oldest)
		return
	}
	// The sample held only free slots; a full shard has live ones, so walk
	// on until one is found.
	for i := range s.slots {
		if s.slots[i].live {
			s.drop(int32(i))
			return
		}
	}
}

// drop removes the key in slot i.
func (s *shard) drop(i int32) {
	sl := &s.slots[i]
	delete(s.index, sl.key)
	*sl = slot{}
	s.free = append(s.free, i)
}

// len returns the number of keys held.
func (t *table) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.index)
		s.mu.Unlock()
	}
	return n
}
