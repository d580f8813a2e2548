package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache/store"
)

// Conformance tests of protocol upgrades (WebSocket and the like) through
// the Proxy: the tunnel, half-closes, cancellation and refused switches.

// switcher is an upstream handler that takes the connection over and
// answers 101. answer returns the protocol it switches to for the one asked
// ("" when none was); an empty answer sends a 101 that names no protocol.
// session then runs on the connection, which is closed when it returns.
func switcher(answer func(asked string) string, session func(c net.Conn, rw *bufio.ReadWriter)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		asked := ""
		if strings.EqualFold(r.Header.Get("Connection"), "upgrade") {
			asked = r.Header.Get("Upgrade")
		}
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer c.Close()
		head := "HTTP/1.1 101 Switching Protocols\r\nX-From-Upstream: 1\r\nKeep-Alive: timeout=5\r\n"
		if proto := answer(asked); proto != "" {
			head += "Connection: Upgrade\r\nUpgrade: " + proto + "\r\n"
		}
		rw.WriteString(head + "\r\n")
		rw.Flush()
		session(c, rw)
	}
}

// same answers with the protocol that was asked.
func same(asked string) string { return asked }

// echoLines answers each line it reads with "echo: " and the line, until
// the end of the stream.
func echoLines(c net.Conn, rw *bufio.ReadWriter) {
	for {
		line, err := rw.ReadString('\n')
		if err != nil {
			return
		}
		rw.WriteString("echo: " + line)
		rw.Flush()
	}
}

// dialUpgrade connects to the gateway at addr over raw TCP (so that it can
// half-close), asks to upgrade to protocol, with extra sent right after the
// request head, and returns the connection and the 101 response. The
// connection is closed when ctx ends.
func dialUpgrade(t *testing.T, ctx context.Context, addr, protocol, extra string) (*net.TCPConn, *bufio.Reader, *http.Response) {
	t.Helper()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	context.AfterFunc(ctx, func() { c.Close() }) // a hang fails instead of blocking
	fmt.Fprintf(c, "GET /chat HTTP/1.1\r\nHost: front.example\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n%s", protocol, extra)
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the upgrade response: %v", err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("upgrade response = %d %q; want 101", res.StatusCode, body)
	}
	return c.(*net.TCPConn), br, res
}

