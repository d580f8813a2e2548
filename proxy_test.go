package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/netip"
	"net/textproto"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
)

// This file holds black-box conformance tests of [gateway.Proxy]: the
// behaviours that users of net/http/httputil.ReverseProxy rely on, checked
// with real loopback servers on both sides of the proxy.

// testDeadline bounds every wait in these tests, so that a broken proxy
// makes a test fail instead of hang.
const testDeadline = 5 * time.Second

// newUpstream starts a loopback server running h, closed when the test ends.
func newUpstream(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// proxyTo returns a quiet Proxy to the upstream at rawURL (a server's URL,
// with an optional path prefix and query).
func proxyTo(t *testing.T, rawURL string) *gateway.Proxy {
	t.Helper()
	p := &gateway.Proxy{
		Upstreams: balancer.MustPool(rawURL),
		Logger:    slog.New(slog.DiscardHandler),
	}
	t.Cleanup(p.CloseIdleConnections)
	return p
}

// front is a loopback server that serves a Proxy to clients.
type front struct {
	*httptest.Server
	// served receives once each time the handler has returned, so that a
	// test knows when the proxy is done with a request.
	served chan struct{}
}

// newFront serves h on a loopback server, closed when the test ends.
func newFront(t *testing.T, h http.Handler) *front {
	t.Helper()
	f := &front{served: make(chan struct{}, 64)}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { f.served <- struct{}{} }() // runs on http.ErrAbortHandler too
		h.ServeHTTP(w, r)
	}))
	f.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.Start()
	t.Cleanup(f.Close)
	return f
}

// waitServed waits until the front's handler has returned n more times.
func (f *front) waitServed(t *testing.T, n int) {
	t.Helper()
	timeout := time.NewTimer(testDeadline)
	defer timeout.Stop()
	for range n {
		select {
		case <-f.served:
		case <-timeout.C:
			t.Fatalf("proxy handler still running after %v", testDeadline)
		}
	}
}

// boundedContext returns a context that ends after testDeadline.
func boundedContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

// wait receives from c, or fails the test when ctx ends first.
func wait[T any](t *testing.T, ctx context.Context, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-ctx.Done():
		t.Fatalf("gave up waiting for %s: %v", what, ctx.Err())
		panic("unreachable")
	}
}

// seen is what the echo upstream saw of a request.
type seen struct {
	Method           string
	Host             string
	RequestURI       string
	Path             string
	RawQuery         string
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	BodyLen          int64
	BodySHA256       string
}

// serveSeen serves in through p, whose upstream reports what it saw as a
// seen in JSON, and returns that report.
func serveSeen(t *testing.T, p http.Handler, in *http.Request) seen {
	t.Helper()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, in)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d; want 200 (body %q)", rec.Code, rec.Body)
	}
	var s seen
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatalf("upstream report %q: %v", rec.Body, err)
	}
	return s
}

// echo is an upstream handler that answers with a JSON [seen] of the
// request it received.
func echo(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusTeapot)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(seen{
		Method:           r.Method,
		Host:             r.Host,
		RequestURI:       r.RequestURI,
		Path:             r.URL.Path,
		RawQuery:         r.URL.RawQuery,
		Header:           r.Header,
		ContentLength:    r.ContentLength,
		TransferEncoding: r.TransferEncoding,
		BodyLen:          n,
		BodySHA256:       hex.EncodeToString(h.Sum(nil)),
	})
}

// roundTrip sends req with c and returns the response with its body read.
func roundTrip(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return res, body
}

// seenBy sends req and decodes the echo upstream's report of it.
func seenBy(t *testing.T, c *http.Client, req *http.Request) seen {
	t.Helper()
	res, body := roundTrip(t, c, req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d, body %q; want 200", req.Method, req.URL, res.StatusCode, body)
	}
	var s seen
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("upstream report %q: %v", body, err)
	}
	return s
}

// checkHeader compares the headers in want (exact values) and absent (no
// value at all) with got, which is what side saw.
func checkHeader(t *testing.T, side string, got, want http.Header, absent []string) {
	t.Helper()
	for k, vs := range want {
		if g := got[k]; !slices.Equal(g, vs) {
			t.Errorf("%s %s = %q; want %q", side, k, g, vs)
		}
	}
	for _, k := range absent {
		if g, ok := got[k]; ok {
			t.Errorf("%s %s = %q; want none", side, k, g)
		}
	}
}

