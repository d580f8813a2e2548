package redislimit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway/internal/redisclient"
	"github.com/vivremotion/gateway/ratelimit"
)

// ErrUnavailable wraps the error of a decision that Redis could not make:
// it could not be reached in time, or it answered with an error. A
// fail-closed [Limiter] returns it; the gateway's Proxy answers 503.
var ErrUnavailable = errors.New("redislimit: redis unavailable")

// ErrCost reports a negative cost passed to [Limiter.Allow].
var ErrCost = errors.New("redislimit: negative cost")

// Config configures a [Limiter]. Only Client and Rate are required; every
// other field's zero value works.
type Config struct {
	// Client is the Redis client: a *redis.Client, *redis.ClusterClient,
	// *redis.Ring or failover client. Required. Its options must set
	// ContextTimeoutEnabled, so that Timeout bounds each call (New fails
	// otherwise), unless Timeout is negative.
	Client redis.UniversalClient
	// Rate is the limit each key gets, the same for every replica.
	// Required; its Period must be a whole number of microseconds.
	Rate ratelimit.Rate
	// Prefix is put before every key in Redis. Limiters with different
	// Rates must have different prefixes. Empty means "ratelimit:". With
	// Redis Cluster, a hash tag in the key ("{tenant}") places keys.
	Prefix string
	// Timeout bounds each call to Redis, from taking a connection to the
	// answer, so that a dead or unreachable Redis does not stall requests.
	// Zero means 100 ms. Negative means the limiter sets no deadline of its
	// own and relies on the client's DialTimeout, ReadTimeout and
	// WriteTimeout (and saves the five allocations a deadline costs).
	Timeout time.Duration
	// FailOpen chooses what Allow does when Redis cannot decide. False,
	// the default, fails closed: Allow returns an error wrapping
	// [ErrUnavailable] and the request is refused (the Proxy answers 503).
	// True fails open: Allow returns the allowing Decision a fresh key would
	// get, and no error.
	FailOpen bool
	// Backoff is how long, after a call fails because Redis cannot be
	// reached (a refused connection, a timeout), decisions skip Redis and
	// fail open or closed at once, so that an outage costs requests no
	// wait; one decision at a time tries Redis again each Backoff, and the
	// first that succeeds ends the outage. An error that Redis itself
	// answers (a key of the wrong type, say) starts no Backoff. Zero means
	// 1 second; negative means every decision tries Redis.
	Backoff time.Duration
	// OnError, when not nil, is called with the error (wrapping
	// [ErrUnavailable]) of each call to Redis that fails, in either mode,
	// on the goroutine of the decision and with no lock held: the place to
	// count or log outages, which fail-open decisions do not show
	// otherwise. Decisions skipped during Backoff do not call it.
	OnError func(error)
	// Batch, when above zero, turns on local-first mode: when a replica
	// needs units of a key, it takes from Redis, in the same round trip,
	// up to Batch more, and spends them locally, so that a key's busy
	// replica asks Redis about once every Batch units instead of once per
	// decision. A replica holds at most Batch unspent units per key, which
	// bounds the overshoot (see # Consistency in the package doc). Zero,
	// the default, asks Redis on every decision. Batch must not exceed the
	// Rate's burst.
	Batch int64
	// MaxKeys bounds the keys a replica holds leases for in local-first
	// mode. When it is reached, a new key takes the place of a lease that
	// no round trip is using, preferably one that holds no units; the
	// units a dropped lease held are lost to its key until Redis earns
	// them again, which makes the limit stricter, never looser. Zero means
	// [ratelimit.DefaultMaxKeys] (1<<20, about 200 MB at most); the bound
	// is rounded up to a multiple of the 64 shards. Unused when Batch is 0.
	MaxKeys int
}

// Limiter is a [ratelimit.Limiter] whose state is in Redis, so that every
// gateway replica using the same Redis, Prefix and Rate enforces one limit
// per key together. It is safe for concurrent use. Build it with [New].
type Limiter struct {
	client   redis.UniversalClient
	prefix   string
	timeout  time.Duration
	failOpen bool
	onError  func(error)

	burst int64
	// The emission interval is p/u microseconds, in lowest terms.
	p, u int64
	// The script's fixed arguments, boxed once: boxing them per call
	// would allocate.
	pArg, uArg, burstArg any

	calls sync.Pool // of *call
	local *local    // nil unless Batch > 0

	epoch   time.Time // origin of the monotonic nanoseconds below
	backoff int64     // ns; 0: none
	// downUntil is when decisions try Redis again after a failed call;
	// 0 while Redis answers.
	downUntil atomic.Int64
	errDown   error // the error of a decision skipped during backoff
}

