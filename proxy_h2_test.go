package gateway_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
)

// watchdog bounds how long an HTTP/2 test may wait for the network. A test
// that hits it has found a hang (a response head or body held back), and it
// fails instead of blocking the whole run.
const watchdog = 10 * time.Second

// discardLog keeps the expected failures of a test out of its output.
var discardLog = slog.New(slog.DiscardHandler)

// serveH2C serves h on a loopback listener that speaks HTTP/1.1 and HTTP/2
// without TLS (prior knowledge), and returns its address. The server is
// closed when the test ends.
func serveH2C(t *testing.T, h http.Handler) string {
	t.Helper()
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	return serveLoopback(t, &http.Server{Handler: h, Protocols: &protos})
}

// serveLoopback runs srv on a loopback listener until the test ends, and
// returns its address.
func serveLoopback(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// h2cClient returns a client that speaks only HTTP/2 without TLS.
func h2cClient(t *testing.T) *http.Client {
	t.Helper()
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protos}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// The two ways a client reaches the gateway over HTTP/2.
const (
	frontH2C = "h2c"
	frontTLS = "h2 over TLS"
)

// serveGateway serves p the way front says and returns the gateway's base
// URL and a client that speaks HTTP/2 to it.
func serveGateway(t *testing.T, p *gateway.Proxy, front string) (string, *http.Client) {
	t.Helper()
	t.Cleanup(p.CloseIdleConnections)
	switch front {
	case frontH2C:
		return "http://" + serveH2C(t, p), h2cClient(t)
	case frontTLS:
		srv := httptest.NewUnstartedServer(p)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL, srv.Client()
	}
	t.Fatalf("unknown front %q", front)
	return "", nil
}

// h2Upstream returns a Proxy that forwards to the h2c upstream serving h.
func h2Upstream(t *testing.T, h http.Handler) *gateway.Proxy {
	t.Helper()
	return &gateway.Proxy{Upstreams: balancer.MustPool("h2c://" + serveH2C(t, h))}
}

// TestProxyH2TLSUpstream shows that the default transport speaks HTTP/2 to
// an https:// upstream chosen by ALPN, request bodies included, and that
// TLSClientConfig is how a private root and a client certificate reach it.
func TestProxyH2TLSUpstream(t *testing.T) {
	protoSeen := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream-Proto", r.Proto)
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, "hello "+string(b))
	}
	plain := httptest.NewUnstartedServer(http.HandlerFunc(protoSeen))
	plain.EnableHTTP2 = true
	plain.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	plain.StartTLS()
	t.Cleanup(plain.Close)

	mtls := httptest.NewUnstartedServer(http.HandlerFunc(protoSeen))
	mtls.EnableHTTP2 = true
	mtls.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	mtls.Config.ErrorLog = log.New(io.Discard, "", 0)
	mtls.StartTLS()
	t.Cleanup(mtls.Close)

	roots := x509.NewCertPool()
	roots.AddCert(plain.Certificate()) // both servers share httptest's certificate
	// Any certificate with its key serves as the client's, since the
	// upstream requires one but does not verify it.
	clientCert := mtls.TLS.Certificates[0]

	tests := []struct {
		name       string
		upstream   string
		config     *tls.Config
		wantStatus int
		wantProto  string
	}{
		{"system roots reject a private CA", plain.URL, nil, http.StatusBadGateway, ""},
		{"private root", plain.URL, &tls.Config{RootCAs: roots}, http.StatusOK, "HTTP/2.0"},
		{"mutual TLS without a client certificate", mtls.URL, &tls.Config{RootCAs: roots}, http.StatusBadGateway, ""},
		{"mutual TLS", mtls.URL, &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{clientCert}}, http.StatusOK, "HTTP/2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &gateway.Proxy{
				Upstreams:       balancer.MustPool(tt.upstream),
				TLSClientConfig: tt.config,
				Logger:          discardLog,
			}
			t.Cleanup(p.CloseIdleConnections)
			// Twice with a body: the first request learns, in the
			// handshake, that the upstream speaks HTTP/2; the second knows
			// it before dialing. Both reach it with their body whole.
			for i := range 2 {
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader("payload")))
				if rec.Code != tt.wantStatus {
					t.Fatalf("request %d: Status = %d; want %d (body %q)", i, rec.Code, tt.wantStatus, rec.Body)
				}
				if got := rec.Header().Get("X-Upstream-Proto"); got != tt.wantProto {
					t.Errorf("request %d: upstream saw %q; want %q", i, got, tt.wantProto)
				}
				if tt.wantStatus == http.StatusOK && rec.Body.String() != "hello payload" {
					t.Errorf("request %d: body %q; want %q", i, rec.Body, "hello payload")
				}
			}
			if tt.config != nil && tt.config.NextProtos != nil {
				t.Errorf("TLSClientConfig.NextProtos = %q; want it untouched (nil)", tt.config.NextProtos)
			}
		})
	}
}

