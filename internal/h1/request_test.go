package h1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

const okEmpty = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

func (c *scriptConn) sent() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written.String(), c.writes
}

func TestWriteRequest(t *testing.T) {
	cases := []struct {
		name  string
		req   func() *http.Request
		want  string
		write int // write calls; 0 means any
	}{
		{"get", func() *http.Request {
			r := mustReq(t, "GET", "http://origin.test/a%20b?x=1", nil)
			r.Header.Set("X-A", "1")
			return r
		}, "GET /a%20b?x=1 HTTP/1.1\r\nHost: origin.test\r\nX-A: 1\r\n\r\n", 1},
		{"host from req.Host, no user-agent added", func() *http.Request {
			r := mustReq(t, "GET", "http://10.0.0.1:8080", nil)
			r.Host = "front.example"
			return r
		}, "GET / HTTP/1.1\r\nHost: front.example\r\n\r\n", 1},
		{"empty user-agent written as is", func() *http.Request {
			r := mustReq(t, "GET", "http://origin.test/", nil)
			r.Header["User-Agent"] = []string{""}
			return r
		}, "GET / HTTP/1.1\r\nHost: origin.test\r\nUser-Agent: \r\n\r\n", 1},
		{"framing fields from the header are ignored", func() *http.Request {
			r := mustReq(t, "GET", "http://origin.test/", nil)
			r.Header["Content-Length"] = []string{"99"}
			r.Header["Transfer-Encoding"] = []string{"chunked"}
			r.Header["Host"] = []string{"evil"}
			return r
		}, "GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n", 1},
		{"post without body", func() *http.Request {
			return mustReq(t, "POST", "http://origin.test/p", nil)
		}, "POST /p HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 0\r\n\r\n", 1},
		{"small body in the head's write", func() *http.Request {
			return mustReq(t, "PUT", "http://origin.test/p", strings.NewReader("hello"))
		}, "PUT /p HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 5\r\n\r\nhello", 1},
		{"req.Close", func() *http.Request {
			r := mustReq(t, "GET", "http://origin.test/", nil)
			r.Close = true
			return r
		}, "GET / HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n", 1},
		{"opaque", func() *http.Request {
			r := mustReq(t, "GET", "http://origin.test/", nil)
			r.URL.Opaque = "//origin.test/%41"
			return r
		}, "GET http://origin.test/%41 HTTP/1.1\r\nHost: origin.test\r\n\r\n", 1},
		{"chunked with trailer", func() *http.Request {
			pr, pw := io.Pipe()
			go func() {
				io.WriteString(pw, "abc")
				pw.Close()
			}()
			r := mustReq(t, "POST", "http://origin.test/c", pr)
			r.ContentLength = -1
			r.Trailer = http.Header{"X-Sum": nil}
			r.Body = &trailerSetter{ReadCloser: pr, tr: r.Trailer}
			return r
		}, "POST /c HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 7\r\n\r\n", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, conns := scriptTransport([]byte(okEmpty))
			res, err := tr.RoundTrip(tc.req())
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			readAll(t, res)
			got, writes := (*conns)[0].sent()
			if got != tc.want {
				t.Errorf("request =\n%q\nwant\n%q", got, tc.want)
			}
			if tc.write != 0 && writes != tc.write {
				t.Errorf("write calls = %d; want %d", writes, tc.write)
			}
		})
	}
}

// trailerSetter sets the trailer's value when the body hits EOF, as a
// handler streaming a body would.
type trailerSetter struct {
	io.ReadCloser
	tr http.Header
}

func (s *trailerSetter) Read(p []byte) (int, error) {
	n, err := s.ReadCloser.Read(p)
	if err == io.EOF {
		s.tr.Set("X-Sum", "7")
	}
	return n, err
}

func TestWriteRequestRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*http.Request)
	}{
		{"CRLF in value", func(r *http.Request) { r.Header.Set("X-A", "1\r\nX-Injected: 1") }},
		{"bad name", func(r *http.Request) { r.Header["X A"] = []string{"1"} }},
		{"space in Host", func(r *http.Request) { r.Host = "a b" }},
		{"bad method", func(r *http.Request) { r.Method = "GE T" }},
		{"CONNECT", func(r *http.Request) { r.Method = "CONNECT" }},
		{"space in query", func(r *http.Request) { r.URL.RawQuery = "a b" }},
		{"ftp scheme", func(r *http.Request) { r.URL.Scheme = "ftp" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, conns := scriptTransport([]byte(okEmpty))
			body := &closeRecorder{Reader: strings.NewReader("x")}
			req := mustReq(t, "POST", "http://origin.test/", body)
			tc.edit(req)
			if _, err := tr.RoundTrip(req); err == nil {
				t.Fatal("RoundTrip succeeded; want an error")
			}
			if len(*conns) != 0 {
				t.Errorf("dialed %d conns; want none", len(*conns))
			}
			if !body.closed {
				t.Error("request body not closed")
			}
		})
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// TestWriteRequestBodyTooShort checks that a body shorter than its
// ContentLength fails the request instead of hanging the server.
func TestWriteRequestBodyLength(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		clen int64
	}{
		{"shorter", "abc", 5},
		{"longer", "abcdefg", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, _ := scriptTransport([]byte(okEmpty))
			req := mustReq(t, "POST", "http://origin.test/", io.NopCloser(strings.NewReader(tc.body)))
			req.ContentLength = tc.clen
			if _, err := tr.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "ContentLength=5") {
				t.Errorf("RoundTrip: err = %v; want a ContentLength mismatch", err)
			}
		})
	}
}

// TestWriteLargeBody sends a body larger than the write buffer through a
// real origin, which checks it.
func TestWriteLargeBody(t *testing.T) {
	payload := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		b, _ := io.ReadAll(req.Body)
		ok := string(b) == payload && (req.ContentLength >= 0 || req.Trailer.Get("X-T") == "v")
		resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		if !ok {
			resp = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
		}
		io.WriteString(c, resp)
	})
	for _, chunked := range []bool{false, true} {
		tr := &Transport{}
		req := mustReq(t, "POST", srv.url(), strings.NewReader(payload))
		if chunked {
			req.Body = io.NopCloser(req.Body)
			req.ContentLength = -1
			req.Trailer = http.Header{"X-T": {"v"}}
		}
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("chunked=%v: RoundTrip: %v", chunked, err)
		}
		if got := readAll(t, res); res.StatusCode != 200 || got != "ok" {
			t.Errorf("chunked=%v: response = %d %q; want 200 ok", chunked, res.StatusCode, got)
		}
		tr.CloseIdleConnections()
	}
}
