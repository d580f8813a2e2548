package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/internal/redisclient"
)

// RedisConfig configures a [Redis]. Only Client is required; every other
// field's zero value works.
type RedisConfig struct {
	// Client is the Redis client. Required. Its options should set
	// ContextTimeoutEnabled, so that Timeout bounds each call; New fails
	// otherwise, unless Timeout is negative. With Redis Cluster, put a
	// hash tag in Prefix ("cache:{gw}:") so that PurgeTag's script sees
	// all its keys on one node.
	Client redis.UniversalClient
	// Prefix is put before every key in Redis: entries are hashes under
	// Prefix+"k:"+key (field "v" the encoded entry, one field per tag
	// set), tag sets are sorted sets under Prefix+"t:"+tag. Empty means
	// "cache:".
	Prefix string
	// MaxEntry is the largest encoded entry (see [EncodedLen]), in bytes,
	// that is stored; Set ignores larger ones. Zero means
	// [DefaultMaxEntry] (2 MiB). Negative is an error.
	MaxEntry int64
	// Grace is how long after its Expires an entry is kept, so that a
	// cache may revalidate it or serve it stale: each entry's TTL is the
	// time until its Expires plus Grace. Zero means [DefaultGrace] (10
	// minutes); negative means none: the TTL ends at Expires.
	Grace time.Duration
	// TagHeader names the response header that lists an entry's tags, as
	// in [MemoryConfig]. Empty means [DefaultTagHeader]; "-" turns tags
	// off.
	TagHeader string
	// Timeout bounds each call to Redis. Zero means 100 ms. Negative
	// means no deadline of the store's own: the client's timeouts apply.
	Timeout time.Duration
	// Backoff is how long, after Get or Set fails because Redis cannot be
	// reached (a refused connection, a timeout), Get and Set skip Redis
	// (a miss, a no-op, OnError not called), so that an outage costs
	// requests no wait. An error Redis itself answers starts none. Zero
	// means 1 second; negative means every call tries Redis.
	Backoff time.Duration
	// OnError, when not nil, is called with each error of Get and Set (a
	// Redis that cannot be reached, a malformed entry), which they report
	// as a miss and a no-op. It runs on the caller's goroutine, with no
	// lock held. Purge methods return their errors instead.
	OnError func(error)
}

// Redis is a store of entries in Redis, shared by every gateway replica
// that uses the same Redis and Prefix. It is fail-soft: when Redis cannot
// answer, Get misses and Set does nothing, and the request goes on
// uncached. Each Get and Set is one round trip. It is safe for
// concurrent use. Build it with [NewRedis].
type Redis struct {
	client    redis.UniversalClient
	prefix    string
	maxEntry  int64
	grace     time.Duration
	tagHeader string
	timeout   time.Duration
	onError   func(error)
	backoff   time.Duration

	// downUntil is the time, in Unix nanoseconds, until which Get and Set
	// skip Redis after a failure to reach it; 0 while Redis answers.
	downUntil atomic.Int64
}

// NewRedis returns a Redis store configured by c. It fails on a missing
// client, a negative MaxEntry, or a client without
// ContextTimeoutEnabled and a non-negative Timeout.
func NewRedis(c RedisConfig) (*Redis, error) {
	if redisclient.IsNil(c.Client) {
		return nil, errors.New("store: no Redis client")
	}
	if c.MaxEntry < 0 {
		return nil, errors.New("store: negative MaxEntry")
	}
	if c.Timeout >= 0 && !redisclient.HonoursDeadlines(c.Client) {
		return nil, errors.New("store: Redis client without ContextTimeoutEnabled; set it, or a negative Timeout")
	}
	r := &Redis{
		client:    c.Client,
		prefix:    c.Prefix,
		maxEntry:  c.MaxEntry,
		grace:     grace(c.Grace),
		tagHeader: tagHeader(c.TagHeader),
		timeout:   c.Timeout,
		onError:   c.OnError,
		backoff:   c.Backoff,
	}
	if r.backoff == 0 {
		r.backoff = time.Second
	}
	if r.prefix == "" {
		r.prefix = "cache:"
	}
	if r.maxEntry == 0 {
		r.maxEntry = DefaultMaxEntry
	}
	if r.timeout == 0 {
		r.timeout = 100 * time.Millisecond
	}
	return r, nil
}

