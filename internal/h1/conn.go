package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// aLongTimeAgo is a deadline in the past: setting it makes blocked and
// future reads and writes on a conn fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// conn is one HTTP/1.1 connection. One request at a time uses it, so the
// per-request state lives here and is reused.
type conn struct {
	pool     *pool
	nc       net.Conn
	br       *bufio.Reader // reads through conn.Read
	bw       *bufio.Writer // writes through conn.Write
	tlsState *tls.ConnectionState
	raw      syscall.RawConn // the TCP socket, for the idle peek; nil if unknown
	isTLS    bool

	idleAt time.Time
	reused bool // an earlier request used this conn

	// Per request.
	ctx       context.Context
	stopCtx   func() bool // stops the context.AfterFunc; nil when none
	onCtxDone func()      // c.ctxDone, bound once: a method value per request would allocate
	ctxFired  atomic.Bool
	nread     int64      // bytes read from nc in this request
	nwritten  int64      // bytes written to nc in this request
	writeDone chan error // the body writer goroutine's result; nil when none

	mu      sync.Mutex // guards gen and aborted, against Body.Close from another goroutine
	gen     uint64     // counts requests; a body aborts only its own
	aborted bool

	closed atomic.Bool

	head    []byte // scratch: the response head
	keyBuf  []byte // scratch: a header name being canonicalized
	peekBuf [1]byte
	peekRes peekResult
	peekFn  func(fd uintptr) bool
}

func newConn(p *pool, nc net.Conn) *conn {
	c := &conn{pool: p}
	c.onCtxDone = c.ctxDone
	c.br = bufio.NewReaderSize(c, bufferSize)
	c.bw = bufio.NewWriterSize(c, bufferSize)
	c.setNetConn(nc)
	return c
}

// setNetConn installs nc, which is the dialed conn or a TLS client over it.
func (c *conn) setNetConn(nc net.Conn) {
	c.nc = nc
	under := nc
	if tc, ok := nc.(*tls.Conn); ok {
		c.isTLS = true
		under = tc.NetConn()
	}
	c.raw = nil
	if sc, ok := under.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
			c.initPeek()
		}
	}
}

// Read is the bufio.Reader's source: it counts bytes and reports a
// cancelled context as the error.
func (c *conn) Read(p []byte) (int, error) {
	n, err := c.nc.Read(p)
	c.nread += int64(n)
	if err != nil {
		err = c.mapErr("read", err)
	}
	return n, err
}

// Write is the bufio.Writer's sink; see Read.
func (c *conn) Write(p []byte) (int, error) {
	n, err := c.nc.Write(p)
	c.nwritten += int64(n)
	if err != nil {
		err = c.mapErr("write", err)
	}
	return n, err
}

// mapErr turns an I/O error caused by the request's context ending into an
// error that wraps the context's error.
func (c *conn) mapErr(op string, err error) error {
	if c.ctxFired.Load() && c.ctx != nil {
		if cerr := c.ctx.Err(); cerr != nil {
			return fmt.Errorf("h1: %s: %w", op, cerr)
		}
	}
	return err
}

// ctxDone runs, through context.AfterFunc, when the request's context ends:
// it interrupts any blocked read or write. The conn is then never reused.
func (c *conn) ctxDone() {
	c.ctxFired.Store(true)
	c.nc.SetDeadline(aLongTimeAgo)
}

// setReadDeadline sets a read deadline without undoing a cancellation that
// raced with it.
func (c *conn) setReadDeadline(t time.Time) {
	c.nc.SetReadDeadline(t)
	if c.ctxFired.Load() {
		c.nc.SetDeadline(aLongTimeAgo)
	}
}

// abort interrupts the request gen if it still owns the conn. It is how
// Body.Close stops a Read running in another goroutine.
func (c *conn) abort(gen uint64) {
	c.mu.Lock()
	if c.gen == gen {
		c.aborted = true
		c.nc.SetDeadline(aLongTimeAgo)
	}
	c.mu.Unlock()
}

// close closes the conn once and frees its slot in the pool.
func (c *conn) close() {
	if c.closed.Swap(true) {
		return
	}
	c.nc.Close()
	c.pool.release()
}

// done ends the request that owns the conn: the conn goes back to the pool
// if reuse is true and nothing spoiled it, and is closed otherwise.
func (c *conn) done(reuse bool) {
	if c.stopCtx != nil {
		if !c.stopCtx() {
			reuse = false // the context fired: the conn has a past deadline
		}
		c.stopCtx = nil
	}
	if c.ctxFired.Load() {
		reuse = false
	}
	c.mu.Lock()
	c.gen++
	if c.aborted {
		reuse = false
	}
	c.aborted = false
	c.mu.Unlock()
	if c.writeDone != nil {
		if !reuse {
			c.writeDone = nil // the writer fails once the conn is closed
		} else if !c.waitWriter() {
			reuse = false
		}
	}
	if reuse && !c.closed.Load() {
		c.ctx = nil // a writer that outlives a closed conn may still read it
		c.pool.put(c)
		return
	}
	c.close()
}

// waitWriter waits briefly for the body writer goroutine, which may still be
// finishing its last write when the response has already been read. It
// reports whether the body was written in full.
func (c *conn) waitWriter() bool {
	return c.writerResult(true) == nil
}

// writerResult takes the body writer's result, waiting for it at most
// writerWaitBeforeConnDrop if wait is set; errWriterBusy if it is not done.
func (c *conn) writerResult(wait bool) error {
	ch := c.writeDone
	c.writeDone = nil
	select {
	case err := <-ch:
		return err
	default:
	}
	if !wait {
		return errWriterBusy
	}
	timer := time.NewTimer(writerWaitBeforeConnDrop)
	defer timer.Stop()
	select {
	case err := <-ch:
		return err
	case <-timer.C:
		return errWriterBusy
	}
}

var errWriterBusy = errors.New("h1: request body still being written")

// peerClosed reports whether an idle conn can no longer carry a request:
// the peer closed or reset it, or sent bytes nobody asked for.
func (c *conn) peerClosed() bool {
	if c.closed.Load() || c.br.Buffered() > 0 {
		return true
	}
	if c.raw != nil && c.peekFn != nil {
		switch c.peek() {
		case peekAlive:
			return false
		case peekData:
			// On TLS, bytes may be a session ticket or an alert: leave them
			// to the next read. On plain TCP they are a stray response.
			return !c.isTLS
		default:
			return true
		}
	}
	if c.isTLS {
		return false // no cheap way to look without consuming a record
	}
	// Portable fallback: a read that cannot block.
	c.nc.SetReadDeadline(aLongTimeAgo)
	_, err := c.br.Peek(1)
	c.nc.SetReadDeadline(time.Time{})
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

type peekResult uint8

const (
	peekAlive  peekResult = iota // nothing to read, no error
	peekData                     // bytes are waiting
	peekClosed                   // EOF or an error
)
