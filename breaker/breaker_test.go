package breaker_test

import (
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
)

// Outcomes the tests feed the breakers.
var (
	ok       = balancer.Outcome{Status: 200, Class: balancer.OK, Duration: 10 * time.Millisecond}
	notFound = balancer.Outcome{Status: 404, Class: balancer.OK, Duration: 10 * time.Millisecond}
	fail     = balancer.Outcome{Status: 502, Class: balancer.ServerError, Duration: 10 * time.Millisecond}
	timeout  = balancer.Outcome{Class: balancer.Timeout, Duration: time.Second}
	dialErr  = balancer.Outcome{Class: balancer.ConnectionError}
	canceled = balancer.Outcome{Class: balancer.Canceled}
	refused  = balancer.Outcome{Class: balancer.Refused}
	slowOK   = balancer.Outcome{Status: 200, Class: balancer.OK, Duration: 3 * time.Second}
)

// step is one action on a breaker, followed by a check of its state. The
// runner keeps the tickets of the calls admitted by "allow" steps, in
// order, for "done" steps to use.
type step struct {
	op      string           // "call": n × (Allow, Done(o)); "allow": Allow; "done": Done(ticket #t, o); "sleep": advance the clock by d
	n       int              // call: how many
	o       balancer.Outcome // call, done
	t       int              // done: which ticket
	d       time.Duration    // sleep
	refused bool             // call, allow: Allow must refuse (every call of the step)
	want    breaker.State    // the state after the step
}

func call(n int, o balancer.Outcome, want breaker.State) step {
	return step{op: "call", n: n, o: o, want: want}
}
func refusedCall(want breaker.State) step {
	return step{op: "call", n: 1, refused: true, want: want}
}
func allow(want breaker.State) step                  { return step{op: "allow", want: want} }
func refusedAllow(want breaker.State) step           { return step{op: "allow", refused: true, want: want} }
func sleep(d time.Duration, want breaker.State) step { return step{op: "sleep", d: d, want: want} }
func done(t int, o balancer.Outcome, want breaker.State) step {
	return step{op: "done", t: t, o: o, want: want}
}

func (s step) String() string {
	switch {
	case s.refused:
		return s.op + " (refused)"
	}
	switch s.op {
	case "call":
		return fmt.Sprintf("call %d × %v/%d (%v)", s.n, s.o.Class, s.o.Status, s.o.Duration)
	case "done":
		return fmt.Sprintf("done ticket #%d %v/%d", s.t, s.o.Class, s.o.Status)
	case "sleep":
		return fmt.Sprintf("sleep %v", s.d)
	}
	return s.op
}

// runSteps runs steps on a new breaker with settings s, inside a synctest
// bubble, so that sleeps advance a fake clock at once.
func runSteps(t *testing.T, s breaker.Settings, steps []step) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		t.Helper()
		b := breaker.New(s)
		var tickets []uint64
		for i, st := range steps {
			switch st.op {
			case "call", "allow":
				n := max(st.n, 1)
				for j := range n {
					ticket, err := b.Allow()
					if (err != nil) != st.refused {
						t.Fatalf("step %d (%v), call %d: Allow() = %d, %v; want refused %v", i, st, j, ticket, err, st.refused)
					}
					if err != nil {
						if !errors.Is(err, gateway.ErrCircuitOpen) {
							t.Fatalf("step %d (%v): Allow() error %v does not wrap gateway.ErrCircuitOpen", i, st, err)
						}
						continue
					}
					if st.op == "allow" {
						tickets = append(tickets, ticket)
					} else {
						b.Done(ticket, st.o)
					}
				}
			case "done":
				b.Done(tickets[st.t], st.o)
			case "sleep":
				time.Sleep(st.d)
			}
			if got := b.State(); got != st.want {
				t.Fatalf("step %d (%v): State() = %v; want %v", i, st, got, st.want)
			}
		}
	})
}

const (
	closed   = breaker.Closed
	open     = breaker.Open
	halfOpen = breaker.HalfOpen
)

// rateOnly turns the consecutive-failures rule off, to test the rates alone.
var rateOnly = breaker.Settings{ConsecutiveFailures: breaker.Never}

