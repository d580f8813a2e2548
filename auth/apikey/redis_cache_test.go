package apikey_test

import (
	"context"
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