// checkErrorBody checks that a gateway error response is the JSON error
// object of the given type.
func checkErrorBody(t *testing.T, res *http.Response, body []byte, wantStatus int, wantType string) {
	t.Helper()
	if res.StatusCode != wantStatus {
		t.Errorf("status = %d; want %d (body %q)", res.StatusCode, wantStatus, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want %q", ct, "application/json")
	}
	var e struct {
		Error struct{ Type, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("error body %q is not JSON: %v", body, err)
	}
	if e.Error.Type != wantType {
		t.Errorf("error type = %q; want %q (body %q)", e.Error.Type, wantType, body)
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// hangUp is an upstream handler that closes the connection without an
// answer.
func hangUp(w http.ResponseWriter, r *http.Request) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	c.Close()
}

func TestProxyStripsHopByHopRequestHeaders(t *testing.T) {
	up := newUpstream(t, echo)
	p := proxyTo(t, up.URL)

	type testCase struct {
		name   string
		header http.Header // of the inbound request
		want   http.Header // what the upstream must see
		absent []string    // what the upstream must not see
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		in := httptest.NewRequest("GET", "http://front.example/path?q=1", nil)
		in.Header = tc.header.Clone()
		before, beforeURL := in.Header.Clone(), *in.URL

		s := serveSeen(t, p, in)
		checkHeader(t, "upstream", s.Header, tc.want, tc.absent)

		// The proxy works on a copy; the inbound request stays as it came.
		if !reflect.DeepEqual(in.Header, before) {
			t.Errorf("inbound header after ServeHTTP = %q; want unchanged %q", in.Header, before)
		}
		if *in.URL != beforeURL || in.Host != "front.example" {
			t.Errorf("inbound URL, Host after ServeHTTP = %v, %q; want unchanged %v, %q", in.URL, in.Host, &beforeURL, "front.example")
		}
	}

	for _, tc := range []testCase{{
		name: "hop-by-hop names",
		header: http.Header{
			"Connection":          {"keep-alive"},
			"Keep-Alive":          {"timeout=5"},
			"Proxy-Connection":    {"keep-alive"},
			"Proxy-Authorization": {"Basic c2VjcmV0"},
			"Proxy-Authenticate":  {"Basic"},
			"Te":                  {"gzip"},
			"Trailer":             {"X-Checksum"},
			"Transfer-Encoding":   {"chunked"},
			"Upgrade":             {"h2c"}, // without "Connection: upgrade": not an upgrade
			"X-Kept":              {"1"},
		},
		want: http.Header{"X-Kept": {"1"}},
		absent: []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
			"Proxy-Authenticate", "Te", "Trailer", "Transfer-Encoding", "Upgrade"},
	}, {
		name: "headers named in Connection",
		header: http.Header{
			"Connection": {"X-Secret, x-other ,X-Third", "X-Fourth"},
			"X-Secret":   {"a"},
			"X-Other":    {"b"},
			"X-Third":    {"c"},
			"X-Fourth":   {"d"},
			"X-Kept":     {"1"},
		},
		want:   http.Header{"X-Kept": {"1"}},
		absent: []string{"Connection", "X-Secret", "X-Other", "X-Third", "X-Fourth"},
	}, {
		name: "TE trailers kept even when Connection names TE",
		header: http.Header{
			"Connection": {"close, TE"},
			"Te":         {"foo", "bar, trailers"},
		},
		want:   http.Header{"Te": {"trailers"}},
		absent: []string{"Connection"},
	}, {
		name: "empty Connection",
		header: http.Header{
			"Connection": {"", ","},
			"X-Kept":     {"1"},
		},
		want:   http.Header{"X-Kept": {"1"}},
		absent: []string{"Connection"},
	}} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyStripsHopByHopResponseHeaders(t *testing.T) {
	type testCase struct {
		name   string
		set    http.Header // set by the upstream on its response
		want   http.Header // what the client must see
		absent []string    // what the client must not see
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			for k, vs := range tc.set {
				w.Header()[k] = vs
			}
			io.WriteString(w, "body")
		})
		f := newFront(t, proxyTo(t, up.URL))
		req, _ := http.NewRequest("GET", f.URL, nil)
		res, body := roundTrip(t, f.Client(), req)
		if res.StatusCode != http.StatusOK || string(body) != "body" {
			t.Fatalf("response = %d %q; want 200 %q", res.StatusCode, body, "body")
		}
		checkHeader(t, "client", res.Header, tc.want, tc.absent)
	}

	for _, tc := range []testCase{{
		name: "headers named in Connection",
		set: http.Header{
			"Connection": {"X-Secret, x-other"},
			"X-Secret":   {"a"},
			"X-Other":    {"b"},
			"X-Kept":     {"1"},
		},
		want:   http.Header{"X-Kept": {"1"}},
		absent: []string{"X-Secret", "X-Other"},
	}, {
		name: "hop-by-hop names",
		set: http.Header{
			"Keep-Alive":         {"timeout=5"},
			"Proxy-Connection":   {"keep-alive"},
			"Proxy-Authenticate": {"Basic"},
			"Upgrade":            {"foo"},
		},
		absent: []string{"Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Upgrade"},
	}, {
		name: "end-to-end headers kept with all their values",
		set: http.Header{
			"Trailers":      {"not a hop-by-hop name"},
			"X-Multi-Value": {"a", "b"},
			"Set-Cookie":    {"flavor=chocolate", "size=large"},
		},
		want: http.Header{
			"Trailers":      {"not a hop-by-hop name"},
			"X-Multi-Value": {"a", "b"},
			"Set-Cookie":    {"flavor=chocolate", "size=large"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyForwardedHeaders(t *testing.T) {
	up := newUpstream(t, echo)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	prior := http.Header{
		"Forwarded":         {"for=198.51.100.1;proto=https"},
		"X-Forwarded-For":   {"198.51.100.1", "192.0.2.5"},
		"X-Forwarded-Host":  {"orig.example"},
		"X-Forwarded-Proto": {"https"},
		"X-Real-Ip":         {"198.51.100.1"},
	}

	type testCase struct {
		name    string
		remote  string // RemoteAddr of the inbound request
		tls     bool
		trusted []netip.Prefix
		header  http.Header
		want    http.Header
		absent  []string
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		p := proxyTo(t, up.URL)
		p.TrustedProxies = tc.trusted
		target := "http://front.example/"
		if tc.tls {
			target = "https://front.example/" // NewRequest then sets TLS
		}
		in := httptest.NewRequest("GET", target, nil)
		in.RemoteAddr = tc.remote
		in.Header = tc.header.Clone()
		s := serveSeen(t, p, in)
		checkHeader(t, "upstream", s.Header, tc.want, tc.absent)
		if !reflect.DeepEqual(in.Header, tc.header) {
			t.Errorf("inbound header after ServeHTTP = %q; want unchanged %q", in.Header, tc.header)
		}
	}

	for _, tc := range []testCase{{
		name:   "untrusted client without prior headers",
		remote: "203.0.113.7:4000",
		header: http.Header{},
		want: http.Header{
			"X-Forwarded-For":   {"203.0.113.7"},
			"X-Forwarded-Host":  {"front.example"},
			"X-Forwarded-Proto": {"http"},
		},
		absent: []string{"Forwarded", "X-Real-Ip"},
	}, {
		name:   "no trusted proxies: prior headers dropped",
		remote: "127.0.0.1:4000",
		header: prior,
		want: http.Header{
			"X-Forwarded-For":   {"127.0.0.1"},
			"X-Forwarded-Host":  {"front.example"},
			"X-Forwarded-Proto": {"http"},
		},
		absent: []string{"Forwarded", "X-Real-Ip"},
	}, {
		name:    "client outside the trusted networks: prior headers dropped",
		remote:  "203.0.113.7:4000",
		trusted: loopback,
		header:  prior,
		want: http.Header{
			"X-Forwarded-For":   {"203.0.113.7"},
			"X-Forwarded-Host":  {"front.example"},
			"X-Forwarded-Proto": {"http"},
		},
		absent: []string{"Forwarded", "X-Real-Ip"},
	}, {
		name:    "trusted proxy: prior headers kept, client appended",
		remote:  "127.0.0.1:4000",
		trusted: loopback,
		header:  prior,
		want: http.Header{
			"Forwarded":         {"for=198.51.100.1;proto=https"},
			"X-Forwarded-For":   {"198.51.100.1, 192.0.2.5, 127.0.0.1"},
			"X-Forwarded-Host":  {"orig.example"},
			"X-Forwarded-Proto": {"https"},
			"X-Real-Ip":         {"198.51.100.1"},
		},
	}, {
		name:    "trusted proxy over IPv4-mapped IPv6",
		remote:  "[::ffff:127.0.0.1]:4000",
		trusted: loopback,
		header:  http.Header{"X-Forwarded-For": {"198.51.100.1"}},
		want:    http.Header{"X-Forwarded-For": {"198.51.100.1, ::ffff:127.0.0.1"}},
	}, {
		name:   "IPv6 client",
		remote: "[2001:db8::1]:4000",
		header: http.Header{},
		want:   http.Header{"X-Forwarded-For": {"2001:db8::1"}},
	}, {
		name:   "TLS client",
		remote: "203.0.113.7:4000",
		tls:    true,
		header: http.Header{},
		want:   http.Header{"X-Forwarded-Proto": {"https"}},
	}} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyQuery(t *testing.T) {
	up := newUpstream(t, echo)
	manyParams := strings.Repeat("a=1&", 10000) + "a=1" // one more than url.ParseQuery accepts

	type testCase struct {
		name     string
		upstream string // the upstream URL's query
		raw      string // the client's raw query
		want     string // the upstream's raw query
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		u := up.URL
		if tc.upstream != "" {
			u += "?" + tc.upstream
		}
		f := newFront(t, proxyTo(t, u))
		req, _ := http.NewRequest("GET", f.URL+"/q", nil)
		req.URL.RawQuery = tc.raw
		s := seenBy(t, f.Client(), req)
		if s.RawQuery != tc.want {
			t.Errorf("query %.40q: upstream got %.40q; want %.40q", tc.raw, s.RawQuery, tc.want)
		}
	}

	for _, tc := range []testCase{
		{name: "request query only", raw: "a=1&b=2", want: "a=1&b=2"},
		{name: "upstream query only", upstream: "key=k", want: "key=k"},
		{name: "both joined", upstream: "key=k", raw: "a=1", want: "key=k&a=1"},
		{name: "clean query passed byte for byte", raw: "z=1&a=%41&b=x+y&flag&c=%2B", want: "z=1&a=%41&b=x+y&flag&c=%2B"},
		{name: "semicolon parameter dropped", raw: "a=1&a=2;b=3", want: "a=1"},
		{name: "bad escape dropped", raw: "a=1&a=%zz&b=3", want: "a=1&b=3"},
		{name: "only a bad escape", raw: "a=%zz", want: ""},
		{name: "truncated escape", raw: "a=1&b=%4", want: "a=1"},
		{name: "cleaned query joined to upstream query", upstream: "key=k", raw: "a=1;b=2", want: "key=k"},
		{name: "more parameters than the parser accepts", raw: manyParams, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyJoinsPaths(t *testing.T) {
	up := newUpstream(t, echo)

	type testCase struct {
		prefix string // the upstream URL's path
		path   string // the client's path, escaped as sent
		want   string // the upstream's request target
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		f := newFront(t, proxyTo(t, up.URL+tc.prefix))
		req, err := http.NewRequest("GET", f.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := seenBy(t, f.Client(), req)
		if s.RequestURI != tc.want {
			t.Errorf("upstream %q, request %q: upstream got %q; want %q", tc.prefix, tc.path, s.RequestURI, tc.want)
		}
	}

	for _, tc := range []testCase{
		{prefix: "", path: "/", want: "/"},
		{prefix: "", path: "/a/b", want: "/a/b"},
		{prefix: "/", path: "/a", want: "/a"},
		{prefix: "/api", path: "/", want: "/api/"},
		{prefix: "/api", path: "/v1/users", want: "/api/v1/users"},
		{prefix: "/api/", path: "/v1/users", want: "/api/v1/users"},
		{prefix: "/api/", path: "/", want: "/api/"},
		{prefix: "/api", path: "/v1/", want: "/api/v1/"},
		{prefix: "/api", path: "//v1", want: "/api//v1"},
		{prefix: "/api", path: "/a%2Fb", want: "/api/a%2Fb"},
		{prefix: "/api/", path: "/a%2Fb/c", want: "/api/a%2Fb/c"},
		{prefix: "/x%2Fy", path: "/z", want: "/x%2Fy/z"},
		{prefix: "/x%2Fy/", path: "/a%2Fb", want: "/x%2Fy/a%2Fb"},
		{prefix: "/api", path: "/sp%20ace", want: "/api/sp%20ace"},
		{prefix: "/api", path: "/caf%C3%A9", want: "/api/caf%C3%A9"},
	} {
		t.Run(tc.prefix+"+"+tc.path, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyUserAgent(t *testing.T) {
	f := newFront(t, proxyTo(t, newUpstream(t, echo).URL))
	for _, tc := range []struct {
		name string
		sent []string // nil: no User-Agent line at all
		want []string // nil: none
	}{
		{name: "absent stays absent", sent: nil, want: nil},
		{name: "present is kept", sent: []string{"probe/1.0"}, want: []string{"probe/1.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", f.URL, nil)
			req.Header["User-Agent"] = tc.sent
			if tc.sent == nil {
				req.Header["User-Agent"] = []string{""} // stops the client adding its own
			}
			s := seenBy(t, f.Client(), req)
			if got, ok := s.Header["User-Agent"]; ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
				t.Errorf("upstream User-Agent = %q (present %v); want %q", got, ok, tc.want)
			}
		})
	}
}

func TestProxyPreserveHost(t *testing.T) {
	up := newUpstream(t, echo)
	upHost := strings.TrimPrefix(up.URL, "http://")
	for _, tc := range []struct {
		preserve bool
		want     string
	}{
		{preserve: false, want: upHost},
		{preserve: true, want: "app.example"},
	} {
		p := proxyTo(t, up.URL)
		p.PreserveHost = tc.preserve
		f := newFront(t, p)
		req, _ := http.NewRequest("GET", f.URL, nil)
		req.Host = "app.example"
		s := seenBy(t, f.Client(), req)
		if s.Host != tc.want {
			t.Errorf("PreserveHost %v: upstream Host = %q; want %q", tc.preserve, s.Host, tc.want)
		}
		if got := s.Header.Get("X-Forwarded-Host"); got != "app.example" {
			t.Errorf("PreserveHost %v: X-Forwarded-Host = %q; want %q", tc.preserve, got, "app.example")
		}
		if got := s.Header.Get("X-Forwarded-For"); got != "127.0.0.1" {
			t.Errorf("PreserveHost %v: X-Forwarded-For = %q; want %q", tc.preserve, got, "127.0.0.1")
		}
	}
}

func TestProxyTrailers(t *testing.T) {
	type testCase struct {
		name     string
		announce string      // the upstream's Trailer header
		after    http.Header // set by the upstream after the body
		want     http.Header // the client's trailers
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			if tc.announce != "" {
				w.Header().Set("Trailer", tc.announce)
			}
			io.WriteString(w, "body")
			// Flushed, so that the upstream's own server sends a chunked
			// body: it cannot add unannounced trailers to a body of known
			// length.
			http.NewResponseController(w).Flush()
			for k, vs := range tc.after {
				w.Header()[k] = vs
			}
		})
		f := newFront(t, proxyTo(t, up.URL))
		req, _ := http.NewRequest("GET", f.URL, nil)
		res, body := roundTrip(t, f.Client(), req)
		if string(body) != "body" {
			t.Errorf("body = %q; want %q", body, "body")
		}
		checkHeader(t, "client trailer", res.Trailer, tc.want, nil)
		for k := range tc.want {
			if v, ok := res.Header[k]; ok {
				t.Errorf("client header %s = %q; want it only as a trailer", k, v)
			}
		}
	}

	for _, tc := range []testCase{{
		name:     "announced",
		announce: "X-Checksum, X-Count",
		after:    http.Header{"X-Checksum": {"abc"}, "X-Count": {"4"}},
		want:     http.Header{"X-Checksum": {"abc"}, "X-Count": {"4"}},
	}, {
		name:  "unannounced",
		after: http.Header{http.TrailerPrefix + "X-Late": {"late"}},
		want:  http.Header{"X-Late": {"late"}},
	}, {
		name:     "announced and unannounced",
		announce: "X-Checksum",
		after:    http.Header{"X-Checksum": {"abc"}, http.TrailerPrefix + "X-Late": {"late"}},
		want:     http.Header{"X-Checksum": {"abc"}, "X-Late": {"late"}},
	}} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyStreamsResponses(t *testing.T) {
	const first, second = "first\n", "second\n"
	type testCase struct {
		name          string
		contentType   string
		knownLength   bool // the upstream sends Content-Length
		flushInterval time.Duration
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		// The upstream sends the head, then each part only once the client
		// has what came before: a proxy that holds anything back stalls.
		next := make(chan struct{})
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", tc.contentType)
			if tc.knownLength {
				w.Header().Set("Content-Length", "13")
			}
			w.WriteHeader(http.StatusOK)
			rc := http.NewResponseController(w)
			rc.Flush()
			for _, part := range []string{first, second} {
				select {
				case <-next:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, part)
				rc.Flush()
			}
		})
		p := proxyTo(t, up.URL)
		p.FlushInterval = tc.flushInterval
		f := newFront(t, p)

		ctx := boundedContext(t)
		req, _ := http.NewRequestWithContext(ctx, "GET", f.URL, nil)
		res, err := f.Client().Do(req)
		if err != nil {
			t.Fatalf("GET: %v; want the head before any of the body", err)
		}
		defer res.Body.Close()
		next <- struct{}{}
		buf := make([]byte, len(first))
		if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != first {
			t.Fatalf("first part = %q, %v; want %q before the rest is sent", buf, err, first)
		}
		next <- struct{}{}
		rest, err := io.ReadAll(res.Body)
		if err != nil || string(rest) != second {
			t.Errorf("rest = %q, %v; want %q", rest, err, second)
		}
	}

	for _, tc := range []testCase{
		{name: "event stream of known length", contentType: "text/event-stream; charset=utf-8", knownLength: true},
		{name: "unknown length", contentType: "application/octet-stream"},
		{name: "negative FlushInterval", contentType: "application/json", knownLength: true, flushInterval: -1},
		{name: "positive FlushInterval", contentType: "application/json", knownLength: true, flushInterval: 5 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyForwards1xx(t *testing.T) {
	const css, js = "</style.css>; rel=preload; as=style", "</app.js>; rel=preload; as=script"
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Link", css)
		w.WriteHeader(http.StatusEarlyHints)
		h.Add("Link", js)
		w.WriteHeader(http.StatusEarlyHints)
		h.Del("Link")
		h.Set("X-Final", "yes")
		io.WriteString(w, "page")
	})
	p := proxyTo(t, up.URL)
	// A middleware in front of the proxy sets a header of its own.
	f := newFront(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "42")
		p.ServeHTTP(w, r)
	}))

	type hint struct {
		code int
		link []string
	}
	var hints []hint
	trace := &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, hint{code, h["Link"]})
			return nil
		},
	}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", f.URL, nil)
	res, body := roundTrip(t, f.Client(), req)

	want := []hint{{103, []string{css}}, {103, []string{css, js}}}
	if !reflect.DeepEqual(hints, want) {
		t.Errorf("1xx responses = %v; want %v", hints, want)
	}
	checkHeader(t, "final response", res.Header,
		http.Header{"X-Final": {"yes"}, "X-Request-Id": {"42"}},
		[]string{"Link"})
	if res.StatusCode != http.StatusOK || string(body) != "page" {
		t.Errorf("final response = %d %q; want 200 %q", res.StatusCode, body, "page")
	}
}

// cancelOn1xx is a ResponseWriter that cancels the request when the proxy
// forwards a 1xx response, and records when the header is touched after
// ServeHTTP returned.
type cancelOn1xx struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
}

func (w cancelOn1xx) WriteHeader(code int) {
	if code < 200 {
		w.cancel()
	}
	w.ResponseRecorder.WriteHeader(code)
}

func TestProxy1xxAfterRoundTripReturned(t *testing.T) {
	// The transport may report 1xx responses after RoundTrip has returned
	// (here, because the request was cancelled); the proxy must not touch
	// the ResponseWriter then. The race detector catches it.
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		for range 20 {
			w.Header().Set("Link", "</x.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
		}
	})
	p := proxyTo(t, up.URL)
	for range 30 {
		ctx, cancel := context.WithCancel(t.Context())
		w := cancelOn1xx{httptest.NewRecorder(), cancel}
		in := httptest.NewRequestWithContext(ctx, "GET", "http://front.example/", nil)
		p.ServeHTTP(w, in)
		for k := range w.Header() {
			w.Header().Del(k)
		}
		cancel()
	}
}

func TestProxyRequestBodies(t *testing.T) {
	f := newFront(t, proxyTo(t, newUpstream(t, echo).URL))
	rng := rand.New(rand.NewPCG(1, 2))
	payload := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}

	type testCase struct {
		name    string
		method  string
		body    []byte // nil: no body at all
		chunked bool   // hide the length, so it is sent chunked
		wantLen int64  // the Content-Length the upstream sees
		wantTE  []string
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		var body io.Reader
		switch {
		case tc.body == nil:
		case tc.chunked:
			body = io.MultiReader(bytes.NewReader(tc.body)) // length unknown
		case len(tc.body) == 0:
			body = http.NoBody
		default:
			body = bytes.NewReader(tc.body)
		}
		req, _ := http.NewRequest(tc.method, f.URL, body)
		s := seenBy(t, f.Client(), req)
		sum := sha256.Sum256(tc.body)
		if s.BodyLen != int64(len(tc.body)) || s.BodySHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("upstream body = %d bytes, sha256 %.12s; want %d bytes, sha256 %.12x", s.BodyLen, s.BodySHA256, len(tc.body), sum)
		}
		if s.ContentLength != tc.wantLen || !slices.Equal(s.TransferEncoding, tc.wantTE) {
			t.Errorf("upstream Content-Length, Transfer-Encoding = %d, %q; want %d, %q", s.ContentLength, s.TransferEncoding, tc.wantLen, tc.wantTE)
		}
		if s.Method != tc.method {
			t.Errorf("upstream method = %q; want %q", s.Method, tc.method)
		}
	}

	big := payload(1<<20 + 7)
	for _, tc := range []testCase{
		{name: "GET without body", method: "GET", body: nil, wantLen: 0},
		{name: "POST with ContentLength 0", method: "POST", body: []byte{}, wantLen: 0},
		{name: "POST of 1 MiB", method: "POST", body: big, wantLen: int64(len(big))},
		{name: "PUT of 3 MiB chunked", method: "PUT", body: payload(3 << 20), chunked: true, wantLen: -1, wantTE: []string{"chunked"}},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}

func TestProxyNilBody(t *testing.T) {
	// Requests built in code (tests, in-process callers) may have no Body
	// at all.
	p := proxyTo(t, newUpstream(t, echo).URL)
	in := httptest.NewRequest("POST", "http://front.example/", nil)
	in.Body = nil
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, in)
	var s seen
	if err := json.Unmarshal(rec.Body.Bytes(), &s); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("nil Body: status %d, body %q; want 200 and the upstream's report", rec.Code, rec.Body)
	}
	if s.BodyLen != 0 || s.ContentLength != 0 {
		t.Errorf("nil Body: upstream got %d bytes, Content-Length %d; want 0, 0", s.BodyLen, s.ContentLength)
	}
}

