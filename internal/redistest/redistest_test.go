package redistest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestAddrAnswersPing(t *testing.T) {
	addr := Addr(t)
	if err := ping(addr); err != nil {
		t.Fatalf("ping(%s) = %v; want nil", addr, err)
	}
	if again := Addr(t); again != addr {
		t.Errorf("Addr() = %s, then %s; want one shared server", addr, again)
	}
}

func TestPrefixDistinct(t *testing.T) {
	a, b := Prefix(t), Prefix(t)
	if a == b {
		t.Errorf("Prefix() = %q twice; want distinct prefixes", a)
	}
	if !strings.HasPrefix(a, "test:"+t.Name()+":") {
		t.Errorf("Prefix() = %q; want it to name the test", a)
	}
}

func TestStopRestart(t *testing.T) {
	if os.Getenv(EnvAddr) != "" {
		t.Skip("the server is given by " + EnvAddr)
	}
	s := Start(t)
	if s.Addr == Addr(t) {
		t.Fatalf("Start().Addr = the shared server's %s; want a private server", s.Addr)
	}
	if err := ping(s.Addr); err != nil {
		t.Fatalf("ping after Start = %v; want nil", err)
	}
	s.Stop()
	if err := ping(s.Addr); err == nil {
		t.Fatal("ping after Stop = nil; want an error")
	}
	s.Stop() // stopping twice is harmless
	s.Restart()
	if err := ping(s.Addr); err != nil {
		t.Fatalf("ping after Restart = %v; want nil", err)
	}
	s.Restart() // restarting a running server stops it first
	if err := ping(s.Addr); err != nil {
		t.Fatalf("ping after a second Restart = %v; want nil", err)
	}
}

// recorder is a testing.TB that records how a helper ended the test.
type recorder struct {
	testing.TB
	ended string // "skip: ..." or "fatal: ..."
}

func (r *recorder) Helper()          {}
func (r *recorder) Name() string     { return r.TB.Name() }
func (r *recorder) TempDir() string  { return r.TB.TempDir() }
func (r *recorder) Cleanup(f func()) { r.TB.Cleanup(f) }
func (r *recorder) Skip(args ...any) {
	r.ended = "skip: " + fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.ended = "skip: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.ended = "fatal: " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// ended calls f with a recorder in a goroutine of its own, since the
// recorder ends the test as testing does, with runtime.Goexit.
func ended(t *testing.T, f func(tb testing.TB)) string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.ended
}

func TestNoRedis(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no redis-server there
	t.Setenv(EnvAddr, "")
	for _, tc := range []struct {
		require string
		want    string
	}{
		{"", "skip: redistest: no redis-server on PATH"},
		{"0", "skip: redistest: no redis-server on PATH"},
		{"1", "fatal: redistest: no redis-server on PATH"},
	} {
		t.Setenv(EnvRequire, tc.require)
		if got := ended(t, func(tb testing.TB) { Start(tb) }); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s=%q: Start() ended the test with %q; want %q...", EnvRequire, tc.require, got, tc.want)
		}
	}
}

func TestOutsideServer(t *testing.T) {
	t.Setenv(EnvAddr, "127.0.0.1:1")
	if got := Addr(t); got != "127.0.0.1:1" {
		t.Errorf("Addr() = %s; want %s from %s", got, "127.0.0.1:1", EnvAddr)
	}
	s := Start(t)
	if s.Addr != "127.0.0.1:1" {
		t.Errorf("Start().Addr = %s; want %s from %s", s.Addr, "127.0.0.1:1", EnvAddr)
	}
	for name, f := range map[string]func(*Server){"Stop": (*Server).Stop, "Restart": (*Server).Restart} {
		got := ended(t, func(tb testing.TB) {
			s.t = tb
			f(s)
		})
		if !strings.HasPrefix(got, "skip: ") {
			t.Errorf("%s() on a server from %s ended the test with %q; want a skip", name, EnvAddr, got)
		}
	}
}
