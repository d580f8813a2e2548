package h1

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// responseCase is one server answer and what RoundTrip must make of it.
type responseCase struct {
	name    string
	method  string // default GET
	resp    string
	code    int
	status  string
	header  http.Header // fields that must be present, exactly
	absent  []string    // fields that must not be present
	body    string
	bodyErr error // from reading the body; nil means none
	clen    int64
	te      []string
	close   bool
	trailer http.Header
	err     string // substring of RoundTrip's error; "" means success
	reuse   bool   // the conn goes back to the pool after the body
}

func TestReadResponse(t *testing.T) {
	cases := []responseCase{
		{name: "content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
			code: 200, status: "200 OK", header: http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}},
			body: "hello", clen: 5, reuse: true},
		{name: "lower-case names are canonicalized", resp: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-custom-thing:  a b \r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nok",
			code: 200, status: "200 OK",
			header: http.Header{"X-Custom-Thing": {"a b"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Length": {"2"}},
			body:   "ok", clen: 2, reuse: true},
		{name: "bare LF lines", resp: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
			code: 200, status: "200 OK", body: "ok", clen: 2, reuse: true},
		{name: "no reason phrase", resp: "HTTP/1.1 204\r\n\r\n", code: 204, status: "204", body: "", clen: 0, reuse: true},
		{name: "chunked with trailers", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum, X-Other\r\n\r\n" +
			"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\nX-Extra: 1\r\n\r\n",
			code: 200, status: "200 OK", absent: []string{"Transfer-Encoding", "Trailer"},
			body: "hello world", clen: -1, te: []string{"chunked"},
			trailer: http.Header{"X-Sum": {"42"}, "X-Other": nil, "X-Extra": {"1"}}, reuse: true},
		{name: "chunked single chunk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			code: 200, status: "200 OK", body: "ok", clen: -1, te: []string{"chunked"}, reuse: true},
		{name: "chunked upper-case hex", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
			code: 200, status: "200 OK", body: "0123456789", clen: -1, te: []string{"chunked"}, reuse: true},
		{name: "transfer-encoding overrides content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			code: 200, status: "200 OK", absent: []string{"Content-Length"}, body: "ok", clen: -1, te: []string{"chunked"}, reuse: false},
		{name: "close-delimited", resp: "HTTP/1.1 200 OK\r\n\r\nuntil the end",
			code: 200, status: "200 OK", body: "until the end", clen: -1, reuse: false},
		{name: "connection close", resp: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
			code: 200, status: "200 OK", body: "ok", clen: 2, close: true, reuse: false},
		{name: "http/1.0", resp: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
			code: 200, status: "200 OK", body: "ok", clen: 2, close: true, reuse: false},
		{name: "http/1.0 keep-alive", resp: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
			code: 200, status: "200 OK", body: "ok", clen: 2, reuse: true},
		{name: "head keeps content-length", method: "HEAD", resp: "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
			code: 200, status: "200 OK", body: "", clen: 1234, reuse: true},
		{name: "head without length", method: "HEAD", resp: "HTTP/1.1 200 OK\r\n\r\n",
			code: 200, status: "200 OK", body: "", clen: -1, reuse: true},
		{name: "304 ignores content-length", resp: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
			code: 304, status: "304 Not Modified", body: "", clen: 0, reuse: true},
		{name: "repeated equal content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok",
			code: 200, status: "200 OK", body: "ok", clen: 2, reuse: true},
		{name: "100 then final", resp: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			code: 200, status: "200 OK", body: "ok", clen: 2, reuse: true},
		{name: "short content-length body", resp: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
			code: 200, status: "200 OK", body: "short", bodyErr: io.ErrUnexpectedEOF, clen: 10},
		{name: "short chunk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort",
			code: 200, status: "200 OK", body: "short", bodyErr: io.ErrUnexpectedEOF, clen: -1, te: []string{"chunked"}},

		{name: "conflicting content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", err: "conflicting Content-Length"},
		{name: "signed content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", err: "bad Content-Length"},
		{name: "negative content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok", err: "bad Content-Length"},
		{name: "hex content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 0x2\r\n\r\nok", err: "bad Content-Length"},
		{name: "empty content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nok", err: "empty Content-Length"},
		{name: "huge content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nok", err: "bad Content-Length"},
		{name: "gzip transfer-encoding", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", err: "unsupported transfer encoding"},
		{name: "chunked twice", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", err: "unsupported transfer encoding"},
		{name: "identity transfer-encoding", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", err: "unsupported transfer encoding"},
		{name: "obs-fold", resp: "HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\nContent-Length: 0\r\n\r\n", err: "obsolete line folding"},
		{name: "space before colon", resp: "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", err: "invalid header field name"},
		{name: "no colon", resp: "HTTP/1.1 200 OK\r\nX-A\r\n\r\n", err: "malformed header line"},
		{name: "bad name byte", resp: "HTTP/1.1 200 OK\r\nX(A): 1\r\n\r\n", err: "invalid header field name"},
		{name: "NUL in value", resp: "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", err: "invalid header field value"},
		{name: "bare CR in value", resp: "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", err: "invalid header field value"},
		{name: "HTTP/2 status line", resp: "HTTP/2 200 OK\r\n\r\n", err: "malformed status line"},
		{name: "two-digit status", resp: "HTTP/1.1 20 OK\r\n\r\n", err: "malformed status line"},
		{name: "status without space", resp: "HTTP/1.1 200OK\r\n\r\n", err: "malformed status line"},
		{name: "lower-case version", resp: "http/1.1 200 OK\r\n\r\n", err: "malformed status line"},
		{name: "empty answer", resp: "", err: "EOF"},
		{name: "truncated head", resp: "HTTP/1.1 200 OK\r\nContent-Len", err: "unexpected EOF"},
		{name: "bad trailer key", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n0\r\n\r\n", err: "bad trailer key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkResponse(t, tc) })
	}
}

func TestReadResponseBodyErrors(t *testing.T) {
	for _, tc := range []struct{ name, resp, err string }{
		{"chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk line"},
		{"chunk line bare LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n", "malformed chunk line"},
		{"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX0\r\n\r\n", "missing CRLF"},
		{"chunk too large", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", "chunk size too large"},
		{"chunk line too long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", 5000) + "\r\n", "malformed chunk line"},
		{"trailer obs-fold", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n 2\r\n\r\n", "obsolete line folding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, _ := scriptTransport([]byte(tc.resp))
			res, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			_, err = io.ReadAll(res.Body)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("reading body: err = %v; want one containing %q", err, tc.err)
			}
			res.Body.Close()
		})
	}
}

func TestReadResponseLimits(t *testing.T) {
	big := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 2000) + "\r\nContent-Length: 0\r\n\r\n"
	tr, _ := scriptTransport([]byte(big))
	tr.MaxResponseHeaderBytes = 1000
	if _, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil)); !errors.Is(err, errHeadTooLarge) {
		t.Errorf("2 KB head with a 1000-byte limit: err = %v; want %v", err, errHeadTooLarge)
	}
	many := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: 1\r\n", maxHeaderFields+1) + "\r\n"
	tr, _ = scriptTransport([]byte(many))
	if _, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil)); !errors.Is(err, errTooManyFields) {
		t.Errorf("%d fields: err = %v; want %v", maxHeaderFields+1, err, errTooManyFields)
	}
	tr, _ = scriptTransport([]byte(strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", maxInformational+2)))
	if _, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil)); err == nil || !strings.Contains(err.Error(), "too many 1xx") {
		t.Errorf("endless 103s: err = %v; want too many 1xx", err)
	}
}