func TestProxyStreamsRequestBody(t *testing.T) {
	const first, rest = "hello", ", world"
	gotFirst := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, len(first))
		if _, err := io.ReadFull(r.Body, buf); err != nil || string(buf) != first {
			http.Error(w, "first part: "+err.Error(), http.StatusTeapot)
			return
		}
		close(gotFirst) // the client sends the rest only now
		more, _ := io.ReadAll(r.Body)
		io.WriteString(w, string(buf)+string(more))
	})
	f := newFront(t, proxyTo(t, up.URL))

	ctx := boundedContext(t)
	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(ctx, "POST", f.URL, pr)
	type result struct {
		res  *http.Response
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		res, err := f.Client().Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		done <- result{res, body, err}
	}()

	if _, err := io.WriteString(pw, first); err != nil {
		t.Fatal(err)
	}
	wait(t, ctx, gotFirst, "the upstream to read the first part while the client still sends")
	io.WriteString(pw, rest)
	pw.Close()
	r := wait(t, ctx, done, "the response")
	if r.err != nil || string(r.body) != first+rest {
		t.Errorf("response = %q, %v; want %q", r.body, r.err, first+rest)
	}
}

func TestProxyUpstreamHangsUp(t *testing.T) {
	p := proxyTo(t, newUpstream(t, hangUp).URL)
	f := newFront(t, p)
	req, _ := http.NewRequest("GET", f.URL, nil)
	res, body := roundTrip(t, f.Client(), req)
	checkErrorBody(t, res, body, http.StatusBadGateway, "bad_gateway")
}