func TestTransitions(t *testing.T) {
	tests := []struct {
		name  string
		s     breaker.Settings
		steps []step
	}{
		{"zero settings: 10 failures in a row trip", breaker.Settings{}, []step{
			call(9, fail, closed),
			call(1, timeout, open),
			refusedCall(open),
		}},
		{"timeouts and connection errors are failures", breaker.Settings{ConsecutiveFailures: 2}, []step{
			call(1, timeout, closed),
			call(1, dialErr, open),
		}},
		{"a success ends the run of failures", breaker.Settings{}, []step{
			call(9, fail, closed),
			call(1, ok, closed),
			call(9, fail, closed),
			call(1, fail, open),
		}},
		{"4xx is a success", breaker.Settings{ConsecutiveFailures: 3}, []step{
			call(2, fail, closed),
			call(1, notFound, closed),
			call(2, fail, closed),
			call(50, notFound, closed),
		}},
		{"canceled and refused do not break a run", breaker.Settings{ConsecutiveFailures: 3}, []step{
			call(2, fail, closed),
			call(5, canceled, closed),
			call(5, refused, closed),
			call(1, fail, open),
		}},
		{"failure rate trips once MinCalls is reached", rateOnly, []step{
			call(19, fail, closed), // 19 < MinCalls 20
			call(1, fail, open),
		}},
		{"failure rate at the threshold trips", rateOnly, []step{
			call(10, ok, closed),
			call(9, fail, closed), // 9 of 19: below MinCalls
			call(1, fail, open),   // 10 of 20: 50%
		}},
		{"failure rate below the threshold does not trip", rateOnly, []step{
			call(11, ok, closed),
			call(9, fail, closed), // 9 of 20
			call(2, ok, closed),
			call(1, fail, closed), // 10 of 23
		}},
		{"canceled and refused calls are not counted towards MinCalls", rateOnly, []step{
			call(19, fail, closed),
			call(30, canceled, closed), // counted as successes, they would hold the rate at 40%
			call(30, refused, closed),
			call(1, fail, open),
		}},
		{"custom FailureRate", breaker.Settings{ConsecutiveFailures: breaker.Never, FailureRate: 0.2, MinCalls: 10}, []step{
			call(8, ok, closed),
			call(1, fail, closed),
			call(1, fail, open), // 2 of 10
		}},
		{"custom IsFailure: 429 fails, 503 does not", breaker.Settings{
			ConsecutiveFailures: 2,
			IsFailure:           func(o balancer.Outcome) bool { return o.Status == 429 },
		}, []step{
			call(5, fail, closed),
			call(2, balancer.Outcome{Status: 429}, open),
		}},
		{"open refuses until OpenTimeout, then a probe's success closes", breaker.Settings{ConsecutiveFailures: 1}, []step{
			call(1, fail, open),
			sleep(4999*time.Millisecond, open),
			refusedCall(open),
			sleep(time.Millisecond, open), // the state changes at the next Allow
			allow(halfOpen),
			refusedAllow(halfOpen), // the one probe is out
			done(0, ok, closed),
			call(1, ok, closed),
		}},
		{"a probe's failure opens again", breaker.Settings{ConsecutiveFailures: 1}, []step{
			call(1, fail, open),
			sleep(5*time.Second, open),
			allow(halfOpen),
			done(0, fail, open),
			refusedCall(open),
		}},
		{"a slow probe opens again", breaker.Settings{ConsecutiveFailures: 1, SlowCall: time.Second}, []step{
			call(1, fail, open),
			sleep(5*time.Second, open),
			allow(halfOpen),
			done(0, slowOK, open),
		}},
		{"a canceled probe gives its place", breaker.Settings{ConsecutiveFailures: 1}, []step{
			call(1, fail, open),
			sleep(5*time.Second, open),
			allow(halfOpen),
			refusedAllow(halfOpen),
			done(0, canceled, halfOpen),
			allow(halfOpen),
			refusedAllow(halfOpen),
			done(1, refused, halfOpen),
			allow(halfOpen),
			done(2, ok, closed),
		}},
		{"three probes: close when their failure rate is below the threshold", breaker.Settings{ConsecutiveFailures: 1, HalfOpenProbes: 3}, []step{
			call(1, fail, open),
			sleep(5*time.Second, open),
			allow(halfOpen), allow(halfOpen), allow(halfOpen),
			refusedAllow(halfOpen),
			done(0, ok, halfOpen),
			done(1, fail, halfOpen), // 1 of 3 can still close
			refusedAllow(halfOpen),  // probes that answered keep their place
			done(2, ok, closed),
		}},
		{"three probes: open again as soon as the rate is certain", breaker.Settings{ConsecutiveFailures: 1, HalfOpenProbes: 3}, []step{
			call(1, fail, open),
			sleep(5*time.Second, open),
			allow(halfOpen), allow(halfOpen), allow(halfOpen),
			done(0, fail, halfOpen),
			done(1, fail, open), // 2 of 3 whatever the third says
			done(2, ok, open),   // from the earlier generation: ignored
		}},
		{"the open time doubles on each trip and is capped", breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second, MaxOpenTimeout: 3 * time.Second}, []step{
			call(1, fail, open),
			sleep(time.Second, open),
			call(1, fail, open), // the probe fails: 2 s
			sleep(1999*time.Millisecond, open),
			refusedCall(open),
			sleep(time.Millisecond, open),
			call(1, fail, open), // 4 s, capped at 3 s
			sleep(2999*time.Millisecond, open),
			refusedCall(open),
			sleep(time.Millisecond, open),
			call(1, fail, open), // 3 s again
			sleep(2999*time.Millisecond, open),
			refusedCall(open),
			sleep(time.Millisecond, open),
			call(1, ok, closed),
			// Closing resets the open time.
			call(1, fail, open),
			sleep(time.Second, open),
			call(1, ok, closed),
		}},
		{"a late Done from before the trip does not decide the probe", breaker.Settings{ConsecutiveFailures: 1}, []step{
			allow(closed), // ticket 0, admitted while closed
			call(1, fail, open),
			sleep(5*time.Second, open),
			allow(halfOpen),         // ticket 1, the probe
			done(0, ok, halfOpen),   // late: ignored
			done(0, fail, halfOpen), // late: ignored
			done(1, ok, closed),     // the probe closes
			done(1, fail, closed),   // the probe's ticket, used again: ignored
		}},
		{"late failures from before the trip do not count after the circuit closes", breaker.Settings{ConsecutiveFailures: 3}, []step{
			allow(closed), allow(closed), allow(closed), // tickets 0-2
			call(3, fail, open),
			sleep(5*time.Second, open),
			call(1, ok, closed),
			done(0, fail, closed), done(1, fail, closed), done(2, fail, closed), // counted, they would trip
			call(2, fail, closed),
			call(1, fail, open),
		}},
		{"slow calls trip at SlowCallRate", breaker.Settings{ConsecutiveFailures: breaker.Never, SlowCall: 2 * time.Second}, []step{
			call(10, ok, closed),
			call(9, slowOK, closed), // 19 calls: below MinCalls
			call(1, slowOK, open),   // 10 of 20 slow
		}},
		{"a call of exactly SlowCall is not slow", breaker.Settings{ConsecutiveFailures: breaker.Never, SlowCall: 10 * time.Millisecond}, []step{
			call(30, ok, closed), // ok takes 10ms
		}},
		{"slow calls below SlowCallRate do not trip", breaker.Settings{ConsecutiveFailures: breaker.Never, SlowCall: 2 * time.Second, SlowCallRate: 0.8}, []step{
			call(5, ok, closed),
			call(15, slowOK, closed), // 75%
			call(1, slowOK, closed),  // 16 of 21: 76%
			call(4, slowOK, open),    // 20 of 25: 80%
		}},
		{"slow calls do not count without SlowCall", rateOnly, []step{
			call(100, slowOK, closed),
		}},
		{"time window: calls older than Window drop out", rateOnly, []step{
			call(19, fail, closed),
			sleep(10*time.Second, closed),
			call(1, fail, closed), // 1 of 1: below MinCalls
		}},
		{"time window: calls within Window count", rateOnly, []step{
			call(19, fail, closed),
			sleep(9999*time.Millisecond, closed),
			call(1, fail, open),
		}},
		{"time window: buckets drop out one by one", breaker.Settings{ConsecutiveFailures: breaker.Never, Window: 4 * time.Second, Buckets: 4, MinCalls: 10, FailureRate: 0.6}, []step{
			call(10, ok, closed),         // bucket 0
			sleep(time.Second, closed),   //
			call(4, fail, closed),        // bucket 1: 4 of 14
			sleep(3*time.Second, closed), // bucket 0 drops out
			call(5, fail, closed),        // bucket 4: 9 of 9, below MinCalls
			call(1, fail, open),          // 10 of 10; with bucket 0, 10 of 20 would be below 60%
		}},
		{"count window: the oldest bucket drops out", breaker.Settings{ConsecutiveFailures: breaker.Never, WindowCalls: 20, Buckets: 2, MinCalls: 10}, []step{
			call(10, ok, closed),  // bucket 0
			call(9, fail, closed), // bucket 1: 9 of 19
			call(1, ok, closed),   // 9 of 20
			call(1, fail, open),   // bucket 2: bucket 0 is out: 10 of 11
		}},
		{"count window: a full window holds WindowCalls calls", breaker.Settings{ConsecutiveFailures: breaker.Never, WindowCalls: 10, Buckets: 2, MinCalls: 10}, []step{
			call(5, ok, closed),
			call(4, fail, closed),
			call(1, fail, open), // 5 of 10
		}},
		{"count window does not age", breaker.Settings{ConsecutiveFailures: breaker.Never, WindowCalls: 100}, []step{
			call(19, fail, closed),
			sleep(time.Hour, closed),
			call(1, fail, open),
		}},
		{"the window starts empty after the circuit closes", breaker.Settings{ConsecutiveFailures: breaker.Never, MinCalls: 4, FailureRate: 0.75}, []step{
			call(4, fail, open),
			sleep(5*time.Second, open),
			call(1, ok, closed),   // the probe's success closes; probes do not count in the window
			call(3, fail, closed), // 3 of 3, below MinCalls: the 4 failures before are gone
			call(1, ok, closed),
			call(1, fail, open), // 4 of 5
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, tt.s, tt.steps)
		})
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[breaker.State]string{
		breaker.Closed:   "closed",
		breaker.HalfOpen: "half-open",
		breaker.Open:     "open",
		breaker.State(9): "unknown",
	} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q; want %q", s, got, want)
		}
	}
}

