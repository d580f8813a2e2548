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