// exchange writes line to c and checks that the echo comes back.
func exchange(t *testing.T, c net.Conn, br *bufio.Reader, line string) {
	t.Helper()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatalf("writing %q: %v", line, err)
	}
	got, err := br.ReadString('\n')
	if want := "echo: " + line + "\n"; got != want || err != nil {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

func TestProxyUpgradeTunnels(t *testing.T) {
	type testCase struct {
		name     string
		asked    string
		answered string
		cached   bool // the Proxy has a Cache: the upgrade passes through it
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		up := newUpstream(t, switcher(func(string) string { return tc.answered }, echoLines))
		p := proxyTo(t, up.URL)
		if tc.cached {
			m, err := store.NewMemory(store.MemoryConfig{})
			if err != nil {
				t.Fatal(err)
			}
			p.Cache = m
		}
		p.ModifyResponse = func(res *http.Response) error {
			res.Header.Set("X-Modified", "yes")
			return nil
		}
		// A middleware in front of the proxy sets a header of its own.
		f := newFront(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "42")
			p.ServeHTTP(w, r)
		}))
		ctx := boundedContext(t)

		// The first message goes in the same write as the request head,
		// so the gateway has it buffered when it takes the connection over.
		c, br, res := dialUpgrade(t, ctx, f.Listener.Addr().String(), tc.asked, "first\n")
		checkHeader(t, "101 response", res.Header, http.Header{
			"Connection":      {"Upgrade"},
			"Upgrade":         {tc.answered},
			"X-From-Upstream": {"1"},
			"X-Modified":      {"yes"},
			"X-Request-Id":    {"42"},
		}, []string{"Keep-Alive"})
		got, err := br.ReadString('\n')
		if got != "echo: first\n" || err != nil {
			t.Fatalf("read %q, %v; want %q", got, err, "echo: first\n")
		}
		for _, line := range []string{"second", strings.Repeat("x", 100<<10), "third"} {
			exchange(t, c, br, line)
		}
		c.Close()
		f.waitServed(t, 1)
		u := p.Upstreams.All()[0]
		if r, fl, in := u.Requests(), u.Failures(), u.Inflight(); r != 1 || fl != 0 || in != 0 {
			t.Errorf("Requests, Failures, Inflight = %d, %d, %d; want 1, 0, 0", r, fl, in)
		}
	}

	for _, tc := range []testCase{
		{name: "websocket", asked: "websocket", answered: "websocket"},
		{name: "protocol names compare without case", asked: "WebSocket", answered: "websocket"},
		{name: "other protocol", asked: "custom/1.0", answered: "custom/1.0"},
		{name: "websocket through a cache", asked: "websocket", answered: "websocket", cached: true},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyUpgradeHalfClose(t *testing.T) {
	up := newUpstream(t, switcher(same, func(c net.Conn, rw *bufio.ReadWriter) {
		// Read to the end: only the client's half-close ends this.
		all, err := io.ReadAll(rw)
		if err != nil {
			return
		}
		rw.WriteString("heard: " + string(all))
		rw.Flush()
	}))
	f := newFront(t, proxyTo(t, up.URL))
	ctx := boundedContext(t)

	c, br, _ := dialUpgrade(t, ctx, f.Listener.Addr().String(), "websocket", "")
	io.WriteString(c, "last words")
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(br)
	if want := "heard: last words"; string(got) != want || err != nil {
		t.Errorf("after half-close, read %q, %v; want %q and the end of the stream", got, err, want)
	}
}

func TestProxyUpgradeCancel(t *testing.T) {
	upstreamDone := make(chan struct{})
	up := newUpstream(t, switcher(same, func(c net.Conn, rw *bufio.ReadWriter) {
		echoLines(c, rw)
		close(upstreamDone)
	}))
	p := proxyTo(t, up.URL)

	// Every request context of this gateway derives from base, as when a
	// server shuts down.
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := httptest.NewUnstartedServer(p)
	f.Config.BaseContext = func(net.Listener) context.Context { return base }
	f.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.Start()
	defer f.Close()

	ctx := boundedContext(t)
	c, br, _ := dialUpgrade(t, ctx, f.Listener.Addr().String(), "websocket", "")
	exchange(t, c, br, "before")
	cancel()

	wait(t, ctx, upstreamDone, "the upstream side of the tunnel to close")
	rest, err := io.ReadAll(br)
	if err != nil || len(rest) != 0 {
		t.Errorf("client read after cancel = %q, %v; want the end of the stream", rest, err)
	}
}

func TestProxyUpgradeRefusedSwitch(t *testing.T) {
	type testCase struct {
		name     string
		asked    string // "" for a plain request
		answered string // "" for a 101 that names no protocol
		refuse   bool   // ModifyResponse returns an error
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		up := newUpstream(t, switcher(func(string) string { return tc.answered }, func(net.Conn, *bufio.ReadWriter) {}))
		p := proxyTo(t, up.URL)
		if tc.refuse {
			p.ModifyResponse = func(*http.Response) error { return errors.New("refused by policy") }
		}
		f := newFront(t, p)
		req, _ := http.NewRequestWithContext(boundedContext(t), "GET", f.URL, nil)
		if tc.asked != "" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", tc.asked)
		}
		res, body := roundTrip(t, f.Client(), req)
		checkErrorBody(t, res, body, http.StatusBadGateway, "bad_gateway")
	}

	for _, tc := range []testCase{
		{name: "other protocol than asked", asked: "websocket", answered: "h2c"},
		{name: "switch not asked for", asked: "", answered: "websocket"},
		{name: "no protocol named", asked: "websocket", answered: ""},
		{name: "ModifyResponse error", asked: "websocket", answered: "websocket", refuse: true},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyUpgradeNotLimitedByTimeout(t *testing.T) {
	up := newUpstream(t, switcher(same, echoLines))
	p := proxyTo(t, up.URL)
	p.Timeout = 10 * time.Millisecond
	f := newFront(t, p)
	ctx := boundedContext(t)

	c, br, _ := dialUpgrade(t, ctx, f.Listener.Addr().String(), "websocket", "")
	exchange(t, c, br, "early")
	// Nothing to wait for here but time itself: the tunnel must outlive
	// several Timeouts.
	<-time.After(5 * p.Timeout)
	exchange(t, c, br, "late")
}
