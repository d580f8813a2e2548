// Package redistest gives tests a real Redis server.
//
// [Addr] returns the address of a server shared by every test of the test
// binary: started once, on the first call, from the redis-server binary on
// PATH (on a free loopback port, with persistence off), or the server named
// by GATEWAY_TEST_REDIS_ADDR when that is set. Tests that share it keep
// apart by their keys: [Prefix] returns a key prefix no other test uses.
// [Start] starts a private server that a test may stop and restart, to see
// what its code does while Redis is gone.
//
// When there is neither a redis-server binary nor GATEWAY_TEST_REDIS_ADDR,
// the test is skipped, unless GATEWAY_REQUIRE_REDIS=1, in which case it
// fails: CI sets it, so that tests against Redis never pass by skipping.
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The environment variables this package reads.
const (
	// EnvAddr names a running Redis server (host:port) to use instead of
	// starting one. Tests that stop the server skip when it is set.
	EnvAddr = "GATEWAY_TEST_REDIS_ADDR"
	// EnvRequire, set to 1, makes a test that finds no Redis fail
	// instead of skipping.
	EnvRequire = "GATEWAY_REQUIRE_REDIS"
)

// startTimeout bounds the wait for a started server to answer PING.
const startTimeout = 10 * time.Second

var shared struct {
	once sync.Once
	addr string
	err  error
	skip string
}

// Addr returns the address of the Redis server shared by the tests of
// this binary, starting it on the first call. The server lives until the
// test binary exits (on Linux the kernel kills it then; elsewhere each
// call starts a server of its own, stopped when t ends). Data written by
// one test stays visible to the others: use [Prefix] for keys.
func Addr(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(EnvAddr); addr != "" {
		return addr
	}
	if !killedWithParent {
		return Start(t).Addr
	}
	shared.once.Do(func() {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			shared.skip = "no redis-server on PATH"
			return
		}
		dir, err := os.MkdirTemp("", "redistest")
		if err != nil {
			shared.err = err
			return
		}
		// The server writes nothing with persistence off; the directory
		// goes at once, so that no test run leaves one behind.
		defer os.RemoveAll(dir)
		// The server is killed when the thread that started it ends
		// (Pdeathsig): start it from a thread locked to a goroutine that
		// never returns, so that this is when the test binary exits.
		started := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			var s *Server
			if s, shared.err = start(bin, dir, 0); s != nil {
				shared.addr = s.Addr
			}
			close(started)
			select {}
		}()
		<-started
	})
	switch {
	case shared.skip != "":
		unavailable(t, shared.skip)
	case shared.err != nil:
		t.Fatalf("redistest: %v", shared.err)
	}
	return shared.addr
}

var prefixes atomic.Uint64

// Prefix returns a key prefix that no other call in this test binary
// returns, naming the test for whoever reads the keys in redis-cli:
// "test:TestName/sub:3:".
func Prefix(t testing.TB) string {
	return "test:" + t.Name() + ":" + strconv.FormatUint(prefixes.Add(1), 10) + ":"
}

// Server is a private redis-server for one test, which the test may stop
// and restart. Restarting keeps the address but not the data.
type Server struct {
	// Addr is the server's host:port.
	Addr string

	t       testing.TB
	bin     string
	dir     string
	port    int
	outside bool // Addr came from GATEWAY_TEST_REDIS_ADDR

	mu     sync.Mutex    // guards proc and exited
	proc   *os.Process   // nil once stopped
	exited chan struct{} // closed when proc has exited
}

// Start starts a private redis-server, stopped when t ends. With
// GATEWAY_TEST_REDIS_ADDR set it returns a Server on that address, whose
// [Server.Stop] and [Server.Restart] skip the test, since a server this
// package did not start cannot be stopped.
func Start(t testing.TB) *Server {
	t.Helper()
	if addr := os.Getenv(EnvAddr); addr != "" {
		return &Server{Addr: addr, t: t, outside: true}
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "no redis-server on PATH")
	}
	s, err := start(bin, t.TempDir(), 0)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	s.t = t
	t.Cleanup(s.kill)
	return s
}

// Stop kills the server and waits until it has exited, so that
// connections to Addr are refused until [Server.Restart].
func (s *Server) Stop() {
	s.t.Helper()
	if s.outside {
		s.t.Skipf("redistest: cannot stop the server at %s=%s", EnvAddr, s.Addr)
	}
	s.kill()
}

// Restart starts the server again on the same address, with no data, and
// returns once it answers. It stops the server first if it runs.
func (s *Server) Restart() {
	s.t.Helper()
	if s.outside {
		s.t.Skipf("redistest: cannot restart the server at %s=%s", EnvAddr, s.Addr)
	}
	s.kill()
	n, err := start(s.bin, s.dir, s.port)
	if err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
	s.mu.Lock()
	s.proc, s.exited = n.proc, n.exited
	s.mu.Unlock()
}

func (s *Server) kill() {
	s.mu.Lock()
	proc, exited := s.proc, s.exited
	s.proc = nil
	s.mu.Unlock()
	if proc != nil {
		proc.Kill()
		<-exited
	}
}

// start runs redis-server in dir on port, or on a free port when port is
// 0, and waits until it answers PING. A free port can be taken by someone
// else before the server binds it: then it tries another.
func start(bin, dir string, port int) (*Server, error) {
	var err error
	for range 5 {
		p := port
		if p == 0 {
			if p, err = freePort(); err != nil {
				return nil, err
			}
		}
		var s *Server
		if s, err = run(bin, dir, p); err == nil {
			return s, nil
		}
		if port != 0 && !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	return nil, err
}

func run(bin, dir string, port int) (*Server, error) {
	s := &Server{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		bin:  bin, dir: dir, port: port,
	}
	var log syncBuffer
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--daemonize", "no", "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return nil, fmt.Errorf("redis-server on port %d exited: %s", port, strings.TrimSpace(log.String()))
		default:
		}
		if ping(s.Addr) == nil {
			// cmd.Wait runs in the goroutine above: kill waits on exited.
			s.proc, s.exited = cmd.Process, exited
			return s, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exited
	return nil, fmt.Errorf("redis-server on port %d did not answer PING within %v: %s", port, startTimeout, log.String())
}

// syncBuffer is the server's output, written by exec's copying goroutine
// and read by start.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// ping sends PING to addr and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// unavailable skips t, or fails it when EnvRequire is 1.
func unavailable(t testing.TB, why string) {
	t.Helper()
	msg := fmt.Sprintf("redistest: %s and %s is not set; install redis-server or set %s", why, EnvAddr, EnvAddr)
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s (%s=1)", msg, EnvRequire)
	}
	t.Skip(msg)
}
