package h1

import (
	"io"
	"net/http"
	"testing"
)

// FuzzReadResponse feeds arbitrary bytes, as a server's answer to a GET (or
// a HEAD), through the head parser and the body decoders. It must not panic
// or hang, and must never return more body bytes than the framing allows.
func FuzzReadResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, resp []byte, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		tr, conns := scriptTransport(resp)
		res, err := tr.RoundTrip(mustReq(t, method, "http://origin.test/", nil))
		if err != nil {
			if c := (*conns)[0]; !c.closed {
				t.Fatalf("conn left open after %v", err)
			}
			return
		}
		if res.StatusCode < 100 || res.StatusCode > 999 || res.Header == nil {
			t.Fatalf("status %d, header %v", res.StatusCode, res.Header)
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, int64(len(resp))+1))
		res.Body.Close()
		if len(b) > len(resp) {
			t.Fatalf("body of %d bytes from an answer of %d", len(b), len(resp))
		}
		if res.StatusCode == http.StatusSwitchingProtocols {
			return
		}
		noBody := head || res.StatusCode < 200 || res.StatusCode == 204 || res.StatusCode == 304
		switch {
		case noBody && len(b) > 0:
			t.Fatalf("%d bytes of body for a response that has none", len(b))
		case noBody:
		case res.ContentLength >= 0 && int64(len(b)) > res.ContentLength:
			t.Fatalf("body of %d bytes; Content-Length %d", len(b), res.ContentLength)
		case res.ContentLength >= 0 && err == nil && int64(len(b)) != res.ContentLength:
			t.Fatalf("clean end after %d bytes; Content-Length %d", len(b), res.ContentLength)
		}
	})
}
