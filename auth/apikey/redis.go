package apikey

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures a [RedisStore]. The zero value needs only Client.
type RedisConfig struct {
	// Client is the Redis client. Required. A cluster needs Prefix to
	// hold a hash tag ("{apikey}:"), since a record and its tenant's
	// index are changed by one script.
	Client redis.UniversalClient
	// Prefix starts every Redis key the store writes. Default "apikey:".
	Prefix string
	// CacheTTL is how long a record read from Redis is kept in the
	// process and served from there, so that most requests make no round
	// trip. A key revoked or suspended on another replica is still
	// accepted here for up to CacheTTL: this is the revocation delay.
	// Changes made through this store drop its own cached copy at once,
	// and a read that raced with such a change is not cached.
	// Default 0: no cache, every Get asks Redis.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached records; when full, one
	// cached record is dropped for each new one. Default 10000; unused
	// when CacheTTL is 0.
	CacheSize int
}

// RedisStore is a [Store] in Redis, shared by replicas. A record is a
// Redis hash "<prefix>key:<id>" with its version and its JSON; the set
// "<prefix>tenant:<tenant>" lists a tenant's ids. Only digests of secrets
// are stored.
type RedisStore struct {
	client redis.UniversalClient
	prefix string
	cache  *localCache // nil without a cache
}

// NewRedisStore returns a RedisStore for c. It does not contact Redis.
func NewRedisStore(c RedisConfig) (*RedisStore, error) {
	if c.Client == nil {
		return nil, errors.New("apikey: NewRedisStore: nil Client")
	}
	if c.CacheTTL < 0 || c.CacheSize < 0 {
		return nil, fmt.Errorf("apikey: NewRedisStore: negative CacheTTL %v or CacheSize %d", c.CacheTTL, c.CacheSize)
	}
	s := &RedisStore{client: c.Client, prefix: c.Prefix}
	if s.prefix == "" {
		s.prefix = "apikey:"
	}
	if c.CacheTTL > 0 {
		size := c.CacheSize
		if size == 0 {
			size = 10000
		}
		s.cache = newLocalCache(c.CacheTTL, size)
	}
	return s, nil
}

func (s *RedisStore) recordKey(id string) string { return s.prefix + "key:" + id }
func (s *RedisStore) tenantKey(t string) string  { return s.prefix + "tenant:" + t }

// stored is a Record as JSON: the digest in hex, the state by name.
type stored struct {
	ID           string    `json:"id"`
	Subscription string    `json:"sub"`
	Hash         string    `json:"hash"`
	Tenant       string    `json:"tenant,omitempty"`
	Plan         string    `json:"plan,omitempty"`
	Name         string    `json:"name,omitempty"`
	Scopes       []string  `json:"scopes,omitempty"`
	Roles        []string  `json:"roles,omitempty"`
	State        string    `json:"state"`
	Created      time.Time `json:"created"`
	Expires      time.Time `json:"expires,omitzero"`
	ReplacedBy   string    `json:"replaced_by,omitempty"`
}

func encode(r *Record) (string, error) {
	b, err := json.Marshal(stored{
		ID: r.ID, Subscription: r.Subscription, Hash: hex.EncodeToString(r.Hash[:]),
		Tenant: r.Tenant, Plan: r.Plan, Name: r.Name, Scopes: r.Scopes, Roles: r.Roles,
		State: r.State.String(), Created: r.Created, Expires: r.Expires, ReplacedBy: r.ReplacedBy,
	})
	return string(b), err
}

func decode(data, version string) (*Record, error) {
	var st stored
	if err := json.Unmarshal([]byte(data), &st); err != nil {
		return nil, fmt.Errorf("apikey: stored record: %w", err)
	}
	state, err := parseState(st.State)
	if err != nil {
		return nil, err
	}
	v, err := strconv.ParseUint(version, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("apikey: stored version %q: %w", version, err)
	}
	r := &Record{
		ID: st.ID, Subscription: st.Subscription, Tenant: st.Tenant, Plan: st.Plan,
		Name: st.Name, Scopes: st.Scopes, Roles: st.Roles, State: state,
		Created: st.Created, Expires: st.Expires, ReplacedBy: st.ReplacedBy, Version: v,
	}
	if n, err := hex.Decode(r.Hash[:], []byte(st.Hash)); err != nil || n != len(r.Hash) {
		return nil, fmt.Errorf("apikey: stored digest of %s is malformed", st.ID)
	}
	return r.Seal(), nil
}

