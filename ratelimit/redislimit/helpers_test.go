package redislimit_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway/internal/redistest"
	"github.com/vivremotion/gateway/ratelimit/redislimit"
)

// client returns a client of the Redis server at addr, closed when t ends.
// Each call makes a separate client, with its own connections, as each
// gateway replica has.
func client(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// limiter returns a Limiter on the shared test server with cfg, a client of
// its own and a prefix no other test uses.
func limiter(t testing.TB, cfg redislimit.Config) *redislimit.Limiter {
	t.Helper()
	if cfg.Client == nil {
		cfg.Client = client(t, redistest.Addr(t))
	}
	if cfg.Prefix == "" {
		cfg.Prefix = redistest.Prefix(t)
	}
	l, err := redislimit.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	return l
}

// counter is a go-redis hook that counts the scripts a client runs: the
// limiter's round trips, not the commands go-redis sends on connecting.
type counter struct{ n atomic.Int64 }

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// blackHole returns the address of a server that accepts connections and
// never answers, as a Redis behind a dropped network path seems to.
func blackHole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}
