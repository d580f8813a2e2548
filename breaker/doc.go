// Package breaker is a circuit breaker for the gateway: it stops sending
// calls to an upstream that fails or is slow, lets a few probes through
// after a while, and resumes when they succeed.
//
// A [Breaker] guards one thing: a whole pool, or any call site.
// [PerUpstream] keeps one Breaker for each upstream of a pool, so that one
// failing upstream is cut off while the others serve. [Middleware] puts a
// Breaker in front of any [net/http.Handler].
//
// # Quickstart
//
//	b := breaker.New(breaker.Settings{}) // the defaults below
//
//	ticket, err := b.Allow()
//	if err != nil {
//		return err // wraps gateway.ErrCircuitOpen: answer 503
//	}
//	o := callUpstream() // a balancer.Outcome: status, class, duration
//	b.Done(ticket, o)
//
// In the gateway, a Breaker is a Proxy's Breaker, which the Proxy calls
// for each attempt, and a PerUpstream has the methods the Proxy calls with
// the upstream of each attempt. In front of a handler of your own:
//
//	h := breaker.Middleware(breaker.New(breaker.Settings{Name: "orders"}))(orders)
//
// # States
//
// A circuit is [Closed], [Open] or [HalfOpen]. Closed, calls go through
// and their outcomes are counted in a rolling window. It trips to open on
// whichever rule is met first:
//
//   - the failure rate: once the window holds MinCalls calls, the share of
//     failures reaches FailureRate;
//   - the slow-call rate: with SlowCall set, once the window holds MinCalls
//     calls, the share of calls slower than SlowCall reaches SlowCallRate
//     (judged on the time to first byte when the outcome has it, so that
//     a long stream is not slow);
//   - ConsecutiveFailures failures in a row, whatever the window holds.
//
// A failure is what [Settings.IsFailure] says, by default a 5xx status, a
// timeout or a connection error ([balancer.Outcome.Failed]); a 4xx is a
// success. An outcome of class [balancer.Canceled] (the client went away)
// or [balancer.Refused] (a local policy refused the call) counts as
// neither: it is not in the window and does not break a run of failures.
//
// The window is time-based (the calls that ended in the last Window) or
// count-based (the last WindowCalls calls), split in Buckets buckets that
// drop out whole: see [Settings.Window] and [Settings.WindowCalls].
//
// Open, every call is refused for the open time. The first call after it
// makes the circuit half-open and is its first probe; HalfOpenProbes
// probes go through, the others are refused while they are out. Once all
// of them are recorded, the circuit closes if their failure and slow-call
// rates are below the thresholds, by the same rules as the window (but
// with no MinCalls); it opens again as soon as the probes recorded reach a
// rate, since it can only rise. With one probe, the default: its success
// closes, its failure or slowness opens. An ignored probe gives its place
// to another.
//
// The open time is OpenTimeout after a trip from closed, and doubles each
// time the probes fail, up to MaxOpenTimeout; it goes back to OpenTimeout
// once the circuit closes. Closing also empties the window.
//
// # Defaults
//
// The zero [Settings] trip at 50% failures over the last 10 s, in ten
// buckets of 1 s, once 20 calls are in, or at 10 failures in a row; open
// for 5 s, then 10, 20, 40 and 60 s at most; and probe with one call. The
// time-based window is the default because it ages: under light traffic,
// a count-based window would judge an upstream by failures from long ago.
// Ten failures in a row catch a dead upstream whose traffic is too light
// for the rate to speak, and rarely trip a healthy one: an upstream that
// fails one call in five has ten failures in a row about once in ten
// million calls.
//
// Settings are checked when the breaker is made: [New] and
// [NewPerUpstream] panic on a programmer's mistake (a negative count, a
// rate outside (0, 1], two windows at once) with a message that names the
// field, as regexp.MustCompile does for a literal; settings loaded at run
// time are checked first with [Settings.Check], which returns the same
// error.
//
// # Tickets and generations
//
// Allow returns a ticket that carries the generation of the state the
// call was admitted in; every change of state starts a new generation,
// and Done ignores a ticket from another one. So a call admitted before a
// trip and answered after it does not count in the half-open state (it
// cannot close the circuit, nor reopen it), and the late failures of
// calls from before do not count once the circuit has closed again.
//
// # State changes
//
// [Settings.OnStateChange] is called after each change with the
// breaker's name and the states before and after. It runs with no lock
// held: it may call the breaker, even change its state. Calls come one at
// a time, in the order of the changes: a goroutine that changes the state
// queues the change and calls the callback unless another goroutine is
// already doing so, which then also delivers the queued change before it
// returns. A callback may thus run on the goroutine of another breaker
// call, and report a change that a later one has already followed: it
// tells what happened, not what the state is when it runs.
//
// # Per upstream
//
// [PerUpstream] has the methods Allow(u) and Done(u, ticket, o) that the
// gateway's Proxy calls for each attempt with the upstream its balancer
// picked, and For(u) for the upstream's [Breaker]. An upstream whose
// circuit opens leaves its pool's rotation for the open time
// ([balancer.Upstream.Eject]), so that the pool's balancer picks among
// the others, and comes back with the pool's first outcome after it, to
// be probed. A balancer can also skip the upstreams whose circuit refuses
// with [PerUpstream.Open]. Breakers are
// made at an upstream's first call and named by its URL; the map holds the
// upstreams by weak pointers and drops those the garbage collector has
// reclaimed whenever it adds one, so it does not grow as upstreams come
// and go from a pool.
//
// # Performance
//
// Allow and Done take no lock and allocate nothing: the state, the
// generation and the probes out are one atomic word that Allow reads with
// one load (closed) or changes with one CAS (a probe); each bucket of the
// window is a stamp and two atomic counters, with calls and failures in
// one word so that one atomic add records a call. A mutex is taken only
// to change state. A time-based window reads the monotonic clock once per
// Done (not per Allow), which on this machine's virtual clock is most of
// the cost; [Breaker.DoneAt] takes the time from a caller that already
// holds it. Refusing reads the clock too, to know whether the open time is
// over; the error is a value made with the breaker.
//
// Measured on a 2-core virtual machine (AMD, kvm-clock, Go 1.26), with
//
//	go test -run '^$' -bench . -benchtime 500ms -count 3 ./breaker/
//
// medians of three, ns per Allow+Done pair, allocations in brackets:
//
//	closed, time window                             45 (0)
//	closed, time window, parallel                   81 (0)
//	closed, count window                            16 (0)
//	closed, count window, parallel                  77 (0)
//	closed, time window, 10% failures               55 (0)
//	closed, time window, 10% failures, parallel     50 (0)
//	closed, count window, 10% failures              25 (0)
//	closed, count window, 10% failures, parallel    21 (0)
//	open (refused)                                  32 (0)
//	open (refused), parallel                        15 (0)
//	closed, time window, DoneAt                     15 (0)
//	PerUpstream, 10 upstreams                       79 (0)
//	PerUpstream, 10 upstreams, parallel             89 (0)
//	Middleware, per request                         91 (0)
//	Middleware, per request, parallel              147 (0)
//
// Figures move by a fifth or more between runs on this shared machine,
// the parallel ones most. The time-window figures are two-thirds clock:
// time.Since costs 34 ns on this machine's kvm-clock (DoneAt shows the
// rest). A failure costs a little more than a success, as it sums the
// window's buckets to check the rate. An admitted request costs the
// middleware no allocation (its response writer is pooled); a refused
// one allocates its Retry-After value. With [Settings.SlowCall] set, the
// middleware reads the clock once more, when the response head is
// written, for the time to first byte.
//
// # Security
//
// The refusal's body is fixed: it names no upstream. [OpenError]'s
// message carries the breaker's name, which for [PerUpstream] is the
// upstream's URL: it is meant for logs, and the gateway's error handler
// does not put it in responses.
package breaker
