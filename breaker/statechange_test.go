package breaker_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
)

// changeLog records the calls of OnStateChange.
type changeLog struct {
	mu      sync.Mutex
	changes []string
}

func (l *changeLog) add(name string, from, to breaker.State) {
	l.mu.Lock()
	l.changes = append(l.changes, fmt.Sprintf("%s: %v→%v", name, from, to))
	l.mu.Unlock()
}

func (l *changeLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.changes)
}

func TestOnStateChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log changeLog
		b := breaker.New(breaker.Settings{Name: "users", ConsecutiveFailures: 1, OnStateChange: log.add})
		callOnce(b, fail)
		time.Sleep(5 * time.Second)
		callOnce(b, fail) // probe fails
		time.Sleep(10 * time.Second)
		callOnce(b, ok) // probe succeeds
		want := []string{
			"users: closed→open",
			"users: open→half-open",
			"users: half-open→open",
			"users: open→half-open",
			"users: half-open→closed",
		}
		if got := log.get(); !slices.Equal(got, want) {
			t.Errorf("OnStateChange calls = %q; want %q", got, want)
		}
	})
}

// callOnce makes one call through b with outcome o, if b admits it.
func callOnce(b *breaker.Breaker, o balancer.Outcome) bool {
	ticket, err := b.Allow()
	if err != nil {
		return false
	}
	b.Done(ticket, o)
	return true
}

// TestOnStateChangeCallsBack shows that OnStateChange runs with no lock
// held: it calls the breaker, and even changes its state, without a
// deadlock; and that a change made from inside the callback is delivered
// after the callback returns, not inside it. (The callback for the change
// to half-open then comes when the circuit is closed already: a callback
// reports a change, not the state at the time it runs.)
func TestOnStateChangeCallsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			b      *breaker.Breaker
			log    changeLog
			depth  int
			nested bool
		)
		b = breaker.New(breaker.Settings{
			ConsecutiveFailures: 1,
			OpenTimeout:         time.Second,
			OnStateChange: func(name string, from, to breaker.State) {
				depth++
				if depth > 1 {
					nested = true
				}
				log.add("b", from, to)
				_ = b.State()
				_ = b.RetryAfter()
				if ticket, err := b.Allow(); err == nil {
					b.Done(ticket, canceled)
				}
				if to == breaker.Open && from == breaker.Closed {
					// Wait out the open time and probe, from inside the
					// callback: two more changes, made under the lock
					// the callback must not hold.
					time.Sleep(time.Second)
					callOnce(b, ok)
				}
				depth--
			},
		})
		callOnce(b, fail)
		want := []string{"b: closed→open", "b: open→half-open", "b: half-open→closed"}
		if got := log.get(); !slices.Equal(got, want) {
			t.Errorf("OnStateChange calls = %q; want %q", got, want)
		}
		if nested {
			t.Errorf("OnStateChange was called from inside itself; want the changes queued")
		}
		if got := b.State(); got != breaker.Closed {
			t.Errorf("State() = %v; want closed", got)
		}
	})
}

// TestOnStateChangePanics shows that a callback that panics on every
// change does not stop the breaker, nor the callbacks of later changes:
// in particular, the panic of the change to half-open, which comes out of
// the Allow that would have been the probe, gives the probe's place back.
func TestOnStateChangePanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log changeLog
		b := breaker.New(breaker.Settings{
			ConsecutiveFailures: 1,
			OnStateChange: func(name string, from, to breaker.State) {
				log.add("b", from, to)
				panic("callback failed")
			},
		})
		// mustPanic runs f, which must panic with the callback's panic.
		mustPanic := func(what string, f func()) {
			t.Helper()
			defer func() {
				if p := recover(); p != "callback failed" {
					t.Errorf("%s: recover() = %v; want the callback's panic", what, p)
				}
			}()
			f()
		}
		mustPanic("the trip", func() { callOnce(b, fail) })
		time.Sleep(5 * time.Second)
		mustPanic("the change to half-open", func() { b.Allow() })
		if got := b.State(); got != breaker.HalfOpen {
			t.Fatalf("State() after the panic of the change to half-open = %v; want half-open", got)
		}
		ticket, err := b.Allow()
		if err != nil {
			t.Fatalf("Allow() after the panic of the change to half-open = %v; want the probe's place given back", err)
		}
		mustPanic("the close", func() { b.Done(ticket, ok) })
		if got := b.State(); got != breaker.Closed {
			t.Errorf("State() after the probe succeeded = %v; want closed", got)
		}
		want := []string{"b: closed→open", "b: open→half-open", "b: half-open→closed"}
		if got := log.get(); !slices.Equal(got, want) {
			t.Errorf("OnStateChange calls = %q; want %q", got, want)
		}
	})
}

