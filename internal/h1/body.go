package h1

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

var (
	errBodyClosed   = errors.New("h1: read on closed response body")
	errChunkLine    = errors.New("h1: malformed chunk line")
	errChunkTooBig  = errors.New("h1: chunk size too large")
	errChunkMissing = errors.New("h1: missing CRLF after chunk data")
)

type bodyKind uint8

const (
	bodyLength     bodyKind = iota // Content-Length bytes
	bodyChunked                    // chunked transfer coding
	bodyUntilClose                 // everything until the server closes
)

// exchange is what one request allocates for its answer: the response, its
// body reader and the backing of a small head's values share one allocation.
type exchange struct {
	res  http.Response
	body body
	vals [16]string
}

// body is a response body read straight from its conn's bufio.Reader. When
// it reaches its end it gives the conn back (to the pool when reusable) and
// forgets it, so that later calls cannot touch the next request.
type body struct {
	mu     sync.Mutex // serialises Read and Close; guards the fields below
	c      *conn      // nil once the conn is given back
	owner  *conn      // the conn, kept for abort; never changes
	gen    uint64     // the request's number on owner
	kind   bodyKind
	keep   bool  // the conn may be reused after the end
	remain int64 // bytes left: of the body (bodyLength) or of this chunk
	crlf   bool  // chunked: the CRLF after chunk data is due
	res    *http.Response
	err    error // sticky, once c is nil
	maxHdr int   // limit for the trailer section

	closed atomic.Bool
}

func (b *body) Read(p []byte) (n int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c == nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	switch b.kind {
	case bodyLength:
		n, err = b.readLength(p)
	case bodyChunked:
		n, err = b.readChunked(p)
	default:
		n, err = b.c.br.Read(p)
		if err != nil {
			b.finish(err)
		}
	}
	if err != nil && err != io.EOF && b.closed.Load() {
		err = errBodyClosed
		b.err = err
	}
	return n, err
}

func (b *body) readLength(p []byte) (int, error) {
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.c.br.Read(p)
	b.remain -= int64(n)
	if b.remain == 0 {
		b.finish(io.EOF)
		return n, io.EOF
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		b.finish(err)
	}
	return n, err
}

func (b *body) readChunked(p []byte) (int, error) {
	br := b.c.br
	for {
		if b.remain > 0 {
			if int64(len(p)) > b.remain {
				p = p[:b.remain]
			}
			n, err := br.Read(p)
			b.remain -= int64(n)
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				b.finish(err)
				return n, err
			}
			if b.remain == 0 {
				b.crlf = true
				if b.lastChunkBuffered(br) {
					return n, io.EOF
				}
			}
			return n, nil
		}
		if b.crlf {
			if err := readCRLF(br); err != nil {
				b.finish(err)
				return 0, err
			}
			b.crlf = false
		}
		line, err := br.ReadSlice('\n')
		if err != nil {
			if err == bufio.ErrBufferFull {
				err = errChunkLine
			} else if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			b.finish(err)
			return 0, err
		}
		size, err := parseChunkSize(line)
		if err != nil {
			b.finish(err)
			return 0, err
		}
		if size == 0 {
			err := b.readTrailer()
			b.finish(err)
			return 0, err
		}
		b.remain = size
	}
}

// lastChunkBuffered ends the body at once when the buffer already holds
// "\r\n0\r\n\r\n", the common end of a chunked body, so that the caller
// sees io.EOF with the last data and the conn goes back to the pool sooner.
func (b *body) lastChunkBuffered(br *bufio.Reader) bool {
	const end = "\r\n0\r\n\r\n"
	if br.Buffered() < len(end) {
		return false
	}
	p, _ := br.Peek(len(end))
	if string(p) != end {
		return false
	}
	br.Discard(len(end))
	b.crlf = false
	b.finish(io.EOF)
	return true
}

