package store

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/vivremotion/gateway/cache"
)

// Defaults of [MemoryConfig] and [RedisConfig].
const (
	// DefaultMaxBytes is the byte bound of a [Memory] whose MaxBytes is 0.
	DefaultMaxBytes = 64 << 20
	// DefaultMaxEntry is the size bound of one entry when MaxEntry is 0.
	DefaultMaxEntry = 2 << 20
	// DefaultGrace is how long past its Expires an entry is kept when
	// Grace is 0: 10 minutes, so that a cache may still revalidate it
	// (a conditional request answered 304) or serve it stale
	// (stale-while-revalidate, stale-if-error, max-stale) for that long.
	DefaultGrace = 10 * time.Minute
)

// grace returns the grace a config's Grace g means: [DefaultGrace] for
// 0, none for a negative g.
func grace(g time.Duration) time.Duration {
	switch {
	case g == 0:
		return DefaultGrace
	case g < 0:
		return 0
	}
	return g
}

// EntryOverhead is the bytes [Memory] counts for each entry on top of its
// key, header and body: the cost of the entry, its list element, its map
// slots and its header map, measured on amd64 with Go 1.26 (about 800
// bytes for an entry with one header field).
const EntryOverhead = 832

// TagOverhead is the bytes [Memory] counts for each tag of an entry, on
// top of [Size]: the entry's slot in the tag's index and the index's own
// map, measured at about 320 bytes for a tag no other entry carries.
const TagOverhead = 384

// MemoryConfig configures a [Memory]. Its zero value works.
type MemoryConfig struct {
	// MaxBytes bounds the estimated bytes of all entries (see [Size]).
	// When a Set would pass it, the least recently used entries are
	// evicted until the new one fits. Zero means [DefaultMaxBytes] (64
	// MiB). Negative is an error.
	MaxBytes int64
	// MaxEntry is the largest estimated size (see [Size]), in bytes, of an
	// entry that is stored; larger entries are refused (Set does nothing).
	// Zero means [DefaultMaxEntry] (2 MiB), or MaxBytes when that is
	// smaller. Negative, or above MaxBytes, is an error.
	MaxEntry int64
	// Grace is how long after its Expires an entry is still kept, so that
	// a cache may revalidate it or serve it stale (stale-while-revalidate,
	// stale-if-error, max-stale). Past Expires+Grace an entry is dropped
	// when next looked up, or evicted when room is needed. Zero means
	// [DefaultGrace] (10 minutes); negative means none: an entry is
	// dropped at its Expires.
	Grace time.Duration
	// TagHeader names the response header that lists an entry's tags, for
	// [Memory.PurgeTag]: tags are separated by commas or spaces
	// ("Cache-Tag: a,b", "Surrogate-Key: a b"), at most 64 per entry.
	// Empty means [DefaultTagHeader] ("Cache-Tag"); "-" turns tags off.
	TagHeader string
}

// Memory is a store of entries in memory, bounded in bytes, evicting the
// least recently used. It is safe for concurrent use. Build it with
// [NewMemory].
//
// Get returns the stored *[cache.Entry] itself, not a copy, so that a hit
// allocates nothing: callers must treat it, its Header and its Body as
// read-only. Set keeps the entry it is given: the caller must not modify
// it afterwards.
type Memory struct {
	maxBytes  int64
	maxEntry  int64
	grace     time.Duration
	tagHeader string

	mu    sync.Mutex // guards lru, bytes and tags
	lru   *simplelru.LRU[string, *item]
	bytes int64
	tags  map[string]map[string]struct{} // tag → keys stored with it
}

// item is one stored entry with what the store keeps beside it.
type item struct {
	e     *cache.Entry
	size  int64
	until time.Time // Expires + Grace: when the entry is dropped
	tags  []string
}

// NewMemory returns a Memory configured by c. It fails on a negative
// bound, or a MaxEntry above MaxBytes.
func NewMemory(c MemoryConfig) (*Memory, error) {
	if c.MaxBytes < 0 {
		return nil, errors.New("store: negative MaxBytes")
	}
	if c.MaxEntry < 0 {
		return nil, errors.New("store: negative MaxEntry")
	}
	maxBytes := c.MaxBytes
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	maxEntry := c.MaxEntry
	if maxEntry == 0 {
		maxEntry = min(DefaultMaxEntry, maxBytes)
	}
	if maxEntry > maxBytes {
		return nil, errors.New("store: MaxEntry above MaxBytes")
	}
	m := &Memory{
		maxBytes:  maxBytes,
		maxEntry:  maxEntry,
		grace:     grace(c.Grace),
		tagHeader: tagHeader(c.TagHeader),
		tags:      make(map[string]map[string]struct{}),
	}
	// The count bound is out of reach: the byte bound evicts.
	lru, err := simplelru.NewLRU[string, *item](math.MaxInt, m.evicted)
	if err != nil {
		return nil, err
	}
	m.lru = lru
	return m, nil
}