// TestProxyH2CUpstream shows that an h2c:// upstream gets HTTP/2 by prior
// knowledge from the default transport, while http:// to the same server
// stays HTTP/1.1.
func TestProxyH2CUpstream(t *testing.T) {
	addr := serveH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream-Proto", r.Proto)
	}))
	tests := []struct {
		scheme string
		want   string
	}{
		{"h2c", "HTTP/2.0"},
		{"http", "HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			p := &gateway.Proxy{Upstreams: balancer.MustPool(tt.scheme + "://" + addr)}
			t.Cleanup(p.CloseIdleConnections)
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("Status = %d; want %d", rec.Code, http.StatusOK)
			}
			if got := rec.Header().Get("X-Upstream-Proto"); got != tt.want {
				t.Errorf("upstream saw %s; want %s", got, tt.want)
			}
		})
	}
}

// echoStream is an upstream handler that sends its response head at once
// and then echoes each piece of the request body as it arrives.
func echoStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if r.ProtoMajor == 1 {
		// HTTP/2 is full duplex by nature; HTTP/1 must ask for it.
		if err := rc.EnableFullDuplex(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("X-Upstream-Proto", r.Proto)
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	buf := make([]byte, 1024)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// duplexEcho POSTs to url through client with a body left open, checks
// that a 200 comes back over HTTP/2 from an upstream that HTTP/2 reached,
// then sends each message and reads its echo before sending the next, and
// ends the body. It returns the response, its body read to the end. The
// client waits for the response head before it sends anything, so a proxy
// that holds back the head of a streamed response (or buffers its body)
// makes it fail.
func duplexEcho(t *testing.T, client *http.Client, url string, messages []string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), watchdog)
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequestWithContext(ctx, "POST", url, pr)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("Do: %v (the response head did not come before the request body)", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK || res.ProtoMajor != 2 {
		t.Fatalf("got %d over %s; want 200 over HTTP/2.0", res.StatusCode, res.Proto)
	}
	if got := res.Header.Get("X-Upstream-Proto"); got != "HTTP/2.0" {
		t.Fatalf("upstream saw %s; want HTTP/2.0", got)
	}
	for i, msg := range messages {
		if _, err := io.WriteString(pw, msg); err != nil {
			t.Fatalf("message %d: write: %v", i, err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(res.Body, got); err != nil {
			t.Fatalf("message %d: read echo: %v", i, err)
		}
		if string(got) != msg {
			t.Fatalf("message %d: echo = %.20q; want %.20q", i, got, msg)
		}
	}
	pw.Close()
	if rest, err := io.ReadAll(res.Body); err != nil || len(rest) != 0 {
		t.Fatalf("after the request body ended: read %q, %v; want end of body", rest, err)
	}
	return res
}

// TestProxyH2FullDuplex sends messages on an open request body and reads
// each echo from the open response body before sending the next, with
// HTTP/2 on both sides of the gateway. The client waits for the response
// head before it sends anything, so a proxy that holds back the head of a
// streamed response (or buffers its body) makes the test fail.
func TestProxyH2FullDuplex(t *testing.T) {
	messages := []string{"one", "two two", "three three three", strings.Repeat("x", 5000), "last"}
	for _, front := range []string{frontH2C, frontTLS} {
		t.Run(front, func(t *testing.T) {
			p := h2Upstream(t, http.HandlerFunc(echoStream))
			base, client := serveGateway(t, p, front)
			duplexEcho(t, client, base+"/echo", messages)
		})
	}
}

// TestProxyH2Trailers shows that trailers cross the gateway over HTTP/2,
// whether the upstream announced them in a Trailer header or not.
func TestProxyH2Trailers(t *testing.T) {
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "want HTTP/2, got "+r.Proto, http.StatusHTTPVersionNotSupported)
			return
		}
		if r.URL.Query().Has("announce") {
			w.Header().Set("Trailer", "X-Checksum, X-Count")
		}
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "body")
		http.NewResponseController(w).Flush()
		io.WriteString(w, " and more")
		if r.URL.Query().Has("announce") {
			w.Header().Set("X-Checksum", "abc123")
			w.Header().Set("X-Count", "2")
		} else {
			w.Header().Set(http.TrailerPrefix+"X-Checksum", "abc123")
			w.Header().Set(http.TrailerPrefix+"X-Count", "2")
		}
	})
	tests := []struct {
		name, query string
	}{
		{"announced", "?announce=1"},
		{"unannounced", ""},
	}
	for _, front := range []string{frontH2C, frontTLS} {
		for _, tt := range tests {
			t.Run(front+"/"+tt.name, func(t *testing.T) {
				p := h2Upstream(t, upstream)
				base, client := serveGateway(t, p, front)
				ctx, cancel := context.WithTimeout(t.Context(), watchdog)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/"+tt.query, nil)
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != http.StatusOK || string(body) != "body and more" {
					t.Fatalf("Status = %d, body %q; want %d, %q", res.StatusCode, body, http.StatusOK, "body and more")
				}
				for k, want := range map[string]string{"X-Checksum": "abc123", "X-Count": "2"} {
					if got := res.Trailer.Get(k); got != want {
						t.Errorf("Trailer %s = %q; want %q (trailers %v)", k, got, want, res.Trailer)
					}
					if got := res.Header.Get(k); got != "" {
						t.Errorf("Header %s = %q; want it only as a trailer", k, got)
					}
				}
			})
		}
	}
}