func TestProxyTruncatedResponseAbortsClient(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string // what the upstream sends before closing
	}{
		{"shorter than Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
		{"chunked without its last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				c, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					panic(err)
				}
				io.WriteString(c, tc.raw)
				c.Close()
			})
			f := newFront(t, proxyTo(t, up.URL))
			req, _ := http.NewRequestWithContext(boundedContext(t), "GET", f.URL, nil)
			res, err := f.Client().Do(req)
			if err != nil {
				return // aborted before the head: the client knows too
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("reading body = %q, %v; want %v", body, err, io.ErrUnexpectedEOF)
			}
		})
	}
}

func TestProxyClientCancelReachesUpstream(t *testing.T) {
	started, upstreamSaw := make(chan struct{}), make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		close(upstreamSaw)
	})
	p := proxyTo(t, up.URL)
	f := newFront(t, p)

	bound := boundedContext(t)
	ctx, cancel := context.WithCancel(bound)
	req, _ := http.NewRequestWithContext(ctx, "GET", f.URL, nil)
	errc := make(chan error, 1)
	go func() {
		res, err := f.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	wait(t, bound, started, "the upstream to get the request")
	cancel()
	wait(t, bound, upstreamSaw, "the upstream to see the cancellation")
	if err := wait(t, bound, errc, "the client"); !errors.Is(err, context.Canceled) {
		t.Errorf("client error = %v; want %v", err, context.Canceled)
	}
	f.waitServed(t, 1)
	u := p.Upstreams.All()[0]
	if r, fl, in := u.Requests(), u.Failures(), u.Inflight(); r != 1 || fl != 0 || in != 0 {
		t.Errorf("Requests, Failures, Inflight = %d, %d, %d; want 1, 0, 0", r, fl, in)
	}
}