func (r *Redis) entryKey(key string) string { return r.prefix + "k:" + key }
func (r *Redis) tagKey(tag string) string   { return r.prefix + "t:" + tag }

func (r *Redis) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.timeout < 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

// down reports whether calls skip Redis, in a backoff after a failure.
func (r *Redis) down() bool {
	until := r.downUntil.Load()
	return until != 0 && time.Now().UnixNano() < until
}

// up ends a backoff, after a call to Redis succeeded. It loads before it
// stores, so that calls while Redis answers write nothing shared.
func (r *Redis) up() {
	if r.downUntil.Load() != 0 {
		r.downUntil.Store(0)
	}
}

// failed records err, an error of a call to Redis made with parent as its
// context: it starts a backoff when Redis could not be reached (not when
// Redis answered with an error, nor when parent itself ended), and is
// reported to OnError.
func (r *Redis) failed(parent context.Context, op string, err error) {
	var reply redis.Error
	if r.backoff > 0 && parent.Err() == nil && !errors.As(err, &reply) {
		r.downUntil.Store(time.Now().Add(r.backoff).UnixNano())
	}
	r.report(op, err)
}

func (r *Redis) report(op string, err error) {
	if r.onError != nil {
		r.onError(fmt.Errorf("store: redis %s: %w", op, err))
	}
}

// Get returns the entry stored under key, if any. A Redis error, a
// malformed entry or one longer than MaxEntry (not decoded) is a miss,
// reported to OnError. An entry past its
// Expires plus Grace is a miss even if Redis still holds it.
func (r *Redis) Get(ctx context.Context, key string) (*cache.Entry, bool) {
	if r.down() {
		return nil, false
	}
	cctx, cancel := r.ctx(ctx)
	b, err := r.client.HGet(cctx, r.entryKey(key), "v").Result()
	cancel()
	if err != nil {
		if err != redis.Nil {
			r.failed(ctx, "get", err)
		} else {
			r.up()
		}
		return nil, false
	}
	r.up()
	// An encoding longer than MaxEntry was not stored by this store: it is
	// refused before decoding, which may allocate some times its length.
	if int64(len(b)) > r.maxEntry {
		r.report("get", fmt.Errorf("key %q: %w: %d bytes, above MaxEntry", key, ErrCodec, len(b)))
		return nil, false
	}
	e, err := decodeString(b) // copies the body once, not twice as Bytes would
	if err != nil {
		r.report("get", fmt.Errorf("key %q: %w", key, err))
		return nil, false
	}
	if !time.Now().Before(e.Expires.Add(r.grace)) {
		return nil, false
	}
	return e, true
}

// setEntry stores an entry as a hash under its key: field "v" the encoded
// entry, and one field per tag, named after the tag's sorted set. It first
// removes the key from the tag sets of the entry it replaces, so that an
// old tag cannot purge a newer entry that no longer carries it. Each tag
// set scores its members by expiry (Unix ms), drops those already expired
// and keeps a TTL no shorter than its longest-lived member's.
// KEYS[1] entry key, KEYS[2..] tag sets; ARGV[1] encoded entry, ARGV[2]
// TTL ms, ARGV[3] expiry Unix ms, ARGV[4] now Unix ms.
var setEntry = redis.NewScript(`
local old = redis.call('HKEYS', KEYS[1])
for _, f in ipairs(old) do
	if f ~= 'v' then
		redis.call('ZREM', f, KEYS[1])
	end
end
redis.call('DEL', KEYS[1])
local fields = {'v', ARGV[1]}
for i = 2, #KEYS do
	fields[#fields + 1] = KEYS[i]
	fields[#fields + 1] = '1'
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
	redis.call('ZADD', KEYS[i], ARGV[3], KEYS[1])
	redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[4])
	if redis.call('PTTL', KEYS[i]) < ttl then
		redis.call('PEXPIRE', KEYS[i], ttl)
	end
end
return 1
`)

