// Package balancer holds the upstreams a proxy forwards to, the pool that
// tracks which of them are in rotation, and the policies that pick one for
// each request.
//
// An [Upstream] carries typed atomic counters (requests in flight,
// requests, failures, failures in a row, a peak-EWMA latency) that the
// proxy updates with one [Outcome] per attempt, through [Upstream.Begin]
// and [Upstream.Done]. A [Pool] publishes the upstreams in rotation as an
// immutable snapshot, so that picking takes no lock and allocates nothing;
// members are added, removed and drained at run time ([Pool.Add],
// [Pool.Remove], [Pool.Drain]), and grouped by [Upstream.Priority] so that
// a backup group takes traffic only when no member of a better group is
// healthy.
//
// Quickstart:
//
//	pool := balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080")
//	// Take failing upstreams out: by their answers, and by probes.
//	_ = pool.EjectOutliers(balancer.Ejector{})
//	_ = pool.CheckHealth(balancer.HealthCheck{Path: "/healthz"})
//	defer pool.Close()
//	p := &gateway.Proxy{Upstreams: pool, Balancer: balancer.NewP2C()}
//
// # Policies
//
// Each policy is a small type in a file of its name, safe for concurrent
// use, whose zero value is ready (a constructor returns the same), and
// whose Pick allocates nothing:
//
//   - [RoundRobin]: in turn. The Proxy's default.
//   - [SmoothWeighted]: in turn by [Upstream.Weight], nginx's smooth order.
//   - [Random]: at random by weight.
//   - [LeastRequests]: the fewest requests in flight for the weight.
//   - [P2C]: the cheaper of two at random, by latency and load; the best
//     general choice when upstreams differ in speed.
//   - [ConsistentHash]: the same key to the same upstream, with a bound on
//     load; keys from [KeyClientIP], [KeyHeader], [KeyCookie], [KeyPath].
//   - [Sticky]: cookie affinity over any other policy.
//
// Policies that need a table of the upstreams (the weighted ones, the hash
// ring, Sticky's index) build it once per snapshot of the pool, keyed by
// the snapshot itself, so a change of membership or health costs one
// rebuild and a pick costs a lookup. A [Pool] marks its snapshots so that
// they can be told from other slices; a slice made elsewhere, such as the
// one the proxy's retries pass without the upstreams already tried, is
// picked from in one pass over it, with no table, still without
// allocating.
//
// # Health
//
// An upstream leaves rotation in four ways, each independent of the
// others: [Pool.SetHealthy] by the caller; active checks
// ([Pool.CheckHealth], one goroutine per pool until [Pool.Close]);
// passive outlier ejection ([Pool.EjectOutliers]), judged in
// [Upstream.Done] with no goroutine of its own; and [Pool.Drain].
//
// # Discovery
//
// A [Discoverer] keeps a pool's members in step with a [Source] of
// upstream URLs: [Static], [DNS] (one upstream per A or AAAA record),
// [SRV] (with each record's weight and priority), or the caller's own
// registry. [Discoverer.Refresh] applies one resolution;
// [Discoverer.Start] runs them every Interval in one goroutine until
// [Discoverer.Close] or its context ends. New URLs are added; members
// whose URL is gone are drained for up to DrainTimeout, then removed. A
// failed or empty resolution changes nothing, so a DNS outage never
// empties a pool; unusable or repeated URLs are reported and skipped.
//
// # Performance
//
// Pick on a snapshot of n upstreams (weights 1 to 3, some requests in
// flight), from `go test -run '^$' -bench Pick -benchmem`, on 2 vCPUs
// (Oxide Virtual Turin-like) of a shared virtual machine that other jobs
// were loading, Go 1.26, median of 3 runs. Parallel is RunParallel at
// n=100 on 2 goroutines: ns per pick of the whole. All
// allocate nothing; the AllocsPerRun guards in the tests fail if that
// changes.
//
//	policy                n=10     n=100    n=1000   parallel
//	RoundRobin          6.5 ns    6.5 ns    6.5 ns    18.1 ns
//	SmoothWeighted      7.6 ns    7.6 ns    8.0 ns    24.1 ns
//	Random             26.4 ns   42.6 ns   57.5 ns    21.5 ns
//	LeastRequests      17.5 ns   33.7 ns   34.5 ns    16.2 ns
//	P2C                53.8 ns   56.7 ns   57.5 ns    28.2 ns
//	ConsistentHash     33.0 ns   68.4 ns   68.8 ns    33.6 ns
//	Sticky             59.4 ns   57.5 ns   61.9 ns    29.7 ns
//
// LeastRequests looks at every upstream in pools of up to 32 and at 4
// drawn at random in larger ones (measured alone, on a quiet machine); the
// others are constant or logarithmic in n. Random is a binary search over running totals of the weights (one
// draw when they are equal). ConsistentHash's figures are for one key and
// depend on it: when the key's owner is at its bound, or on one pick in
// 16, a pick also sums the requests in flight of all upstreams, about 1ns
// each. Sticky here
// finds the upstream its cookie names; without a cookie it costs what its
// Next policy does, plus the cookie scan. The parallel figures on a loaded
// 2-vCPU machine are the least stable: repeat them before relying on them.
//
// [Upstream.Begin] with [Upstream.Done] allocates nothing and cost 110ns
// here with outlier ejection on (BenchmarkDone), more than half of it the
// clock read in Done, which is slow on this virtual machine;
// [Upstream.DoneAt], for a caller that already holds the time, cost 45ns.
package balancer