func readCRLF(br *bufio.Reader) error {
	p, err := br.Peek(2)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if p[0] != '\r' || p[1] != '\n' {
		return errChunkMissing
	}
	br.Discard(2)
	return nil
}

// parseChunkSize parses "size [; ext] CRLF". Extensions are skipped but
// must hold no control bytes.
func parseChunkSize(line []byte) (int64, error) {
	n := len(line)
	if n < 3 || line[n-2] != '\r' {
		return 0, errChunkLine
	}
	line = line[:n-2]
	var size int64
	i := 0
	for ; i < len(line); i++ {
		d := line[i]
		var v byte
		switch {
		case '0' <= d && d <= '9':
			v = d - '0'
		case 'a' <= d && d <= 'f':
			v = d - 'a' + 10
		case 'A' <= d && d <= 'F':
			v = d - 'A' + 10
		default:
			goto rest
		}
		if size >= 1<<58 {
			return 0, errChunkTooBig
		}
		size = size<<4 | int64(v)
	}
rest:
	if i == 0 {
		return 0, errChunkLine
	}
	for ; i < len(line) && (line[i] == ' ' || line[i] == '\t'); i++ {
	}
	if i < len(line) {
		if line[i] != ';' {
			return 0, errChunkLine
		}
		for _, c := range line[i:] {
			if c < ' ' && c != '\t' || c == 0x7f {
				return 0, errChunkLine
			}
		}
	}
	return size, nil
}

// readTrailer reads the trailer section after the last chunk into
// res.Trailer, which already holds the announced keys.
func (b *body) readTrailer() error {
	c := b.c
	raw, err := readBlock(c.br, &c.head, b.maxHdr, true)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if len(raw) == 0 {
		return io.EOF
	}
	s := string(raw)
	n := countLines(s)
	if n > maxHeaderFields {
		return errTooManyFields
	}
	h := make(http.Header, n)
	if err := parseFields(s, h, make([]string, n), &c.keyBuf); err != nil {
		return err
	}
	if b.res.Trailer == nil {
		b.res.Trailer = h
		return io.EOF
	}
	for k, vv := range h {
		b.res.Trailer[k] = append(b.res.Trailer[k], vv...)
	}
	return io.EOF
}

// finish ends the body with err (io.EOF at a clean end) and gives the conn
// back.
func (b *body) finish(err error) {
	c := b.c
	b.c = nil
	b.err = err
	c.done(err == io.EOF && b.keep)
}

// Close ends the body. Before the end, the conn is closed, unless the rest
// of a Content-Length body is small and already buffered. A Read running in
// another goroutine is interrupted.
func (b *body) Close() error {
	b.closed.Store(true)
	if !b.mu.TryLock() {
		b.owner.abort(b.gen)
		b.mu.Lock()
	}
	defer b.mu.Unlock()
	if c := b.c; c != nil {
		if b.kind == bodyLength && b.remain <= smallBodyDrain && int64(c.br.Buffered()) >= b.remain {
			c.br.Discard(int(b.remain))
			b.remain = 0
			b.finish(io.EOF)
		} else {
			b.finish(errBodyClosed)
		}
	}
	b.err = errBodyClosed
	return nil
}

// upgradeBody is the Body of a 101 response: the connection itself, read
// through its buffer first.
type upgradeBody struct {
	c    *conn
	once sync.Once
}

func (u *upgradeBody) Read(p []byte) (int, error)  { return u.c.br.Read(p) }
func (u *upgradeBody) Write(p []byte) (int, error) { return u.c.nc.Write(p) }
func (u *upgradeBody) Close() error {
	u.once.Do(u.c.close)
	return nil
}

// CloseWrite half-closes the connection, so that the upstream sees the end
// of what the tunnel sends while it may still answer.
func (u *upgradeBody) CloseWrite() error {
	if cw, ok := u.c.nc.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

var _ io.ReadWriteCloser = (*upgradeBody)(nil)
