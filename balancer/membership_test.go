package balancer_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

func mustUpstream(t testing.TB, raw string, priority int) *balancer.Upstream {
	t.Helper()
	u, err := balancer.NewUpstream(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Priority = priority
	return u
}

// TestPoolAddRemove changes the members step by step and checks the
// snapshots Healthy and All return, including that older ones stay as they
// were.
func TestPoolAddRemove(t *testing.T) {
	p := balancer.MustPool("http://a:1")
	a := p.All()[0]
	b := mustUpstream(t, "http://b:1", 0)
	c := mustUpstream(t, "http://c:1", 0)
	before := p.All()

	steps := []struct {
		name    string
		do      func() error
		wantErr error // nil: none
		want    []string
	}{
		{"add b", func() error { return p.Add(b) }, nil, []string{"http://a:1", "http://b:1"}},
		{"add c", func() error { return p.Add(c) }, nil, []string{"http://a:1", "http://b:1", "http://c:1"}},
		{"add b again", func() error { return p.Add(b) }, balancer.ErrBadUpstream, []string{"http://a:1", "http://b:1", "http://c:1"}},
		{"add b's URL in capitals", func() error { return p.Add(mustUpstream(t, "http://B:1", 0)) }, balancer.ErrBadUpstream, []string{"http://a:1", "http://b:1", "http://c:1"}},
		{"remove b", func() error { return p.Remove(b) }, nil, []string{"http://a:1", "http://c:1"}},
		{"remove b again", func() error { return p.Remove(b) }, balancer.ErrNotMember, []string{"http://a:1", "http://c:1"}},
		{"remove a", func() error { return p.Remove(a) }, nil, []string{"http://c:1"}},
		{"add b back", func() error { return p.Add(b) }, nil, []string{"http://c:1", "http://b:1"}},
	}
	for _, step := range steps {
		err := step.do()
		if !errors.Is(err, step.wantErr) || (step.wantErr == nil) != (err == nil) {
			t.Errorf("%s: error = %v; want %v", step.name, err, step.wantErr)
		}
		if got := urlsOf(p.Healthy()); !slices.Equal(got, step.want) {
			t.Errorf("%s: Healthy() = %q; want %q", step.name, got, step.want)
		}
		if got := urlsOf(p.All()); !slices.Equal(got, step.want) {
			t.Errorf("%s: All() = %q; want %q", step.name, got, step.want)
		}
	}
	if got := urlsOf(before); !slices.Equal(got, []string{"http://a:1"}) {
		t.Errorf("a slice All returned earlier changed to %q", got)
	}
	if err := p.Add(nil); err == nil {
		t.Error("Add(nil) = nil; want an error")
	}
}

// TestPoolPriority moves traffic between priority groups as members go
// down and come back.
func TestPoolPriority(t *testing.T) {
	a0 := mustUpstream(t, "http://a:1", 0)
	b0 := mustUpstream(t, "http://b:1", 0)
	c1 := mustUpstream(t, "http://c:1", 1)
	d2 := mustUpstream(t, "http://d:1", 2)
	p, err := balancer.PoolOf(c1, a0, d2, b0)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		u    *balancer.Upstream
		ok   bool
		want []string
	}{
		{nil, false, []string{"http://a:1", "http://b:1"}},
		{a0, false, []string{"http://b:1"}},
		{b0, false, []string{"http://c:1"}}, // group 0 all down: group 1
		{c1, false, []string{"http://d:1"}},
		{d2, false, nil},
		{d2, true, []string{"http://d:1"}},
		{b0, true, []string{"http://b:1"}}, // group 0 is back: it takes all
	}
	for i, step := range steps {
		if step.u != nil {
			p.SetHealthy(step.u, step.ok)
		}
		if got := urlsOf(p.Healthy()); !slices.Equal(got, step.want) {
			t.Errorf("step %d: Healthy() = %q; want %q", i, got, step.want)
		}
	}
	// A new member of a better group takes the traffic at once.
	if err := p.Add(mustUpstream(t, "http://e:1", -1)); err != nil {
		t.Fatal(err)
	}
	if got, want := urlsOf(p.Healthy()), []string{"http://e:1"}; !slices.Equal(got, want) {
		t.Errorf("after adding a member of group -1, Healthy() = %q; want %q", got, want)
	}
}

// TestPoolDrain waits for the attempts in flight to end before removing the
// upstream, and gives up with the context.
func TestPoolDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := balancer.MustPool("http://a:1", "http://b:1")
		a := p.All()[0]
		a.Begin()
		a.Begin()
		done := make(chan error, 1)
		go func() { done <- p.Drain(context.Background(), a) }()
		synctest.Wait()
		if got, want := urlsOf(p.Healthy()), []string{"http://b:1"}; !slices.Equal(got, want) {
			t.Errorf("while draining, Healthy() = %q; want %q", got, want)
		}
		if got := len(p.All()); got != 2 {
			t.Errorf("while draining, len(All()) = %d; want 2", got)
		}
		time.Sleep(time.Second)
		a.Done(balancer.Outcome{})
		time.Sleep(time.Second)
		select {
		case err := <-done:
			t.Fatalf("Drain returned %v with an attempt in flight", err)
		default:
		}
		a.Done(balancer.Outcome{})
		if err := <-done; err != nil {
			t.Errorf("Drain = %v; want nil", err)
		}
		if got, want := urlsOf(p.All()), []string{"http://b:1"}; !slices.Equal(got, want) {
			t.Errorf("after Drain, All() = %q; want %q", got, want)
		}
		if err := p.Drain(context.Background(), a); !errors.Is(err, balancer.ErrNotMember) {
			t.Errorf("Drain of a removed upstream = %v; want ErrNotMember", err)
		}
	})
}

func TestPoolDrainContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := balancer.MustPool("http://a:1", "http://b:1")
		a := p.All()[0]
		a.Begin() // never ends
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		if err := p.Drain(ctx, a); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Drain = %v; want DeadlineExceeded", err)
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("Drain returned after %v; want 5s", got)
		}
		if got, want := urlsOf(p.Healthy()), []string{"http://b:1"}; !slices.Equal(got, want) {
			t.Errorf("after a timed-out Drain, Healthy() = %q; want %q", got, want)
		}
		p.Undrain(a)
		if got, want := urlsOf(p.Healthy()), []string{"http://a:1", "http://b:1"}; !slices.Equal(got, want) {
			t.Errorf("after Undrain, Healthy() = %q; want %q", got, want)
		}
	})
}
