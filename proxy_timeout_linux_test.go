package gateway_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// unanswered returns the address of a loopback listener that never
// accepts and whose accept queue is full. Linux then drops the SYNs of new
// connection attempts, so a dial to it hangs until its own timeout, as a
// dial to a host that is down does. The test is skipped where the kernel
// answers anyway.
func unanswered(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)

	// The kernel completes handshakes until the queue is full; the first
	// dial that times out shows it is.
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 50*time.Millisecond)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return addr
		case err != nil:
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the kernel completes connections beyond a full accept queue; no way to make a dial hang")
	return ""
}

func TestProxyDialTimeout(t *testing.T) {
	p := proxyTo(t, "http://"+unanswered(t))
	p.DialTimeout = 20 * time.Millisecond // the default, 10 s, outlasts the test's deadline
	f := newFront(t, p)
	req, _ := http.NewRequestWithContext(boundedContext(t), "GET", f.URL, nil)
	res, body := roundTrip(t, f.Client(), req)
	checkErrorBody(t, res, body, http.StatusGatewayTimeout, "upstream_timeout")

	f.waitServed(t, 1)
	u := p.Upstreams.All()[0]
	if r, fl, in := u.Requests(), u.Failures(), u.Inflight(); r != 1 || fl != 1 || in != 0 {
		t.Errorf("Requests, Failures, Inflight = %d, %d, %d; want 1, 1, 0", r, fl, in)
	}
}