func TestProxyExpectContinueToUnreachableUpstream(t *testing.T) {
	p := proxyTo(t, "http://"+closedPort(t))
	f := newFront(t, p)

	ctx := boundedContext(t)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", f.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // a hang fails instead of blocking
	defer stop()

	// The client sends the head and waits for 100 Continue before the body.
	io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: front.example\r\n"+
		"Content-Type: application/json\r\nContent-Length: 16\r\nExpect: 100-continue\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading response: %v (ctx %v)", err, ctx.Err())
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	checkErrorBody(t, res, body, http.StatusBadGateway, "bad_gateway")
}

func TestProxyRewrite(t *testing.T) {
	p := proxyTo(t, newUpstream(t, echo).URL+"/base")
	var sawIn string
	p.Rewrite = func(pr *gateway.ProxyRequest) {
		sawIn = pr.In.URL.Path
		if pr.Upstream == nil || pr.Upstream != p.Upstreams.All()[0] {
			t.Errorf("ProxyRequest.Upstream = %v; want the pool's upstream", pr.Upstream)
		}
		pr.Out.URL.Path = "/rewritten" + pr.Out.URL.Path
		pr.Out.Header.Set("X-Added", "by rewrite")
		pr.Out.Header.Del("X-Forwarded-For") // a rewrite may drop it
		pr.Out.Host = "inner.example"
	}
	f := newFront(t, p)
	req, _ := http.NewRequest("GET", f.URL+"/users", nil)
	s := seenBy(t, f.Client(), req)

	if sawIn != "/users" {
		t.Errorf("ProxyRequest.In.URL.Path = %q; want %q", sawIn, "/users")
	}
	if s.Path != "/rewritten/base/users" {
		t.Errorf("upstream path = %q; want %q", s.Path, "/rewritten/base/users")
	}
	if s.Host != "inner.example" {
		t.Errorf("upstream Host = %q; want %q", s.Host, "inner.example")
	}
	checkHeader(t, "upstream", s.Header, http.Header{"X-Added": {"by rewrite"}}, []string{"X-Forwarded-For"})
}

