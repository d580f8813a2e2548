package auth_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/balancer"
)

// frontGateway serves the Middleware (Optional, X-User-Id from the
// subject, an Authenticator that vouches for "alice" when Authorization is
// present) in front of a gateway.Proxy to an upstream that answers with
// what it saw of X-User-Id in its headers and in its trailers (in any
// spelling). It returns the
// front server's address.
func frontGateway(t *testing.T) string {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		trailer := ""
		for k, vs := range r.Trailer { // any spelling of X-User-Id
			if strings.EqualFold(strings.ReplaceAll(k, "_", "-"), "X-User-Id") {
				trailer += strings.Join(vs, ",")
			}
		}
		fmt.Fprintf(w, "header=%q trailer=%q", r.Header.Get("X-User-Id"), trailer)
	}))
	t.Cleanup(up.Close)
	mw, err := auth.NewMiddleware(auth.Middleware{
		Authenticators: []auth.Authenticator{aliceIfAuthorized{}},
		Optional:       true,
		Forward:        auth.ForwardHeaders{"X-User-Id": "sub"},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &gateway.Proxy{Upstreams: balancer.MustPool(up.URL), Timeout: 5 * time.Second}
	front := httptest.NewServer(mw(p))
	t.Cleanup(front.Close)
	t.Cleanup(p.CloseIdleConnections)
	return front.Listener.Addr().String()
}

type aliceIfAuthorized struct{}

func (aliceIfAuthorized) Authenticate(r *http.Request) (*auth.Principal, error) {
	if r.Header.Get("Authorization") == "" {
		return nil, auth.ErrNoCredentials
	}
	return &auth.Principal{Subject: "alice", Method: "test"}, nil
}

// rawRequest sends req as it is to addr and returns the response body.
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestForwardHeadersTrailerSpoof: a forwarded header sent as a request
// trailer, declared or not, in any spelling, does not reach the upstream
// through the Proxy.
func TestForwardHeadersTrailerSpoof(t *testing.T) {
	addr := frontGateway(t)
	const head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	for _, tc := range []struct{ name, auth, trailerHeader, trailer, want string }{
		{"declared", "", "Trailer: X-User-Id\r\n", "X-User-Id: admin", `header="" trailer=""`},
		{"declared, authenticated", "Authorization: Bearer t\r\n", "Trailer: X-User-Id\r\n", "X-User-Id: admin", `header="alice" trailer=""`},
		{"other name declared", "", "Trailer: X-Foo\r\n", "X-User-Id: admin", `header="" trailer=""`},
		{"underscore spelling", "", "Trailer: X_User_Id\r\n", "x_user_id: admin", `header="" trailer=""`},
		{"not declared", "", "", "X-User-Id: admin", `header="" trailer=""`},
	} {
		got := rawRequest(t, addr, head+tc.auth+tc.trailerHeader+"\r\n1\r\na\r\n0\r\n"+tc.trailer+"\r\n\r\n")
		if got != tc.want {
			t.Errorf("%s: upstream saw %s; want %s", tc.name, got, tc.want)
		}
	}
}

// TestForwardHeadersConnectionToken: a client that names a forwarded
// header in Connection cannot make the Proxy drop the header the
// Middleware set, and its other Connection tokens are kept.
func TestForwardHeadersConnectionToken(t *testing.T) {
	addr := frontGateway(t)
	for _, conn := range []string{"X-User-Id", "keep-alive, x_user_id", "keep-alive,X-USER-ID , close"} {
		got := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nConnection: "+conn+"\r\n\r\n")
		if want := `header="alice" trailer=""`; got != want {
			t.Errorf("Connection: %s: upstream saw %s; want %s", conn, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["Connection"] = []string{"keep-alive, X-User-Id", "x_user_id", "close,X-Tenant"}
	h := upstreamHeaders(t, static{p: &auth.Principal{Subject: "bob", Tenant: "acme"}}, false, r)
	if got, want := strings.Join(h["Connection"], " | "), "keep-alive | close"; got != want {
		t.Errorf("Connection after the Middleware = %q; want %q", got, want)
	}
	if h.Get("X-User-Id") != "bob" || h.Get("X-Tenant") != "acme" {
		t.Errorf("X-User-Id, X-Tenant = %q, %q; want bob, acme", h.Get("X-User-Id"), h.Get("X-Tenant"))
	}
}