// TestConcurrentCalls has many goroutines call one breaker with a mix of
// outcomes while its circuit trips, probes and closes again and again. It
// checks what holds whatever the interleaving: the callbacks come one at
// a time and form a chain (each from is the to before it), and the last
// one leaves the state the breaker reports. Run it with -race.
func TestConcurrentCalls(t *testing.T) {
	for _, s := range []breaker.Settings{
		{ConsecutiveFailures: 5, OpenTimeout: time.Millisecond, MaxOpenTimeout: 4 * time.Millisecond, HalfOpenProbes: 3, MinCalls: 10, Window: 100 * time.Millisecond},
		{WindowCalls: 50, MinCalls: 10, SlowCall: 5 * time.Millisecond, OpenTimeout: time.Millisecond, HalfOpenProbes: 2},
	} {
		t.Run(fmt.Sprintf("window=%v/calls=%d", s.Window, s.WindowCalls), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var (
					mu      sync.Mutex
					last    = breaker.Closed
					broken  []string
					inside  atomic.Int32
					changes atomic.Int64
				)
				s.OnStateChange = func(name string, from, to breaker.State) {
					if inside.Add(1) > 1 {
						t.Error("OnStateChange called while another call is running")
					}
					mu.Lock()
					if from != last {
						broken = append(broken, fmt.Sprintf("%v→%v after →%v", from, to, last))
					}
					last = to
					mu.Unlock()
					// A callback that takes time, so that changes made
					// meanwhile on other goroutines wait for it.
					time.Sleep(50 * time.Microsecond)
					changes.Add(1)
					inside.Add(-1)
				}
				b := breaker.New(s)
				var wg sync.WaitGroup
				for g := range 16 {
					wg.Go(func() {
						r := rand.New(rand.NewPCG(uint64(g), 1))
						outcomes := []balancer.Outcome{ok, ok, ok, fail, timeout, canceled, notFound, slowOK}
						for range 2000 {
							ticket, err := b.Allow()
							if err != nil {
								time.Sleep(time.Duration(r.IntN(500)) * time.Microsecond)
								continue
							}
							o := outcomes[r.IntN(len(outcomes))]
							if r.IntN(4) == 0 {
								time.Sleep(time.Duration(r.IntN(200)) * time.Microsecond)
							}
							b.Done(ticket, o)
						}
					})
				}
				wg.Wait()
				if len(broken) > 0 {
					t.Errorf("OnStateChange calls out of order: %q", broken)
				}
				if changes.Load() < 10 {
					t.Errorf("%d changes of state; want the test to trip and close the circuit many times", changes.Load())
				}
				if last != b.State() {
					t.Errorf("last OnStateChange to %v; State() = %v", last, b.State())
				}
			})
		})
	}
}

// TestHalfOpenProbeLimit shows that however many goroutines call Allow at
// once in the half-open state, HalfOpenProbes of them are admitted.
func TestHalfOpenProbeLimit(t *testing.T) {
	for _, probes := range []int{1, 3, 10} {
		t.Run(fmt.Sprint("probes=", probes), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := breaker.New(breaker.Settings{ConsecutiveFailures: 1, HalfOpenProbes: probes})
				callOnce(b, fail)
				time.Sleep(5 * time.Second)
				var (
					admitted atomic.Int64
					tickets  = make(chan uint64, 100)
					start    = make(chan struct{})
					wg       sync.WaitGroup
				)
				for range 100 {
					wg.Go(func() {
						<-start
						if ticket, err := b.Allow(); err == nil {
							admitted.Add(1)
							tickets <- ticket
						}
					})
				}
				close(start)
				wg.Wait()
				if got := admitted.Load(); got != int64(probes) {
					t.Fatalf("100 concurrent Allow() in half-open admitted %d; want %d", got, probes)
				}
				close(tickets)
				for ticket := range tickets {
					b.Done(ticket, ok)
				}
				if got := b.State(); got != breaker.Closed {
					t.Errorf("State() after %d successful probes = %v; want closed", probes, got)
				}
			})
		})
	}
}
