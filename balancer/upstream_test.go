package balancer_test

import (
	"errors"
	"testing"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

func TestNewUpstream(t *testing.T) {
	tests := []struct {
		raw     string
		want    string // the upstream's URL; "" when an error is wanted
		wantErr bool
	}{
		{raw: "http://10.0.0.1:8080", want: "http://10.0.0.1:8080"},
		{raw: "https://api.example.com", want: "https://api.example.com"},
		{raw: "h2c://127.0.0.1:50051", want: "h2c://127.0.0.1:50051"},
		{raw: "HTTP://10.0.0.1", want: "http://10.0.0.1"},
		{raw: "http://10.0.0.1/base?tenant=a", want: "http://10.0.0.1/base?tenant=a"},
		{raw: "http://[::1]:8080", want: "http://[::1]:8080"},
		{raw: "ftp://10.0.0.1", wantErr: true},
		{raw: "ws://10.0.0.1", wantErr: true},
		{raw: "10.0.0.1:8080", wantErr: true},
		{raw: "http://", wantErr: true},
		{raw: "http:///path", wantErr: true},
		{raw: "http://user:pass@10.0.0.1", wantErr: true},
		{raw: "http://10.0.0.1/#top", wantErr: true},
		{raw: "http://10.0.0.1:port", wantErr: true},
		{raw: "http://bad host", wantErr: true},
		{raw: "", wantErr: true},
	}
	for _, tt := range tests {
		u, err := balancer.NewUpstream(tt.raw)
		switch {
		case tt.wantErr && err == nil:
			t.Errorf("NewUpstream(%q) = %v, nil; want an error", tt.raw, u)
		case tt.wantErr && !errors.Is(err, balancer.ErrBadUpstream):
			t.Errorf("NewUpstream(%q) error = %v; want it to wrap ErrBadUpstream", tt.raw, err)
		case !tt.wantErr && err != nil:
			t.Errorf("NewUpstream(%q) error = %v; want none", tt.raw, err)
		case !tt.wantErr && u.String() != tt.want:
			t.Errorf("NewUpstream(%q) = %s; want %s", tt.raw, u, tt.want)
		}
	}
}

// TestUpstreamDone shows how an attempt's Outcome moves the counters.
func TestUpstreamDone(t *testing.T) {
	u, err := balancer.NewUpstream("http://10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		outcome      balancer.Outcome
		wantFailures uint64
	}{
		{balancer.Outcome{Status: 200, Class: balancer.OK}, 0},
		{balancer.Outcome{Status: 503, Class: balancer.ServerError}, 1},
		{balancer.Outcome{Class: balancer.Timeout}, 2},
		{balancer.Outcome{Class: balancer.ConnectionError}, 3},
		{balancer.Outcome{Class: balancer.Canceled}, 3},
		{balancer.Outcome{Class: balancer.Refused}, 3},
	}
	for i, step := range steps {
		u.Begin()
		if got := u.Inflight(); got != 1 {
			t.Errorf("step %d: Inflight() after Begin = %d; want 1", i, got)
		}
		step.outcome.Duration = time.Duration(i+1) * time.Millisecond
		u.Done(step.outcome)
		if got := u.LastLatency(); got != step.outcome.Duration {
			t.Errorf("step %d: LastLatency() = %v; want %v", i, got, step.outcome.Duration)
		}
		if got := u.Inflight(); got != 0 {
			t.Errorf("step %d: Inflight() after Done = %d; want 0", i, got)
		}
		if got := u.Requests(); got != uint64(i+1) {
			t.Errorf("step %d: Requests() = %d; want %d", i, got, i+1)
		}
		if got := u.Failures(); got != step.wantFailures {
			t.Errorf("step %d: Failures() after %v = %d; want %d", i, step.outcome.Class, got, step.wantFailures)
		}
	}
}

func TestClassString(t *testing.T) {
	tests := []struct {
		c    balancer.Class
		want string
	}{
		{balancer.OK, "ok"},
		{balancer.ServerError, "server_error"},
		{balancer.Timeout, "timeout"},
		{balancer.ConnectionError, "connection_error"},
		{balancer.Canceled, "canceled"},
		{balancer.Refused, "refused"},
		{balancer.Class(200), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Class(%d).String() = %q; want %q", tt.c, got, tt.want)
		}
	}
}

func TestUpstreamWeighted(t *testing.T) {
	tests := []struct{ weight, want int }{{0, 1}, {-3, 1}, {1, 1}, {5, 5}}
	for _, tt := range tests {
		u := &balancer.Upstream{Weight: tt.weight}
		if got := u.Weighted(); got != tt.want {
			t.Errorf("Upstream{Weight: %d}.Weighted() = %d; want %d", tt.weight, got, tt.want)
		}
	}
}

// TestUpstreamLatency steps the peak EWMA through slow and fast samples at
// known times.
func TestUpstreamLatency(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	u := &balancer.Upstream{LatencyDecay: time.Second}
	if got := u.Latency(t0); got != 0 {
		t.Fatalf("Latency before any sample = %v; want 0", got)
	}
	steps := []struct {
		at     time.Duration // after t0
		sample time.Duration
		class  balancer.Class
		want   time.Duration // Latency(at) after the sample
		slack  time.Duration
	}{
		{0, 10 * time.Millisecond, balancer.OK, 10 * time.Millisecond, 0},
		{0, 100 * time.Millisecond, balancer.ServerError, 100 * time.Millisecond, 0}, // a peak counts at once
		// One time constant later the old value weighs 1/e: 100/e + 10(1-1/e).
		{time.Second, 10 * time.Millisecond, balancer.OK, 43109 * time.Microsecond, 10 * time.Microsecond},
		{time.Second, time.Hour, balancer.Canceled, 43109 * time.Microsecond, 10 * time.Microsecond}, // not a measurement
	}
	for i, step := range steps {
		u.Begin()
		u.DoneAt(balancer.Outcome{Class: step.class, Duration: step.sample}, t0.Add(step.at))
		got := u.Latency(t0.Add(step.at))
		if d := got - step.want; d > step.slack || d < -step.slack {
			t.Errorf("step %d: Latency after a %v sample = %v; want %v", i, step.sample, got, step.want)
		}
	}
	// With no sample the average decays toward zero: e^-3 of it after 3s.
	if got, want := u.Latency(t0.Add(4*time.Second)), 2146*time.Microsecond; got < want-10*time.Microsecond || got > want+10*time.Microsecond {
		t.Errorf("Latency 3s after the last sample = %v; want about %v", got, want)
	}
}

func TestUpstreamConsecutiveFailures(t *testing.T) {
	u := &balancer.Upstream{}
	steps := []struct {
		class balancer.Class
		want  int64
	}{
		{balancer.ServerError, 1},
		{balancer.Timeout, 2},
		{balancer.Canceled, 2}, // the client's doing: no change
		{balancer.Refused, 2},
		{balancer.ConnectionError, 3},
		{balancer.OK, 0},
		{balancer.ServerError, 1},
	}
	for i, step := range steps {
		u.Begin()
		u.Done(balancer.Outcome{Class: step.class})
		if got := u.ConsecutiveFailures(); got != step.want {
			t.Errorf("step %d: ConsecutiveFailures after %v = %d; want %d", i, step.class, got, step.want)
		}
	}
}

func TestUpstreamDoneAllocs(t *testing.T) {
	u := &balancer.Upstream{}
	now := time.Now()
	o := balancer.Outcome{Class: balancer.OK, Duration: time.Millisecond}
	if n := testing.AllocsPerRun(100, func() { u.Begin(); u.DoneAt(o, now) }); n != 0 {
		t.Errorf("Begin and DoneAt allocate %v times; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { u.Begin(); u.Done(o) }); n != 0 {
		t.Errorf("Begin and Done allocate %v times; want 0", n)
	}
}