func TestProxyModifyResponse(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "1")
		w.Header().Set("X-Internal", "secret")
		io.WriteString(w, "upstream body")
	})
	for _, tc := range []struct {
		name       string
		modify     func(*http.Response) error
		wantStatus int
		wantBody   string // "" for the JSON error
		want       http.Header
		absent     []string
	}{{
		name: "changes the response",
		modify: func(res *http.Response) error {
			if _, ok := res.Header["X-Hop"]; ok {
				return errors.New("hop-by-hop header still present")
			}
			res.Header.Del("X-Internal")
			res.Header.Set("X-Modified", "yes")
			return nil
		},
		wantStatus: http.StatusOK,
		wantBody:   "upstream body",
		want:       http.Header{"X-Modified": {"yes"}},
		absent:     []string{"X-Internal"},
	}, {
		name:       "error gives 502",
		modify:     func(*http.Response) error { return errors.New("refused by policy") },
		wantStatus: http.StatusBadGateway,
		absent:     []string{"X-Internal"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p := proxyTo(t, up.URL)
			p.ModifyResponse = tc.modify
			f := newFront(t, p)
			req, _ := http.NewRequest("GET", f.URL, nil)
			res, body := roundTrip(t, f.Client(), req)
			if tc.wantBody == "" {
				checkErrorBody(t, res, body, tc.wantStatus, "bad_gateway")
			} else if res.StatusCode != tc.wantStatus || string(body) != tc.wantBody {
				t.Errorf("response = %d %q; want %d %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			checkHeader(t, "client", res.Header, tc.want, tc.absent)
		})
	}
}

func TestProxyErrorHandler(t *testing.T) {
	p := proxyTo(t, "http://"+closedPort(t))
	errc := make(chan error, 1)
	p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		errc <- err
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "custom")
	}
	f := newFront(t, p)
	req, _ := http.NewRequest("GET", f.URL, nil)
	res, body := roundTrip(t, f.Client(), req)
	if res.StatusCode != http.StatusTeapot || string(body) != "custom" {
		t.Errorf("response = %d %q; want %d %q", res.StatusCode, body, http.StatusTeapot, "custom")
	}
	select {
	case err := <-errc:
		if !errors.Is(err, gateway.ErrUpstreamConnection) {
			t.Errorf("ErrorHandler got %v; want an error wrapping %v", err, gateway.ErrUpstreamConnection)
		}
	default:
		t.Errorf("ErrorHandler not called")
	}
}