// New returns a Limiter for c. It fails on a missing client, a bad Rate,
// a Rate too fine for exact arithmetic, or a Batch above the burst.
func New(c Config) (*Limiter, error) {
	if redisclient.IsNil(c.Client) {
		return nil, errors.New("redislimit: no client")
	}
	if err := c.Rate.Check(); err != nil {
		return nil, err
	}
	r := c.Rate
	if r.Period%time.Microsecond != 0 {
		return nil, fmt.Errorf("%w: period %v is not a whole number of microseconds", ratelimit.ErrRate, r.Period)
	}
	period := int64(r.Period / time.Microsecond)
	g := gcd(period, r.Limit)
	p, u := period/g, r.Limit/g
	burst := r.BurstOrLimit()
	// The script's largest figure is below 2*burst*p; a double holds
	// integers exactly up to 2^53.
	if hi, lo := bits.Mul64(uint64(burst), uint64(p)); hi != 0 || lo >= 1<<52 {
		return nil, fmt.Errorf("%w: %v needs figures beyond 2^53 in Redis's Lua; use a smaller burst or a period that divides better by the limit", ratelimit.ErrRate, r)
	}
	if c.Batch < 0 || c.Batch > burst {
		return nil, fmt.Errorf("redislimit: batch %d is not between 0 and the burst, %d", c.Batch, burst)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 100 * time.Millisecond
	}
	if timeout > 0 && !redisclient.HonoursDeadlines(c.Client) {
		return nil, errors.New("redislimit: the client ignores context deadlines, so Timeout cannot bound a call; set ContextTimeoutEnabled in its options, or a negative Timeout to rely on its own timeouts")
	}
	backoff := c.Backoff
	if backoff == 0 {
		backoff = time.Second
	}
	prefix := c.Prefix
	if prefix == "" {
		prefix = "ratelimit:"
	}
	l := &Limiter{
		client:   c.Client,
		prefix:   prefix,
		timeout:  timeout,
		failOpen: c.FailOpen,
		onError:  c.OnError,
		burst:    burst,
		p:        p,
		u:        u,
		pArg:     p,
		uArg:     u,
		burstArg: burst,
		epoch:    time.Now(),
		backoff:  int64(max(backoff, 0)),
		errDown:  fmt.Errorf("%w: a call failed less than %v ago", ErrUnavailable, backoff),
	}
	l.calls.New = func() any { return l.newCall() }
	if c.MaxKeys < 0 {
		return nil, fmt.Errorf("redislimit: MaxKeys %d is negative", c.MaxKeys)
	}
	if c.Batch > 0 {
		maxKeys := c.MaxKeys
		if maxKeys == 0 {
			maxKeys = ratelimit.DefaultMaxKeys
		}
		l.local = newLocal(c.Batch, r.Period, maxKeys)
	}
	return l, nil
}

// Allow spends cost units of key's allowance if it has them, in one round
// trip to Redis (or none, in local-first mode while the replica holds
// enough). The Decision's Limit is the burst; Remaining is what the key may
// still spend now; RetryAfter, when refused, is how long until cost units
// are there; Reset is how long until the allowance is whole.
//
// A cost of 0 spends nothing and reports the key's state. A cost above the
// burst can never be allowed: it is refused with CostTooHigh set and no
// RetryAfter (a round trip that spends nothing fills in Remaining and
// Reset). A negative cost is an error wrapping [ErrCost].
//
// A key longer than 64 bytes is replaced by its SHA-256 (the same on
// every replica), so that long keys cost Redis and the lease table little.
func (l *Limiter) Allow(ctx context.Context, key string, cost int64) (ratelimit.Decision, error) {
	var h keyHash
	key = stored(key, &h)
	switch {
	case cost < 0:
		return ratelimit.Decision{}, fmt.Errorf("%w: %d", ErrCost, cost)
	case cost > l.burst:
		return l.tooCostly(ctx, key), nil
	case l.local != nil:
		return l.allowLocal(ctx, key, cost)
	}
	r, err := l.take(ctx, key, cost, cost)
	if err != nil {
		return l.failed(ctx, cost, err)
	}
	// by value: a pointer would escape and allocate
	return ratelimit.Decision{
		Allowed:    r.allowed,
		Limit:      l.burst,
		Remaining:  r.remaining,
		RetryAfter: r.retry,
		Reset:      r.reset,
	}, nil
}

// maxKeyLen is the longest key sent to Redis (after the prefix) and held
// in the lease table as it is; a longer one is replaced by its SHA-256, so
// that a key costs Redis and the replica at most maxKeyLen bytes. The hash
// is not seeded, so that every replica finds the same key in Redis; being
// cryptographic, it lets no client choose keys that collide.
const maxKeyLen = 64

// keyHash holds the stored form of a long key.
type keyHash [sha256.Size]byte

// stored returns key, or its SHA-256 written into h when key is longer
// than maxKeyLen. The result is valid while h is.
func stored(key string, h *keyHash) string {
	if len(key) <= maxKeyLen {
		return key
	}
	*h = sha256.Sum256(unsafe.Slice(unsafe.StringData(key), len(key)))
	return unsafe.String(&h[0], len(h))
}

