package h1

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// headerSkip lists the request fields RoundTrip writes itself, or not at
// all.
func headerSkip(k string) bool {
	switch k {
	case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
		return true
	}
	return false
}

// writeHead buffers the request head. clen is -1 for a chunked body, 0 for
// none and the length otherwise. Nothing reaches the socket unless the head
// outgrows the buffer.
func (c *conn) writeHead(req *http.Request, clen int64) {
	w := c.bw
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	w.WriteString(method)
	w.WriteByte(' ')
	u := req.URL
	if u.Opaque != "" {
		w.WriteString(u.RequestURI())
	} else {
		// RequestURI's pieces, written one by one: joining them allocates.
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		} else if strings.HasPrefix(p, "//") && u.Scheme != "" {
			// RequestURI keeps such a path from reading as an authority.
			w.WriteString(u.Scheme)
			w.WriteString("://")
			w.WriteString(u.Host)
		}
		w.WriteString(p)
		if u.ForceQuery || u.RawQuery != "" {
			w.WriteByte('?')
			w.WriteString(u.RawQuery)
		}
	}
	w.WriteString(" HTTP/1.1\r\nHost: ")
	host := req.Host
	if host == "" {
		host = u.Host
	}
	w.WriteString(host)
	w.WriteString("\r\n")
	for k, vv := range req.Header {
		if headerSkip(k) {
			continue
		}
		for _, v := range vv {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	if req.Close && !hasToken(req.Header["Connection"], "close") {
		w.WriteString("Connection: close\r\n")
	}
	switch {
	case clen > 0:
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(w.AvailableBuffer(), clen, 10))
		w.WriteString("\r\n")
	case clen < 0:
		w.WriteString("Transfer-Encoding: chunked\r\n")
		if len(req.Trailer) > 0 {
			w.WriteString("Trailer: ")
			first := true
			for k := range req.Trailer {
				if !first {
					w.WriteString(", ")
				}
				first = false
				w.WriteString(k)
			}
			w.WriteString("\r\n")
		}
	case methodWantsLength(method):
		w.WriteString("Content-Length: 0\r\n")
	}
	w.WriteString("\r\n")
}

// methodWantsLength reports whether a request with no body still says
// "Content-Length: 0", as net/http does.
func methodWantsLength(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

// bodyError is an error from reading the caller's request body, kept apart
// from connection errors so that it is never taken for a stale conn.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "h1: reading request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// writeSmallBody copies a body of exactly n bytes into the write buffer,
// which has room for it, and checks that the body ends there.
func (c *conn) writeSmallBody(body io.Reader, n int64) error {
	buf := c.bw.AvailableBuffer()[:n]
	got := 0
	var err error
	for got < len(buf) && err == nil {
		var m int
		m, err = body.Read(buf[got:])
		got += m
	}
	if got < len(buf) {
		if err == io.EOF || err == nil {
			return fmt.Errorf("h1: ContentLength=%d with Body length %d", n, got)
		}
		return &bodyError{err}
	}
	c.bw.Write(buf)
	if err == nil {
		// The last read did not say EOF: make sure the body ends here.
		var one [1]byte
		for tries := 0; err == nil; tries++ {
			var m int
			m, err = body.Read(one[:])
			if m > 0 {
				return fmt.Errorf("h1: ContentLength=%d with a longer Body", n)
			}
			if tries > 8 && err == nil {
				return errors.New("h1: request body neither ends nor returns data")
			}
		}
	}
	if err != io.EOF {
		return &bodyError{err}
	}
	return nil
}

// writeBody streams a body that did not fit the head's write: n bytes, or
// chunked when n is -1, with trailer after the last chunk. Only the body
// writer goroutine calls it.
func (c *conn) writeBody(body io.Reader, n int64, trailer http.Header) error {
	w := c.bw
	if n >= 0 {
		m, err := io.Copy(w, io.LimitReader(readerOnly{body}, n))
		if err != nil {
			return wrapBodyErr(err)
		}
		if m < n {
			return fmt.Errorf("h1: ContentLength=%d with Body length %d", n, m)
		}
		// The body must end here.
		var one [1]byte
		if k, err := io.ReadFull(body, one[:]); k > 0 {
			return fmt.Errorf("h1: ContentLength=%d with a longer Body", n)
		} else if err != io.EOF && err != io.ErrUnexpectedEOF {
			return &bodyError{err}
		}
		return w.Flush()
	}
	buf := make([]byte, 16<<10)
	for {
		m, rerr := body.Read(buf)
		if m > 0 {
			w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(m), 16))
			w.WriteString("\r\n")
			w.Write(buf[:m])
			w.WriteString("\r\n")
			// Flush each piece: the peer may be waiting for it (full duplex).
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return &bodyError{rerr}
		}
	}
	w.WriteString("0\r\n")
	for k, vv := range trailer {
		for _, v := range vv {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	w.WriteString("\r\n")
	return w.Flush()
}

// readerOnly hides a body's WriteTo, so that io.Copy reads it into the
// buffered writer and its errors stay distinguishable.
type readerOnly struct{ r io.Reader }

func (r readerOnly) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

func wrapBodyErr(err error) error {
	var be *bodyError
	if errors.As(err, &be) {
		return be
	}
	return err
}

// launchBodyWriter hands the body to the one helper goroutine, which writes
// it while the caller reads the response, and closes it when done.
func (c *conn) launchBodyWriter(body io.ReadCloser, n int64, trailer http.Header) {
	ch := make(chan error, 1)
	c.writeDone = ch
	ctx := c.ctx
	go func() {
		err := c.writeBody(body, n, trailer)
		body.Close()
		if err != nil {
			// Unblock the reader: the server may be waiting for the rest.
			c.nc.Close()
		}
		traceWrote(ctx, err)
		ch <- err
	}()
}

// expectsContinue reports whether the header asks for 100-continue.
func expectsContinue(h http.Header) bool {
	for _, v := range h["Expect"] {
		if strings.EqualFold(strings.TrimSpace(v), "100-continue") {
			return true
		}
	}
	return false
}