func TestOpenError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Settings{Name: "users", ConsecutiveFailures: 1, OpenTimeout: 3 * time.Second})
		ticket, err := b.Allow()
		if err != nil {
			t.Fatalf("Allow() = %v; want nil", err)
		}
		b.Done(ticket, fail)
		time.Sleep(500 * time.Millisecond)
		_, err = b.Allow()
		if !errors.Is(err, gateway.ErrCircuitOpen) {
			t.Fatalf("Allow() = %v; want an error that wraps gateway.ErrCircuitOpen", err)
		}
		if got, want := err.Error(), "gateway: circuit open (users)"; got != want {
			t.Errorf("Error() = %q; want %q", got, want)
		}
		var oe *breaker.OpenError
		if !errors.As(err, &oe) {
			t.Fatalf("Allow() = %T; want *breaker.OpenError", err)
		}
		if oe.Breaker() != b {
			t.Errorf("OpenError.Breaker() is not the breaker that refused")
		}
		if got, want := oe.RetryAfter(), 2500*time.Millisecond; got != want {
			t.Errorf("OpenError.RetryAfter() = %v; want %v", got, want)
		}
		if got, want := b.RetryAfter(), 2500*time.Millisecond; got != want {
			t.Errorf("RetryAfter() = %v; want %v", got, want)
		}
		// The error the gateway's Proxy wraps it in maps to 503 with a
		// Retry-After.
		ge := &gateway.Error{Op: "breaker", Err: err}
		if got := gateway.StatusOf(nil, ge); got != 503 {
			t.Errorf("StatusOf(%v) = %d; want 503", ge, got)
		}
		time.Sleep(3 * time.Second)
		if got := b.RetryAfter(); got != 0 {
			t.Errorf("RetryAfter() after the open time = %v; want 0", got)
		}
		if got, want := breaker.New(breaker.Settings{}).Name(), ""; got != want {
			t.Errorf("Name() = %q; want %q", got, want)
		}
	})
}

