package apikey_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway/auth/apikey"
	"github.com/vivremotion/gateway/internal/redistest"
)

// stallHook holds the first HMGET issued after armed is set, once Redis
// has answered it, until release is closed: the read of a Get then lands
// before a change and its cache put after it.
type stallHook struct {
	armed   atomic.Bool
	read    chan struct{}
	release chan struct{}
}

func (h *stallHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *stallHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *stallHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if strings.EqualFold(cmd.Name(), "hmget") && h.armed.CompareAndSwap(true, false) {
			close(h.read)
			<-h.release
		}
		return err
	}
}

// TestRedisCacheNoStaleAfterRevoke: a Get that read the record before a
// Revoke through the same store, and would cache it after the Revoke
// dropped the cached copy, does not bring the approved record back.
func TestRedisCacheNoStaleAfterRevoke(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: redistest.Addr(t)})
	t.Cleanup(func() { c.Close() })
	h := &stallHook{read: make(chan struct{}), release: make(chan struct{})}
	c.AddHook(h)
	s := redisStore(t, apikey.RedisConfig{Client: c, CacheTTL: time.Hour})
	m, a := setup(t, s, apikey.Config{})
	key, rec := issue(t, m, apikey.Spec{})

	h.armed.Store(true)
	done := make(chan struct{})
	go func() { defer close(done); a.Authenticate(bearer(key)) }()
	<-h.read // the Get has read the approved record, not yet cached it
	if err := m.Revoke(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	close(h.release)
	<-done
	wantRefused(t, a, bearer(key), apikey.ErrRevoked, "api key revoked")
}

// TestRedisRotateRevokedFromStaleCache: a replica whose cache still holds
// a key that another replica revoked does not rotate it into a new
// approved key.
func TestRedisRotateRevokedFromStaleCache(t *testing.T) {
	prefix := redistest.Prefix(t)
	replica1 := redisStore(t, apikey.RedisConfig{Prefix: prefix, CacheTTL: time.Hour})
	replica2 := redisStore(t, apikey.RedisConfig{Prefix: prefix})
	m1, a1 := setup(t, replica1, apikey.Config{})
	m2, a2 := setup(t, replica2, apikey.Config{})
	key, rec := issue(t, m1, apikey.Spec{Tenant: "acme"})
	wantOK(t, a1, bearer(key), rec) // cached in replica 1
	if err := m2.Revoke(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	newKey, _, err := m1.Rotate(ctx, rec.ID, time.Minute)
	if !errors.Is(err, apikey.ErrTransition) {
		t.Fatalf("Rotate(revoked on another replica) = %q, %v; want ErrTransition", newKey, err)
	}
	recs, err := replica2.List(ctx, "acme")
	if err != nil || len(recs) != 1 {
		t.Errorf("records of acme after the failed Rotate: %d, %v; want the revoked key alone", len(recs), err)
	}
	if newKey != "" {
		wantRefused(t, a2, bearer(newKey), apikey.ErrInvalidKey, "invalid api key")
	}
}