// Set stores e under key with a TTL of the time until its Expires plus
// Grace, and records key in the set of each of its tags. An entry whose
// encoding is over MaxEntry, a nil entry, or one already past its Expires
// plus Grace is not stored. A Redis error is reported to OnError.
func (r *Redis) Set(ctx context.Context, key string, e *cache.Entry) {
	if e == nil || int64(EncodedLen(e)) > r.maxEntry {
		return
	}
	ttl := time.Until(e.Expires.Add(r.grace))
	if ttl < time.Millisecond || r.down() {
		return
	}
	parent := ctx
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	ek := r.entryKey(key)
	val := Encode(make([]byte, 0, EncodedLen(e)), e)
	ts := tags(e.Header, r.tagHeader)
	keys := make([]string, 1, 1+len(ts))
	keys[0] = ek
	for _, t := range ts {
		keys = append(keys, r.tagKey(t))
	}
	now := time.Now()
	err := setEntry.Run(ctx, r.client, keys, val, ttl.Milliseconds(), now.Add(ttl).UnixMilli(), now.UnixMilli()).Err()
	if err != nil {
		r.failed(parent, "set", err)
	} else {
		r.up()
	}
}

// Purge removes the entry under key, returning 1 if there was one. The
// call is bounded by Timeout.
func (r *Redis) Purge(ctx context.Context, key string) (int, error) {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	n, err := r.client.Del(ctx, r.entryKey(key)).Result()
	return int(n), err
}

// scanCount is the COUNT hint of each SCAN of [Redis.PurgePrefix], and
// the most keys deleted by one DEL.
const scanCount = 500

// PurgePrefix removes every entry whose key starts with prefix, walking
// the keyspace with SCAN (never KEYS, which would block Redis) and
// deleting each batch found; each SCAN and each DEL is bounded by
// Timeout, not the whole walk. It returns how many it removed. Entries
// stored during the walk may survive it.
func (r *Redis) PurgePrefix(ctx context.Context, prefix string) (int, error) {
	match := escapeGlob(r.entryKey(prefix)) + "*"
	var cursor uint64
	n := 0
	for {
		cctx, cancel := r.ctx(ctx)
		keys, next, err := r.client.Scan(cctx, cursor, match, scanCount).Result()
		cancel()
		if err != nil {
			return n, err
		}
		if len(keys) > 0 {
			cctx, cancel := r.ctx(ctx)
			d, err := r.client.Del(cctx, keys...).Result()
			cancel()
			n += int(d)
			if err != nil {
				return n, err
			}
		}
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}

// purgeTagBatch deletes up to ARGV[1] members of a tag set and removes
// them from it, or deletes the set when it is empty. KEYS[1] the tag set.
// Returns {entries deleted, members taken}.
var purgeTagBatch = redis.NewScript(`
local keys = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #keys == 0 then
	redis.call('DEL', KEYS[1])
	return {0, 0}
end
local n = redis.call('DEL', unpack(keys))
redis.call('ZREM', KEYS[1], unpack(keys))
return {n, #keys}
`)

// PurgeTag removes every entry stored with tag, and the tag's set, and
// returns how many entries it removed. It takes the set's members in
// batches of 500, each deleted by one script bounded by Timeout, so that
// a large tag does not block Redis. An entry stored with tag during the
// purge may survive it.
func (r *Redis) PurgeTag(ctx context.Context, tag string) (int, error) {
	tk := []string{r.tagKey(tag)}
	n := 0
	for {
		cctx, cancel := r.ctx(ctx)
		res, err := purgeTagBatch.Run(cctx, r.client, tk, scanCount).Int64Slice()
		cancel()
		if err != nil {
			return n, err
		}
		if len(res) != 2 {
			return n, fmt.Errorf("store: redis purge tag: unexpected reply %v", res)
		}
		n += int(res[0])
		if res[1] == 0 {
			return n, nil
		}
	}
}

// escapeGlob escapes the characters that SCAN MATCH patterns give a
// meaning to, so that s matches only itself.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\^`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?', '[', ']', '\\', '^':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