func TestOpenErrorUnnamed(t *testing.T) {
	b := breaker.New(breaker.Settings{ConsecutiveFailures: 1})
	ticket, _ := b.Allow()
	b.Done(ticket, fail)
	_, err := b.Allow()
	if got, want := fmt.Sprint(err), "gateway: circuit open"; got != want {
		t.Errorf("Allow() = %q; want %q", got, want)
	}
}

// TestDoneAt shows that DoneAt places a call in the time-based window by
// the time it is given, not by the clock.
func TestDoneAt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Minute)
		b := breaker.New(rateOnly)
		time.Sleep(time.Minute)
		for range 19 {
			ticket, _ := b.Allow()
			b.DoneAt(ticket, fail, time.Now().Add(-11*time.Second)) // ended before the window
		}
		for range 5 {
			ticket, _ := b.Allow()
			b.DoneAt(ticket, fail, time.Now().Add(-2*time.Hour)) // before the breaker was made
		}
		callOnce(b, fail)
		if got := b.State(); got != breaker.Closed {
			t.Fatalf("State() = %v; want closed: the calls given times out of the window must not count", got)
		}
		for range 18 {
			ticket, _ := b.Allow()
			b.DoneAt(ticket, fail, time.Now().Add(-9*time.Second))
		}
		if got := b.State(); got != breaker.Closed {
			t.Fatalf("State() = %v; want closed: 19 calls are below MinCalls", got)
		}
		ticket, _ := b.Allow()
		b.DoneAt(ticket, fail, time.Now())
		if got := b.State(); got != breaker.Open {
			t.Fatalf("State() = %v; want open: 20 failures within the window", got)
		}
	})
}