func TestProxyRecordsOutcomes(t *testing.T) {
	holding := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, "ok")
		case "/missing":
			http.NotFound(w, r)
		case "/unavailable":
			http.Error(w, "down", http.StatusServiceUnavailable)
		case "/hangup":
			hangUp(w, r)
		case "/hold":
			holding <- struct{}{}
			<-r.Context().Done()
		case "/partial":
			io.WriteString(w, "part")
			http.NewResponseController(w).Flush()
			holding <- struct{}{}
			<-r.Context().Done()
		}
	})
	p := proxyTo(t, up.URL)
	f := newFront(t, p)
	u := p.Upstreams.All()[0]

	type step struct {
		path         string
		cancel       bool // the client gives up while the upstream holds
		midBody      bool // and after it got the head
		wantStatus   int  // 0: no response
		wantRequests uint64
		wantFailures uint64
	}
	do := func(t *testing.T, s step) {
		t.Helper()
		bound := boundedContext(t)
		ctx, cancel := context.WithCancel(bound)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", f.URL+s.path, nil)
		statusc, done := make(chan int, 1), make(chan struct{})
		go func() {
			defer close(done)
			res, err := f.Client().Do(req)
			if err != nil {
				statusc <- 0
				return
			}
			statusc <- res.StatusCode
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}()
		if s.cancel {
			wait(t, bound, holding, "the upstream to hold the request")
			if in := u.Inflight(); in != 1 {
				t.Errorf("%s: Inflight while the upstream holds = %d; want 1", s.path, in)
			}
			if !s.midBody {
				cancel()
			}
		}
		if got := wait(t, bound, statusc, "the response"); got != s.wantStatus {
			t.Errorf("%s: status = %d; want %d", s.path, got, s.wantStatus)
		}
		if s.midBody {
			cancel()
		}
		wait(t, bound, done, "the client to finish")
		f.waitServed(t, 1)
		if r, fl, in := u.Requests(), u.Failures(), u.Inflight(); r != s.wantRequests || fl != s.wantFailures || in != 0 {
			t.Errorf("after %s: Requests, Failures, Inflight = %d, %d, %d; want %d, %d, 0",
				s.path, r, fl, in, s.wantRequests, s.wantFailures)
		}
	}

	for _, s := range []step{
		{path: "/ok", wantStatus: 200, wantRequests: 1, wantFailures: 0},
		{path: "/missing", wantStatus: 404, wantRequests: 2, wantFailures: 0},
		{path: "/unavailable", wantStatus: 503, wantRequests: 3, wantFailures: 1},
		{path: "/hangup", wantStatus: 502, wantRequests: 4, wantFailures: 2},
		{path: "/hold", cancel: true, wantStatus: 0, wantRequests: 5, wantFailures: 2},
		{path: "/ok", wantStatus: 200, wantRequests: 6, wantFailures: 2},
		{path: "/partial", cancel: true, midBody: true, wantStatus: 200, wantRequests: 7, wantFailures: 2},
	} {
		do(t, s)
	}
}

