package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// origin is the server behind every candidate. CachedRequests returns how
// many requests for a cached path (see [isCachedPath]) it has answered
// since it started. Close stops it and waits for its goroutines.
type origin interface {
	URL() string
	CachedRequests() int64
	Close() error
}

// cachedSuffix ends the request paths whose responses the origin lets
// caches store: for those it adds the header Cache-Control: cacheControl
// to the same 200 and body. The cache candidates load such a path.
const (
	cachedSuffix = "/cached"
	cacheControl = "public, max-age=3600"
)

// cachedPath returns the request target p with cachedSuffix appended to
// its path, before any query: "/api/42" gives "/api/42/cached", "/" gives
// "/cached".
func cachedPath(p string) string {
	path, query, ok := strings.Cut(p, "?")
	path = strings.TrimSuffix(path, "/") + cachedSuffix
	if ok {
		path += "?" + query
	}
	return path
}

// isCachedPath reports whether the request target's path, without its
// query, ends with cachedSuffix.
func isCachedPath(target []byte) bool {
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	return bytes.HasSuffix(target, []byte(cachedSuffix))
}

// startOrigin starts an origin of the given kind ("raw" or "nethttp") on
// loopback, answering every request with 200 and a body of size bytes,
// cacheable for an hour when the path ends with cachedSuffix.
func startOrigin(kind string, size int) (origin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	body := makeBody(size)
	switch kind {
	case "raw":
		return serveRaw(ln, body), nil
	case "nethttp":
		return serveNetHTTP(ln, body), nil
	}
	ln.Close()
	return nil, fmt.Errorf("unknown origin %q; want raw or nethttp", kind)
}

// makeBody returns the response body: size bytes of printable text, so a
// mismatch is easy to see.
func makeBody(size int) []byte {
	const pattern = "0123456789abcdefghijklmnopqrstuvwxyz\n"
	b := make([]byte, size)
	for i := range b {
		b[i] = pattern[i%len(pattern)]
	}
	return b
}

// rawOrigin speaks just enough HTTP/1.1 to answer keep-alive GETs with one
// of two pre-built responses, so that it costs as little CPU as possible
// and the same for every candidate: one goroutine per connection, no
// allocation per request.
type rawOrigin struct {
	ln         net.Listener
	resp       []byte // the whole response, head and body
	cachedResp []byte // the same with Cache-Control, for cached paths
	cached     atomic.Int64

	mu    sync.Mutex // guards conns
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func serveRaw(ln net.Listener, body []byte) *rawOrigin {
	head := "HTTP/1.1 200 OK\r\n" +
		"Content-Type: text/plain\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
	o := &rawOrigin{
		ln:         ln,
		resp:       append([]byte(head+"\r\n"), body...),
		cachedResp: append([]byte(head+"Cache-Control: "+cacheControl+"\r\n\r\n"), body...),
		conns:      make(map[net.Conn]struct{}),
	}
	o.wg.Add(1)
	go o.accept()
	return o
}

func (o *rawOrigin) URL() string { return "http://" + o.ln.Addr().String() }

func (o *rawOrigin) CachedRequests() int64 { return o.cached.Load() }

// Close closes the listener and every open connection, and waits for
// their goroutines to end.
func (o *rawOrigin) Close() error {
	err := o.ln.Close()
	o.mu.Lock()
	for c := range o.conns {
		c.Close()
	}
	o.mu.Unlock()
	o.wg.Wait()
	return err
}

func (o *rawOrigin) accept() {
	defer o.wg.Done()
	for {
		c, err := o.ln.Accept()
		if err != nil {
			return // closed
		}
		o.mu.Lock()
		o.conns[c] = struct{}{}
		o.wg.Add(1)
		o.mu.Unlock()
		go func() {
			defer o.wg.Done()
			o.serve(c)
			o.mu.Lock()
			delete(o.conns, c)
			o.mu.Unlock()
			c.Close()
		}()
	}
}

// serve answers the requests on c until the client closes it, asks to
// close it, or sends something this origin does not parse.
func (o *rawOrigin) serve(c net.Conn) {
	br := bufio.NewReaderSize(c, 8<<10)
	bw := bufio.NewWriterSize(c, 16<<10)
	for {
		keepAlive, cached, err := readRequest(br)
		if err != nil {
			return
		}
		resp := o.resp
		if cached {
			resp = o.cachedResp
			o.cached.Add(1)
		}
		if _, err := bw.Write(resp); err != nil {
			return
		}
		// Pipelined requests already read get their answers in one write.
		if br.Buffered() == 0 || !keepAlive {
			if err := bw.Flush(); err != nil {
				return
			}
		}
		if !keepAlive {
			return
		}
	}
}

var errUnsupported = errors.New("origin: unsupported request")

// readRequest reads one request head from br and discards its body, which
// must be framed by Content-Length. keepAlive is false when the client asked
// to close the connection or spoke HTTP/1.0; cached is true when the
// request's path ends with cachedSuffix.
func readRequest(br *bufio.Reader) (keepAlive, cached bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return false, false, err
	}
	keepAlive = !bytes.Contains(line, []byte("HTTP/1.0"))
	// The target is between the request line's two spaces.
	if _, rest, ok := bytes.Cut(line, []byte(" ")); ok {
		target, _, _ := bytes.Cut(rest, []byte(" "))
		cached = isCachedPath(target)
	}
	var length int64
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return false, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return false, false, errUnsupported
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil || length < 0 {
				return false, false, errUnsupported
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return false, false, errUnsupported // chunked bodies are not needed here
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keepAlive = false
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				keepAlive = true
			}
		}
	}
	if length > 0 {
		if _, err := br.Discard(int(length)); err != nil {
			return false, false, err
		}
	}
	return keepAlive, cached, nil
}

// netHTTPOrigin is the same origin written with net/http, for comparison.
type netHTTPOrigin struct {
	srv    *http.Server
	ln     net.Listener
	wg     sync.WaitGroup
	cached atomic.Int64
}

func serveNetHTTP(ln net.Listener, body []byte) *netHTTPOrigin {
	// Shared by every response, built once: net/http only reads them.
	contentType := []string{"text/plain"}
	contentLength := []string{strconv.Itoa(len(body))}
	cc := []string{cacheControl}
	o := &netHTTPOrigin{ln: ln}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = contentType
		w.Header()["Content-Length"] = contentLength
		if strings.HasSuffix(r.URL.Path, cachedSuffix) {
			w.Header()["Cache-Control"] = cc
			o.cached.Add(1)
		}
		w.Write(body)
	})
	o.srv = &http.Server{Handler: h}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		o.srv.Serve(ln)
	}()
	return o
}

func (o *netHTTPOrigin) URL() string { return "http://" + o.ln.Addr().String() }

func (o *netHTTPOrigin) CachedRequests() int64 { return o.cached.Load() }

func (o *netHTTPOrigin) Close() error {
	err := o.srv.Close()
	o.wg.Wait()
	return err
}