// TestLateDoneInIsFailure shows that a Done admitted before a trip is not
// counted after the circuit closes again, even when it is held up in
// IsFailure (user code) across the trip, the probe and the close.
func TestLateDoneInIsFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		held := balancer.Outcome{Status: 599, Class: balancer.ServerError}
		release := make(chan struct{})
		b := breaker.New(breaker.Settings{
			ConsecutiveFailures: 3,
			OpenTimeout:         time.Second,
			IsFailure: func(o balancer.Outcome) bool {
				if o.Status == held.Status {
					<-release
				}
				return o.Failed()
			},
		})
		late, err := b.Allow()
		if err != nil {
			t.Fatalf("Allow() = %v; want admitted", err)
		}
		done := make(chan struct{})
		go func() {
			b.Done(late, held)
			close(done)
		}()
		synctest.Wait() // the late Done is blocked in IsFailure
		for range 3 {
			callOnce(b, fail)
		}
		time.Sleep(time.Second)
		callOnce(b, ok) // the probe closes the circuit
		callOnce(b, fail)
		close(release)
		<-done
		callOnce(b, fail)
		if got := b.State(); got != breaker.Closed {
			t.Errorf("State() after 2 failures since the close and a late Done from before the trip = %v; want closed", got)
		}
	})
}

// TestSlowCallTTFB shows that a call is judged slow on its time to first
// byte when it has one, so that a long stream that started at once is not
// slow, and on its whole duration when it has none.
func TestSlowCallTTFB(t *testing.T) {
	stream := balancer.Outcome{Status: 200, Class: balancer.OK, TTFB: 50 * time.Millisecond, Duration: 2 * time.Minute}
	slowHead := balancer.Outcome{Status: 200, Class: balancer.OK, TTFB: 2 * time.Second, Duration: 2100 * time.Millisecond}
	s := breaker.Settings{SlowCall: time.Second, MinCalls: 4, ConsecutiveFailures: breaker.Never}
	for _, tt := range []struct {
		name string
		o    balancer.Outcome
		want breaker.State
	}{
		{"long stream, fast head", stream, breaker.Closed},
		{"slow head", slowHead, breaker.Open},
		{"no TTFB, long duration", slowOK, breaker.Open},
		{"no TTFB, short duration", ok, breaker.Closed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := breaker.New(s)
				for range 4 {
					callOnce(b, tt.o)
				}
				if got := b.State(); got != tt.want {
					t.Errorf("State() after 4 calls of %+v = %v; want %v", tt.o, got, tt.want)
				}
			})
		})
	}
}
