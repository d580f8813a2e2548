package breaker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/breaker"
)

// benchCase is a breaker set up in one state, with the outcome each call
// reports; fails, when not zero, makes every fails-th call a failure.
type benchCase struct {
	name  string
	s     breaker.Settings
	trip  bool // open the circuit first
	fails int
}

// benchCases are the states and windows measured. "open" refuses every
// call; the closed cases admit and record every call.
var benchCases = []benchCase{
	{name: "closed/time-window", s: breaker.Settings{}},
	{name: "closed/count-window", s: breaker.Settings{WindowCalls: 100}},
	{name: "closed/time-window/10%-failures", s: breaker.Settings{}, fails: 10},
	{name: "closed/count-window/10%-failures", s: breaker.Settings{WindowCalls: 100}, fails: 10},
	{name: "open", s: breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour}, trip: true},
}

func (c benchCase) breaker() *breaker.Breaker {
	b := breaker.New(c.s)
	if c.trip {
		ticket, _ := b.Allow()
		b.Done(ticket, fail)
	}
	return b
}

// BenchmarkAllowDone measures one Allow and, when the call is admitted,
// its Done: what a breaker adds to each call. The parallel variants call
// one breaker from every CPU, the case of a busy upstream.
func BenchmarkAllowDone(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			br := c.breaker()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				ticket, err := br.Allow()
				if err == nil {
					o := ok
					if c.fails > 0 && i%c.fails == 0 {
						o = fail
					}
					br.Done(ticket, o)
				}
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			br := c.breaker()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					ticket, err := br.Allow()
					if err == nil {
						o := ok
						if c.fails > 0 && i%c.fails == 0 {
							o = fail
						}
						br.Done(ticket, o)
					}
				}
			})
		})
	}
}

// BenchmarkDoneAt measures Allow and DoneAt with a time the caller read
// anyway (as a proxy does for its other counters): the time-based window
// without a clock read of its own.
func BenchmarkDoneAt(b *testing.B) {
	br := breaker.New(breaker.Settings{})
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		ticket, err := br.Allow()
		if err == nil {
			br.DoneAt(ticket, ok, now)
		}
	}
}

// BenchmarkGobreaker measures github.com/sony/gobreaker/v2 in the same
// states, for comparison: its TwoStepCircuitBreaker, whose Allow and done
// are the nearest to Allow and Done, and its CircuitBreaker.Execute with
// a function that does nothing. Its rolling window is time-based
// (BucketPeriod); "count-window" is its fixed window that is never
// cleared (Interval 0), the nearest it has. ReadyToTrip is set to the
// same rule as the zero breaker.Settings.
func BenchmarkGobreaker(b *testing.B) {
	errFail := errors.New("fail")
	readyToTrip := func(c gobreaker.Counts) bool {
		return c.ConsecutiveFailures >= 10 || c.Requests >= 20 && c.TotalFailures*2 >= c.Requests
	}
	settings := map[string]gobreaker.Settings{
		"time-window":  {Interval: 10 * time.Second, BucketPeriod: time.Second, Timeout: 5 * time.Second, ReadyToTrip: readyToTrip},
		"count-window": {Timeout: 5 * time.Second, ReadyToTrip: readyToTrip},
		"open":         {Timeout: time.Hour, ReadyToTrip: func(gobreaker.Counts) bool { return true }},
	}
	cases := []struct {
		name, settings string
		fails          int
	}{
		{"closed/time-window", "time-window", 0},
		{"closed/count-window", "count-window", 0},
		{"closed/time-window/10%-failures", "time-window", 10},
		{"closed/count-window/10%-failures", "count-window", 10},
		{"open", "open", 0},
	}
	for _, c := range cases {
		st := settings[c.settings]
		twoStep := func() *gobreaker.TwoStepCircuitBreaker[struct{}] {
			cb := gobreaker.NewTwoStepCircuitBreaker[struct{}](st)
			if c.name == "open" {
				done, _ := cb.Allow()
				done(errFail)
			}
			return cb
		}
		call := func(cb *gobreaker.TwoStepCircuitBreaker[struct{}], i int) {
			done, err := cb.Allow()
			if err == nil {
				if c.fails > 0 && i%c.fails == 0 {
					done(errFail)
				} else {
					done(nil)
				}
			}
		}
		b.Run("TwoStep/"+c.name, func(b *testing.B) {
			cb := twoStep()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				call(cb, i)
			}
		})
		b.Run("TwoStep/"+c.name+"/parallel", func(b *testing.B) {
			cb := twoStep()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					call(cb, i)
				}
			})
		})
		b.Run("Execute/"+c.name, func(b *testing.B) {
			cb := gobreaker.NewCircuitBreaker[struct{}](st)
			if c.name == "open" {
				cb.Execute(func() (struct{}, error) { return struct{}{}, errFail })
			}
			ok := func() (struct{}, error) { return struct{}{}, nil }
			bad := func() (struct{}, error) { return struct{}{}, errFail }
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if c.fails > 0 && i%c.fails == 0 {
					cb.Execute(bad)
				} else {
					cb.Execute(ok)
				}
			}
		})
	}
}

// BenchmarkPerUpstream measures Allow and Done through a PerUpstream with
// ten upstreams, each call to the next: the lookup of the upstream's
// breaker added to BenchmarkAllowDone/closed.
func BenchmarkPerUpstream(b *testing.B) {
	p := breaker.NewPerUpstream(breaker.Settings{})
	ups := make([]*balancer.Upstream, 10)
	for i := range ups {
		ups[i] = mustUpstream(b, i)
		p.For(ups[i])
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			u := ups[i%len(ups)]
			i++
			if ticket, err := p.Allow(u); err == nil {
				p.Done(u, ticket, ok)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				u := ups[i%len(ups)]
				i++
				if ticket, err := p.Allow(u); err == nil {
					p.Done(u, ticket, ok)
				}
			}
		})
	})
}

// TestAllowDoneAllocs holds the claim that Allow and Done allocate
// nothing, in every state and window, refusals included.
func TestAllowDoneAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, c := range benchCases {
		br := c.breaker()
		i := 0
		got := testing.AllocsPerRun(1000, func() {
			i++
			ticket, err := br.Allow()
			if err == nil {
				o := ok
				if c.fails > 0 && i%c.fails == 0 {
					o = fail
				}
				br.Done(ticket, o)
			}
			_ = br.State()
			_ = br.RetryAfter()
			if ticket, err := br.Allow(); err == nil {
				br.DoneAt(ticket, ok, time.Now())
			}
		})
		if got != 0 {
			t.Errorf("%s: Allow and Done allocate %v times; want 0", c.name, got)
		}
	}
}

// TestHalfOpenAllocs holds the claim for the half-open state: admitting
// probes, refusing the others, and giving back a canceled probe's place.
func TestHalfOpenAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	b := breaker.New(breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Nanosecond, MaxOpenTimeout: time.Nanosecond, HalfOpenProbes: 2})
	callOnce(b, fail)
	time.Sleep(time.Microsecond)
	got := testing.AllocsPerRun(1000, func() {
		t1, err1 := b.Allow()
		t2, err2 := b.Allow()
		_, err3 := b.Allow()
		if err1 != nil || err2 != nil || err3 == nil {
			t.Fatalf("Allow() ×3 in half-open = %v, %v, %v; want two probes and a refusal", err1, err2, err3)
		}
		b.Done(t1, canceled)
		b.Done(t2, refused)
	})
	if got != 0 {
		t.Errorf("half-open Allow and Done allocate %v times; want 0", got)
	}
}
