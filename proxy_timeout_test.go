package gateway_test

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/vivremotion/gateway"
)

// Conformance tests of the Proxy's time limits on upstreams that stall.
// The limits are tens of milliseconds; the upstreams wait for the proxy to
// give up (their request context ends when it drops the connection).

// stall is an upstream handler that never answers.
func stall(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// stallMidBody is an upstream handler that sends the head and part of the
// body, then stalls. knownLength announces a longer body than it sends.
func stallMidBody(knownLength bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if knownLength {
			w.Header().Set("Content-Length", "100")
		}
		io.WriteString(w, "part")
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}
}

func TestProxyTimeouts(t *testing.T) {
	type testCase struct {
		name      string
		configure func(*gateway.Proxy)
		upstream  http.HandlerFunc
		// wantAbort: the client connection is broken (before or after the
		// head) instead of getting a 504.
		wantAbort bool
		// wantHead: the aborted response's head reached the client first.
		wantHead bool
	}
	run := func(t *testing.T, tc testCase) {
		t.Helper()
		p := proxyTo(t, newUpstream(t, tc.upstream).URL)
		tc.configure(p)
		f := newFront(t, p)
		req, _ := http.NewRequestWithContext(boundedContext(t), "GET", f.URL, nil)

		if !tc.wantAbort {
			res, body := roundTrip(t, f.Client(), req)
			checkErrorBody(t, res, body, http.StatusGatewayTimeout, "upstream_timeout")
		} else {
			res, err := f.Client().Do(req)
			switch {
			case err != nil && tc.wantHead:
				t.Fatalf("GET: %v; want the head, then a broken body", err)
			case err == nil:
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("reading body = %q, %v; want %v", body, err, io.ErrUnexpectedEOF)
				}
			}
		}

		f.waitServed(t, 1)
		u := p.Upstreams.All()[0]
		if r, fl, in := u.Requests(), u.Failures(), u.Inflight(); r != 1 || fl != 1 || in != 0 {
			t.Errorf("Requests, Failures, Inflight = %d, %d, %d; want 1, 1, 0", r, fl, in)
		}
	}

	const limit = 20 * time.Millisecond
	for _, tc := range []testCase{{
		name:      "ResponseHeaderTimeout",
		configure: func(p *gateway.Proxy) { p.ResponseHeaderTimeout = limit },
		upstream:  stall,
	}, {
		name:      "Timeout before the head",
		configure: func(p *gateway.Proxy) { p.Timeout = limit },
		upstream:  stall,
	}, {
		name:      "Timeout in a streamed body",
		configure: func(p *gateway.Proxy) { p.Timeout = 2 * limit },
		upstream:  stallMidBody(false),
		wantAbort: true,
		wantHead:  true,
	}, {
		name:      "Timeout in a body of known length",
		configure: func(p *gateway.Proxy) { p.Timeout = 2 * limit },
		upstream:  stallMidBody(true),
		wantAbort: true,
	}} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc) })
	}
}