// TestProxyRequestsShareNothing sends requests with different headers,
// paths and queries one after another, and in parallel, and checks that
// each reaches the upstream exactly as its own: the parts of the outbound
// request that the Proxy reuses carry nothing over.
func TestProxyRequestsShareNothing(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.RequestURI())
		keys := slices.Sorted(maps.Keys(r.Header))
		for _, k := range keys {
			if k == "Accept-Encoding" || k == "X-Forwarded-For" {
				continue // the client's transport and address, not the test's
			}
			fmt.Fprintf(&b, "%s: %q\n", k, r.Header[k])
		}
		io.WriteString(w, b.String())
	})
	f := newFront(t, proxyTo(t, up.URL))
	client := f.Client()

	type step struct {
		path   string
		header http.Header
		want   string
	}
	steps := []step{
		{"/a?x=1", http.Header{"X-One": {"1", "2"}, "User-Agent": {"ua"}},
			"GET /a?x=1\nUser-Agent: [\"ua\"]\nX-Forwarded-Host: [HOST]\nX-Forwarded-Proto: [\"http\"]\nX-One: [\"1\" \"2\"]\n"},
		{"/b", http.Header{"X-Two": {"2"}},
			"GET /b\nX-Forwarded-Host: [HOST]\nX-Forwarded-Proto: [\"http\"]\nX-Two: [\"2\"]\n"},
		{"/c/d?y=2&y=3", nil,
			"GET /c/d?y=2&y=3\nX-Forwarded-Host: [HOST]\nX-Forwarded-Proto: [\"http\"]\n"},
	}
	host := strconv.Quote(strings.TrimPrefix(f.URL, "http://"))
	do := func(s step) error {
		req, _ := http.NewRequestWithContext(boundedContext(t), "GET", f.URL+s.path, nil)
		maps.Copy(req.Header, s.header)
		if req.Header.Get("User-Agent") == "" {
			req.Header["User-Agent"] = nil // none at all
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		if want := strings.ReplaceAll(s.want, "[HOST]", "["+host+"]"); string(body) != want {
			return fmt.Errorf("upstream saw\n%s\nwant\n%s", body, want)
		}
		return nil
	}
	for range 3 {
		for _, s := range steps {
			if err := do(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	errs := make(chan error, 30)
	for i := range 30 {
		go func() { errs <- do(steps[i%len(steps)]) }()
	}
	for range 30 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestProxyCallerTrace attaches an httptrace.ClientTrace to the first of
// several requests, as a middleware that observes upstream calls does: its
// hooks see that request's upstream call, and no later request's.
func TestProxyCallerTrace(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	p := proxyTo(t, up.URL)
	var wrote int
	for i := range 5 {
		r := httptest.NewRequest("GET", "/", nil)
		if i == 0 {
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote++ }}
			r = r.WithContext(httptrace.WithClientTrace(r.Context(), trace))
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: Status = %d; want 200", i, rec.Code)
		}
	}
	if wrote != 1 {
		t.Errorf("the first request's WroteRequest ran %d times over 5 requests; want 1", wrote)
	}
}

// countingListener counts the writes on the connections it accepts.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.writes}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// TestProxyOneWritePerResponse checks that a response with a small body
// reaches the client in one write, head and body together. (The request's
// one write to the upstream is internal/h1's to test.)
func TestProxyOneWritePerResponse(t *testing.T) {
	body := strings.Repeat("x", 1024)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })

	frontLn := &countingListener{Listener: mustListen(t)}
	front := httptest.NewUnstartedServer(proxyTo(t, up.URL))
	front.Listener = frontLn
	front.Start()
	t.Cleanup(front.Close)

	// A raw client, so that what is read is exactly what the front wrote.
	c, err := net.Dial("tcp", front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := range 3 {
		before := frontLn.writes.Load()
		io.WriteString(c, "GET /x HTTP/1.1\r\nHost: gw.test\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		if string(got) != body {
			t.Fatalf("request %d: body of %d bytes; want %d", i, len(got), len(body))
		}
		if n := frontLn.writes.Load() - before; n != 1 {
			t.Errorf("request %d: the gateway wrote the response in %d writes; want 1", i, n)
		}
	}
}

func mustListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