// tooCostly answers a request whose cost is above the burst: refused for
// good (CostTooHigh, no RetryAfter), with the key's Remaining and Reset
// as a round trip that spends nothing finds them, plus what the replica's
// lease holds in local-first mode. When Redis cannot tell, Remaining is 0:
// the request is refused whatever Redis would say, so it is no outage.
func (l *Limiter) tooCostly(ctx context.Context, key string) ratelimit.Decision {
	d := ratelimit.Decision{Limit: l.burst, CostTooHigh: true}
	r, err := l.take(ctx, key, 0, 0)
	if err != nil {
		if err != l.errDown && l.onError != nil {
			l.onError(fmt.Errorf("%w: %w", ErrUnavailable, err))
		}
		return d
	}
	held := int64(0)
	if l.local != nil {
		held = l.local.held(key)
	}
	d.Remaining = min(l.burst, held+r.remaining)
	d.Reset = r.reset
	return d
}

// failed makes the Decision for a call that Redis could not answer.
func (l *Limiter) failed(ctx context.Context, cost int64, err error) (ratelimit.Decision, error) {
	if err != l.errDown {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		if l.onError != nil {
			l.onError(err)
		}
	}
	// The caller gone is no outage: its request goes nowhere either way.
	if l.failOpen && ctx.Err() == nil {
		return ratelimit.Decision{
			Allowed:   true,
			Limit:     l.burst,
			Remaining: l.burst - cost,
			Reset:     time.Duration(cost*l.p/l.u) * time.Microsecond,
		}, nil
	}
	return ratelimit.Decision{Limit: l.burst}, err
}

// result is the script's answer.
type result struct {
	allowed      bool
	granted      int64
	remaining    int64
	retry, reset time.Duration
}

// call is one round trip's arguments, pooled: the key is built in its
// buffer, and the script's arguments point into it, so that a call
// allocates none of them.
type call struct {
	key         []byte
	skey        string // key, as the string go-redis sends
	least, most int64
	args        [9]any
}

func (l *Limiter) newCall() *call {
	c := &call{key: make([]byte, 0, 64)}
	// Pointers box without allocating; go-redis reads *string and *int64.
	c.args = [9]any{"evalsha", scriptHash, "1", &c.skey, l.pArg, l.uArg, l.burstArg, &c.least, &c.most}
	return c
}

// take runs the script for key: it grants between least and most units.
// During a backoff it returns l.errDown at once, but for the one caller
// that tries Redis again.
func (l *Limiter) take(ctx context.Context, key string, least, most int64) (result, error) {
	if until := l.downUntil.Load(); until != 0 {
		now := l.now()
		if now < until || !l.downUntil.CompareAndSwap(until, now+l.backoff) {
			return result{}, l.errDown
		}
	}
	r, err := l.call(ctx, key, least, most)
	switch {
	case err == nil:
		if l.downUntil.Load() != 0 {
			l.downUntil.Store(0)
		}
	case l.backoff > 0 && ctx.Err() == nil && !isReply(err):
		l.downUntil.Store(l.now() + l.backoff)
	}
	return r, err
}

func (l *Limiter) now() int64 { return int64(time.Since(l.epoch)) }

// isReply reports whether err is an error Redis answered, rather than a
// failure to reach it.
func isReply(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !errors.Is(err, context.DeadlineExceeded)
}

// call is take's round trip.
func (l *Limiter) call(ctx context.Context, key string, least, most int64) (result, error) {
	if l.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.timeout)
		defer cancel()
	}
	c := l.calls.Get().(*call)
	defer l.calls.Put(c)
	c.key = append(append(c.key[:0], l.prefix...), key...)
	// The string shares c.key's bytes: it is used only during this call,
	// and the buffer is reused only after it.
	c.skey = unsafe.String(unsafe.SliceData(c.key), len(c.key))
	c.least, c.most = least, most

	v, err := l.client.Do(ctx, c.args[:]...).Result()
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// Redis restarted, or another script flushed it: send the source.
		c.args[0], c.args[1] = "eval", gcra
		v, err = l.client.Do(ctx, c.args[:]...).Result()
		c.args[0], c.args[1] = "evalsha", scriptHash
	}
	c.skey = ""
	if err != nil {
		return result{}, err
	}
	return parse(v)
}

// parse reads the script's reply.
func parse(v any) (result, error) {
	a, ok := v.([]any)
	if !ok || len(a) != 5 {
		return result{}, fmt.Errorf("unexpected reply %v", v)
	}
	var n [5]int64
	for i, x := range a {
		if n[i], ok = x.(int64); !ok {
			return result{}, fmt.Errorf("unexpected reply %v", v)
		}
	}
	return result{
		allowed:   n[0] == 1,
		granted:   n[1],
		remaining: n[2],
		retry:     time.Duration(n[3]) * time.Microsecond,
		reset:     time.Duration(n[4]) * time.Microsecond,
	}, nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
