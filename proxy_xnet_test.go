package gateway_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
)

// serveXNetH2C serves h with golang.org/x/net/http2's own server behind
// its h2c handler (prior knowledge and the HTTP/1.1 Upgrade both), and
// returns its address.
func serveXNetH2C(t *testing.T, h http.Handler) string {
	t.Helper()
	return serveLoopback(t, &http.Server{Handler: h2c.NewHandler(h, &http2.Server{})})
}

// xnetH2CClient returns a client built on golang.org/x/net/http2's
// Transport that speaks HTTP/2 without TLS.
func xnetH2CClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestProxyXNetHTTP2 runs the full-duplex stream and trailers with
// golang.org/x/net/http2 on both ends: its h2c server as the upstream and
// its Transport as the client, so that the gateway is checked against an
// HTTP/2 implementation other than the one inside net/http.
func TestProxyXNetHTTP2(t *testing.T) {
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "want HTTP/2, got "+r.Proto, http.StatusHTTPVersionNotSupported)
			return
		}
		w.Header().Set("Trailer", "X-Sum")
		echoStream(w, r)
		w.Header().Set("X-Sum", "done")
	})
	p := &gateway.Proxy{Upstreams: balancer.MustPool("h2c://" + serveXNetH2C(t, upstream))}
	base, _ := serveGateway(t, p, frontH2C)
	client := xnetH2CClient(t)

	res := duplexEcho(t, client, base+"/echo", []string{"ping", strings.Repeat("y", 20000), "pong"})
	if got := res.Trailer.Get("X-Sum"); got != "done" {
		t.Fatalf("Trailer X-Sum = %q; want %q (trailers %v)", got, "done", res.Trailer)
	}
}