// Get returns the record of id: from the cache when it holds it, without
// allocating, or from Redis.
func (s *RedisStore) Get(ctx context.Context, id string) (*Record, error) {
	if s.cache != nil {
		if r := s.cache.get(id); r != nil {
			return r, nil
		}
	}
	if !ValidID(id) {
		return nil, ErrNotFound // no round trip for what cannot be stored
	}
	var gen uint64
	if s.cache != nil {
		gen = s.cache.generation() // before the read: see localCache
	}
	vals, err := s.client.HMGet(ctx, s.recordKey(id), "v", "d").Result()
	if err != nil {
		return nil, err
	}
	v, ok1 := vals[0].(string)
	d, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return nil, ErrNotFound
	}
	r, err := decode(d, v)
	if err != nil {
		return nil, err
	}
	if s.cache != nil {
		s.cache.putIf(r, gen)
	}
	return r, nil
}

// KEYS[1] record, KEYS[2] tenant index; ARGV[1] data, ARGV[2] id, ARGV[3] tenant.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', '1', 'd', ARGV[1], 't', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
`)

// Create keeps r with Version 1.
func (s *RedisStore) Create(ctx context.Context, r *Record) error {
	if err := r.validate(); err != nil {
		return err
	}
	d, err := encode(r)
	if err != nil {
		return err
	}
	n, err := createScript.Run(ctx, s.client, []string{s.recordKey(r.ID), s.tenantKey(r.Tenant)}, d, r.ID, r.Tenant).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrExists, r.ID)
	}
	return nil
}

// KEYS[1] record, KEYS[2] old tenant index, KEYS[3] new tenant index;
// ARGV[1] expected version, ARGV[2] data, ARGV[3] id, ARGV[4] tenant.
// Returns -1 when absent, 0 on a version mismatch, 1 when done.
var updateScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return -1 end
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(v) + 1), 'd', ARGV[2], 't', ARGV[4])
if KEYS[2] ~= KEYS[3] then
  redis.call('SREM', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[3])
end
return 1
`)

// Update replaces the record of r.ID when its version is r.Version.
func (s *RedisStore) Update(ctx context.Context, r *Record) error {
	if err := r.validate(); err != nil {
		return err
	}
	d, err := encode(r)
	if err != nil {
		return err
	}
	if s.cache != nil {
		defer s.cache.drop(r.ID)
	}
	key := s.recordKey(r.ID)
	oldTenant, err := s.client.HGet(ctx, key, "t").Result()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("%w: %s", ErrNotFound, r.ID)
	} else if err != nil {
		return err
	}
	// The script checks the version, so that a tenant changed between the
	// HGET and the script shows as a conflict.
	n, err := updateScript.Run(ctx, s.client,
		[]string{key, s.tenantKey(oldTenant), s.tenantKey(r.Tenant)},
		strconv.FormatUint(r.Version, 10), d, r.ID, r.Tenant).Int()
	switch {
	case err != nil:
		return err
	case n < 0:
		return fmt.Errorf("%w: %s", ErrNotFound, r.ID)
	case n == 0:
		return fmt.Errorf("%w: %s, not at version %d", ErrConflict, r.ID, r.Version)
	}
	return nil
}

// KEYS[1] record, KEYS[2] tenant index; ARGV[1] id.
var deleteScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`)

// Delete removes the record of id.
func (s *RedisStore) Delete(ctx context.Context, id string) error {
	if s.cache != nil {
		defer s.cache.drop(id)
	}
	key := s.recordKey(id)
	tenant, err := s.client.HGet(ctx, key, "t").Result()
	if errors.Is(err, redis.Nil) {
		return nil
	} else if err != nil {
		return err
	}
	return deleteScript.Run(ctx, s.client, []string{key, s.tenantKey(tenant)}, id).Err()
}

// List returns the records of tenant's keys.
func (s *RedisStore) List(ctx context.Context, tenant string) ([]*Record, error) {
	ids, err := s.client.SMembers(ctx, s.tenantKey(tenant)).Result()
	if err != nil {
		return nil, err
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.recordKey(id), "v", "d")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Record, 0, len(ids))
	for _, c := range cmds {
		vals := c.Val()
		v, ok1 := vals[0].(string)
		d, ok2 := vals[1].(string)
		if !ok1 || !ok2 {
			continue // deleted meanwhile
		}
		r, err := decode(d, v)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
