// Package redislimit is a [ratelimit.Limiter] whose state is in Redis, so
// that many gateway replicas enforce one limit per key together.
//
// Each decision is one round trip: a Lua script (sent by EVALSHA, and by
// EVAL when Redis does not have it, after a restart) runs GCRA, the
// generic cell rate algorithm, on the key's theoretical arrival time.
// The arithmetic is in integers: times are microseconds, and the emission
// interval Period/Limit is kept as an exact fraction, so that 3 a second
// is 333333⅓ µs and nothing drifts. Lua numbers in Redis are doubles,
// exact below 2^53; microseconds since 1970 are about 2^51, and [New]
// refuses a Rate whose figures would pass 2^53. The clock is Redis's own
// (TIME), so the replicas' clocks do not matter. Each key expires once its
// allowance is whole again, so idle keys cost Redis nothing.
//
// Quickstart:
//
//	client := redis.NewClient(&redis.Options{
//		Addr:                  "redis:6379",
//		ContextTimeoutEnabled: true, // so that Timeout bounds each call
//	})
//	lim, err := redislimit.New(redislimit.Config{
//		Client: client,
//		Rate:   ratelimit.PerMinute(600), // the same on every replica
//		Prefix: "api:",                   // one prefix per Rate
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	p := &gateway.Proxy{Upstreams: pool, Limiter: lim}
//
// A [ratelimit.Decision]'s Limit is the burst; Remaining is what the key
// may spend now; RetryAfter, for a refusal, is when the same cost will
// pass; Reset is when the allowance is whole.
//
// # Consistency
//
// Synchronous mode (Config.Batch 0, the default): every decision runs in
// Redis, atomically, so any number of replicas admit what one limiter
// would: over any stretch of time w, at most Burst + w × Limit/Period
// units per key, with no overshoot. TestReplicasSynchronous has 8
// replicas of 4 goroutines each (8 clients, 32 goroutines) take one key of
// 1000 an hour: they admit 1000 of the 1000 allowed, every run. Two
// things outside the algorithm can still move the count: a Redis failover
// loses the writes the replica had not received (asynchronous
// replication), which may admit again what they spent; and go-redis
// retries a call whose answer was lost, which may spend twice (admitting
// less, never more).
//
// Local-first mode (Config.Batch K > 0): when a replica needs units of a
// key, it takes up to K more in the same round trip, and spends them
// without asking Redis again. A replica never holds more than K units of a
// key, counting those that round trips in flight may bring; units come
// only from Redis, so over a key's whole life the replicas admit no more
// than the synchronous mode would. Over a stretch of time, units taken
// before it may be spent in it: with R replicas, at most Burst + w ×
// Limit/Period + R × K units, an overshoot of at most R × K.
// TestReplicasLocalFirst shows it reached: 4 replicas with K = 10, each
// holding 10 units when the key's allowance in Redis is whole again, admit
// 140 against a burst of 100. The other way, units a replica holds
// unspent for a lease's life (the Period, within 1 second and 1 minute)
// are dropped, and the key lacks them until Redis earns them again: up to
// R × K too few. Choose K so that R × K is small beside the Limit. In this
// mode a Decision's Remaining and Reset are as Redis reported them at the
// replica's last round trip, less what it spent since; a refusal is
// remembered until its RetryAfter, so that a refused client costs no round
// trips.
//
// # Failure
//
// Each call to Redis is bounded by Config.Timeout (100 ms by default);
// the client must set ContextTimeoutEnabled for that, and New fails if it
// does not. After a call fails because Redis cannot be reached, decisions
// skip Redis for Config.Backoff (1 s) and fail at once, while one at a
// time tries again; so a dead Redis costs one timeout per Backoff, not
// one per request, and decisions resume within a Backoff of its return.
//
// Failing closed is the default: [Limiter.Allow] returns an error wrapping
// [ErrUnavailable], which the gateway's Proxy answers with 503. A limit
// that exists to protect an upstream or a budget (LLM tokens are money)
// should not vanish unseen while Redis is down; an outage that refuses is
// seen at once, by every dashboard. Config.FailOpen chooses availability
// instead: Allow returns the allowing Decision a fresh key would get, and
// no error; Config.OnError is where such a gateway counts its outages. In
// local-first mode a replica spends the units it holds before either
// applies. Whatever the mode, a caller whose context is done gets an
// error.
//
// # Security
//
// Keys reach Redis as arguments, never as script text, and may hold any
// bytes. A key longer than 64 bytes is replaced by its SHA-256 (unseeded,
// so that every replica finds the same state; cryptographic, so that no
// client can make two keys collide), so that a key costs at most 64 bytes
// whatever a client sends. Keys chosen by clients (an address, an API key)
// cost Redis memory only while their allowance is not whole (at most
// Burst × Period/Limit). In local-first mode a replica's own table drops
// keys whose leases are over, as new keys come, and holds at most
// Config.MaxKeys of them: past that, a new key takes the place of a lease
// no round trip is using, and the units that lease held are lost to its
// key, so a flood of keys can make limits stricter, never looser. Give
// each Limiter its own Prefix: two Rates on one key would each read the
// other's state.
//
// # Performance
//
// From `go test -run '^$' -bench . -benchtime 2s -count 3
// ./ratelimit/redislimit`, against redis-server 7.0 on the same machine
// (loopback), 2 vCPUs (Oxide Virtual Turin-like) of a shared virtual
// machine that other jobs were loading, shared with redis-server, Go 1.26,
// go-redis 9.23; median of 3 runs, over 1000 keys:
//
//	mode                   ns/decision   p50       p99       round trips   allocs
//	sync, sequential          54 800     43 µs    184 µs     1             12
//	sync, parallel            44 600     80 µs    247 µs     1             12
//	batch 100, sequential        960    121 ns     57 µs     0.010          0
//	batch 100, parallel          740     90 ns     96 µs     0.012          0
//
// A round trip costs what Redis and the network cost: here 18 000 to
// 22 000 decisions a second. Local-first with a batch of 100 makes 1.0 to
// 1.35 million, with a round trip per 80 to 100 decisions (more than one
// per batch when goroutines of a replica find a key's lease spent at
// once); a decision from the lease takes about 100 ns. None of the 12
// allocations of a round trip is this package's: the key is built in a
// pooled buffer and the script's arguments are boxed once; 7 are
// go-redis's (its command, a connection check, its reply), and 5 the
// deadline of context.WithTimeout and the channel go-redis asks of it (a
// negative Timeout saves those). Spending from a lease allocates nothing.
// TestAllowAllocs and TestAllowLocalAllocs fail if that changes.
package redislimit