// Size returns the bytes an entry stored under key is counted for: the
// lengths of key, of every header name and value and of the body, plus
// [EntryOverhead]. It is an estimate of the memory the entry holds.
// [Memory] adds [TagOverhead] for each of the entry's tags.
func Size(key string, e *cache.Entry) int64 {
	n := int64(len(key) + len(e.Body) + EntryOverhead)
	for k, vs := range e.Header {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v)) + 16 // a string header in the slice
		}
	}
	return n
}

// Get returns the entry stored under key, if any, and marks it recently
// used. An entry past its Expires plus Grace is removed and reported
// missing. The entry returned is shared: it must not be modified.
func (m *Memory) Get(_ context.Context, key string) (*cache.Entry, bool) {
	now := time.Now()
	m.mu.Lock()
	it, ok := m.lru.Get(key)
	if ok && !now.Before(it.until) {
		m.lru.Remove(key)
		ok = false
	}
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	return it.e, true
}

// Set stores e under key, replacing what was there, and evicts the least
// recently used entries until the total fits MaxBytes. An entry larger
// than MaxEntry, a nil entry, or one already past its Expires plus Grace
// is not stored (and an older entry under key is removed, since it is
// outdated). Set keeps e: it must not be modified afterwards.
func (m *Memory) Set(_ context.Context, key string, e *cache.Entry) {
	var it *item
	if e != nil {
		size := Size(key, e)
		until := e.Expires.Add(m.grace)
		if size <= m.maxEntry && time.Now().Before(until) {
			ts := tags(e.Header, m.tagHeader)
			size += int64(len(ts)) * TagOverhead
			if size <= m.maxEntry {
				it = &item{e: e, size: size, until: until, tags: ts}
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Remove(key) // Add would replace without the eviction callback
	if it == nil {
		return
	}
	for m.bytes+it.size > m.maxBytes {
		if _, _, ok := m.lru.RemoveOldest(); !ok {
			break
		}
	}
	m.lru.Add(key, it)
	m.bytes += it.size
	for _, t := range it.tags {
		keys := m.tags[t]
		if keys == nil {
			keys = make(map[string]struct{}, 1)
			m.tags[t] = keys
		}
		keys[key] = struct{}{}
	}
}

// evicted is the LRU's callback for each entry removed, for whatever
// reason; it runs with m.mu held and undoes the entry's accounting.
func (m *Memory) evicted(key string, it *item) {
	m.bytes -= it.size
	for _, t := range it.tags {
		keys := m.tags[t]
		delete(keys, key)
		if len(keys) == 0 {
			delete(m.tags, t)
		}
	}
}

// Len returns the number of entries stored, expired ones not yet dropped
// included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// Bytes returns the estimated bytes of the entries stored (see [Size]),
// never above MaxBytes.
func (m *Memory) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// Purge removes the entry under key, returning 1 if there was one.
func (m *Memory) Purge(_ context.Context, key string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lru.Remove(key) {
		return 1, nil
	}
	return 0, nil
}

// purgeBatch bounds the keys removed in one hold of the lock by
// [Memory.PurgePrefix] and [Memory.PurgeTag], so that a large purge does
// not stall lookups.
const purgeBatch = 256

// PurgePrefix removes every entry whose key starts with prefix and
// returns how many it removed. It copies the keys in one hold of the lock
// (a copy of the key list, O(n)), matches them without it, and removes the
// matches in batches of 256 per hold, so that lookups proceed meanwhile.
// An entry stored during the purge may survive it.
func (m *Memory) PurgePrefix(ctx context.Context, prefix string) (int, error) {
	m.mu.Lock()
	keys := m.lru.Keys()
	m.mu.Unlock()
	matched := keys[:0]
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			matched = append(matched, k)
		}
	}
	return m.remove(ctx, matched)
}

// PurgeTag removes every entry stored with tag and returns how many it
// removed.
func (m *Memory) PurgeTag(ctx context.Context, tag string) (int, error) {
	m.mu.Lock()
	set := m.tags[tag]
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	return m.remove(ctx, keys)
}

// remove removes keys in batches of purgeBatch per hold of the lock,
// stopping early when ctx is done.
func (m *Memory) remove(ctx context.Context, keys []string) (int, error) {
	n := 0
	for len(keys) > 0 {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		batch := keys[:min(len(keys), purgeBatch)]
		keys = keys[len(batch):]
		m.mu.Lock()
		for _, k := range batch {
			if m.lru.Remove(k) {
				n++
			}
		}
		m.mu.Unlock()
	}
	return n, nil
}