// TestProxyH2RequestTrailers shows that trailers the client sends after
// its request body reach the upstream, with HTTP/2 on both sides.
func TestProxyH2RequestTrailers(t *testing.T) {
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// r.Trailer is complete once the body has been read to its end.
		w.Header().Set("X-Got-Body", string(body))
		w.Header().Set("X-Got-Trailer", r.Trailer.Get("X-Body-Sum"))
	})
	for _, front := range []string{frontH2C, frontTLS} {
		t.Run(front, func(t *testing.T) {
			p := h2Upstream(t, upstream)
			base, client := serveGateway(t, p, front)
			ctx, cancel := context.WithTimeout(t.Context(), watchdog)
			defer cancel()

			pr, pw := io.Pipe()
			req, _ := http.NewRequestWithContext(ctx, "POST", base+"/", pr)
			req.Trailer = http.Header{"X-Body-Sum": nil} // announced now, set after the body
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				io.WriteString(pw, "payload")
				req.Trailer.Set("X-Body-Sum", "sum-7")
				pw.Close()
			}()
			res, err := client.Do(req)
			<-sent
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("Status = %d; want %d", res.StatusCode, http.StatusOK)
			}
			if got := res.Header.Get("X-Got-Body"); got != "payload" {
				t.Errorf("upstream got body %q; want %q", got, "payload")
			}
			if got := res.Header.Get("X-Got-Trailer"); got != "sum-7" {
				t.Errorf("upstream got trailer X-Body-Sum = %q; want %q", got, "sum-7")
			}
		})
	}
}

// TestProxyH2RequestBodyEndsEarly shows that when the upstream answers
// without reading the whole request body, the client still gets the
// answer over HTTP/2 and the gateway does not hang on the unread body.
func TestProxyH2RequestBodyEndsEarly(t *testing.T) {
	p := h2Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not reading that", http.StatusRequestEntityTooLarge)
	}))
	base, client := serveGateway(t, p, frontH2C)
	ctx, cancel := context.WithTimeout(t.Context(), watchdog)
	defer cancel()
	pr, pw := io.Pipe()
	sent := make(chan struct{})
	defer func() {
		pw.Close()
		<-sent
	}()
	go func() {
		defer close(sent)
		// Keeps sending until the body is closed at either end.
		chunk := bytes.Repeat([]byte("y"), 4096)
		for {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
	}()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/", pr)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("Status = %d; want %d", res.StatusCode, http.StatusRequestEntityTooLarge)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("watchdog fired")
	}
}
