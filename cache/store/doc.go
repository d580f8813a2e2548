// Package store keeps cached responses for the gateway's Proxy: [Memory],
// in this process and bounded in bytes, and [Redis], shared by every
// replica. Both implement the Proxy's Cache interface (Get and Set of a
// *[cache.Entry] under a key) and [Purger] (purge by key, by key prefix
// and by tag), and [AdminHandler] serves a Purger over HTTP.
//
// A store only keeps entries; what may be stored and served is decided by
// package cache and the Proxy.
//
//	mem, err := store.NewMemory(store.MemoryConfig{
//		MaxBytes:  256 << 20,        // all entries, estimated (see Size)
//		MaxEntry:  4 << 20,          // larger entries are not stored
//		Grace:     time.Hour,        // kept past Expires; default 10 minutes
//		TagHeader: "Surrogate-Key",  // tags for PurgeTag; default Cache-Tag
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	p := &gateway.Proxy{Upstreams: pool, Cache: mem}
//	admin.Handle("/cache/", http.StripPrefix("/cache", requireAdmin(store.AdminHandler(mem, store.AdminConfig{}))))
//
// For many replicas, the same with Redis:
//
//	rs, err := store.NewRedis(store.RedisConfig{
//		Client:  redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true}),
//		Prefix:  "gw:cache:",
//		OnError: func(err error) { slog.Warn("cache", "err", err) },
//	})
//
// # Entries are shared
//
// [Memory.Get] returns the stored entry itself, so that a hit allocates
// nothing: callers must not modify it, its Header or its Body. Set keeps
// the entry it is given, which must not be modified afterwards either.
// [Redis.Get] returns a new entry each time.
//
// # Expiry
//
// An entry is kept until its Expires plus the configured Grace, so that a
// cache may still revalidate it (a conditional request, answered 304) or
// serve it stale (RFC 5861, max-stale) when revalidation is slow or fails.
// Grace defaults to [DefaultGrace], 10 minutes; a negative Grace drops
// each entry at its Expires, leaving nothing to revalidate or serve
// stale. [Memory] drops an expired entry lazily, when it is next looked
// up, or when the least recently used entries are evicted to make room;
// no goroutine or timer runs. [Redis] gives each key the TTL until
// Expires plus Grace.
//
// # Tags
//
// At Set, the response header named by TagHeader (Cache-Tag by default)
// lists the entry's tags, separated by commas or spaces, at most 64.
// [Memory] keeps an index from tag to keys, cleaned as entries go. [Redis]
// keeps a sorted set per tag, its members scored by expiry and its TTL
// that of its longest-lived entry; each Set with the tag drops the expired
// members, and an entry stored again leaves the sets of the tags it no
// longer has (each entry is a hash holding its tags beside the encoding).
// PurgeTag takes the members in batches of 500, one script each.
//
// # Redis
//
// [Redis] is fail-soft: a Redis error makes Get a miss and Set a no-op,
// reported to OnError, and never fails a request. After a failure to reach
// Redis, Get and Set skip it for Backoff (1 second by default), so that
// an outage costs requests no wait. Get and Set are one
// round trip each (HGET; one script for Set), bounded
// by Timeout. Entries are encoded with [Encode], a versioned binary layout
// that carries every field of [cache.Entry]; replicas of releases with
// different layouts miss on each other's entries instead of misreading
// them. Each call of a purge to Redis (a DEL, a SCAN, a script) is
// bounded by Timeout too. PurgePrefix walks the keyspace with SCAN, never
// KEYS. With Redis
// Cluster, put a hash tag in Prefix so that PurgeTag's script finds all
// its keys on one node: Set's script also updates the tag sets of the
// entry it replaces.
//
// # Performance
//
// On a 2-core machine (go test -bench . with a local redis-server):
//
//	Memory.Get hit                     88 ns,   0 allocs (96 ns from 2 goroutines)
//	golang-lru/v2 Cache.Get, for scale 41 ns,   0 allocs (no clock read, no expiry)
//	Memory.Set, evicting               263 ns,  2 allocs (648 ns, 5 allocs with 2 tags)
//	Encode (6 header fields, 1 KiB)    128 ns,  0 allocs into a reused buffer
//	Decode                             577 ns,  5 allocs (encoding/gob: 16 µs, 222 allocs)
//	Encode with encoding/gob           4.8 µs, 37 allocs
//	Redis.Get, Redis.Set               55 µs, 80 µs (Set is a script): the round trip dominates
//
// [Memory] is one LRU (golang-lru/v2's simplelru) under one mutex; a hit
// reorders the list, so hits serialize on it. Its byte bound counts
// [Size], an estimate: key, header names and values, body and
// [EntryOverhead] per entry, plus [TagOverhead] per tag of the entry, both
// measured so that the heap a full Memory holds stays within about 1.5
// times MaxBytes.
//
// # Security
//
// [AdminHandler] checks no credentials. Whoever reaches it can empty the
// cache and send all traffic to the origins. Mount it only behind your own
// authentication and authorization, on an admin listener or route, never
// on the public one.
//
// Tags come from responses: an origin chooses the tags of what it serves,
// and so which entries a PurgeTag removes. Cache keys and tags are stored
// as given; [Redis] keeps them under Prefix, and PurgePrefix escapes the
// glob characters of the prefix it is given.
//
// [Decode] checks every count against the bytes left, but an honest entry
// of many tiny header values decodes into some 40 times its length;
// [Redis.Get] therefore refuses values longer than MaxEntry unread.
package store