// checkResponse runs one case against a scripted conn.
func checkResponse(t *testing.T, tc responseCase) {
	t.Helper()
	tr, conns := scriptTransport([]byte(tc.resp))
	method := tc.method
	if method == "" {
		method = "GET"
	}
	req := mustReq(t, method, "http://origin.test/", nil)
	res, err := tr.RoundTrip(req)
	if tc.err != "" {
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Fatalf("RoundTrip: err = %v; want one containing %q", err, tc.err)
		}
		if !(*conns)[0].closed {
			t.Errorf("conn left open after %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if res.StatusCode != tc.code || res.Status != tc.status {
		t.Errorf("status = %d %q; want %d %q", res.StatusCode, res.Status, tc.code, tc.status)
	}
	if res.ProtoMajor != 1 || res.Request != req || res.Uncompressed {
		t.Errorf("ProtoMajor, Request, Uncompressed = %d, %p, %v; want 1, %p, false", res.ProtoMajor, res.Request, res.Uncompressed, req)
	}
	for k, vv := range tc.header {
		if got := res.Header[k]; !reflect.DeepEqual(got, vv) {
			t.Errorf("Header[%q] = %q; want %q", k, got, vv)
		}
	}
	for _, k := range tc.absent {
		if _, ok := res.Header[k]; ok {
			t.Errorf("Header[%q] present; want absent", k)
		}
	}
	if res.ContentLength != tc.clen {
		t.Errorf("ContentLength = %d; want %d", res.ContentLength, tc.clen)
	}
	if !reflect.DeepEqual(res.TransferEncoding, tc.te) {
		t.Errorf("TransferEncoding = %q; want %q", res.TransferEncoding, tc.te)
	}
	if res.Close != tc.close {
		t.Errorf("Close = %v; want %v", res.Close, tc.close)
	}
	b, err := io.ReadAll(res.Body)
	if string(b) != tc.body || !errors.Is(err, tc.bodyErr) && err != tc.bodyErr {
		t.Errorf("body = %q, %v; want %q, %v", b, err, tc.body, tc.bodyErr)
	}
	res.Body.Close()
	if tc.trailer != nil && !reflect.DeepEqual(res.Trailer, tc.trailer) {
		t.Errorf("Trailer = %v; want %v", res.Trailer, tc.trailer)
	}
	p := tr.pool(poolKey{addr: "origin.test:80"})
	if reused := len(p.idle) == 1; reused != tc.reuse {
		t.Errorf("conn pooled = %v; want %v", reused, tc.reuse)
	}
}

// TestTrailerAnnouncedBeforeEOF checks that res.Trailer holds the announced
// keys with nil values before the body ends, as net/http does.
func TestTrailerAnnouncedBeforeEOF(t *testing.T) {
	tr, _ := scriptTransport([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 1\r\n\r\n"))
	res, err := tr.RoundTrip(mustReq(t, "GET", "http://origin.test/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := res.Trailer["X-Sum"]; !ok || v != nil {
		t.Errorf("before EOF: Trailer[X-Sum] = %q, %v; want nil, true", v, ok)
	}
	readAll(t, res)
	if got := res.Trailer.Get("X-Sum"); got != "1" {
		t.Errorf("after EOF: Trailer[X-Sum] = %q; want %q", got, "1")
	}
}
