package h1

import (
	"syscall"
	"unsafe"
)

// initPeek binds the function RawConn.Read runs for the idle check, once per
// conn: a closure built per check would allocate.
func (c *conn) initPeek() {
	c.peekFn = func(fd uintptr) bool {
		n, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd,
			uintptr(unsafe.Pointer(&c.peekBuf[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		switch {
		case errno == syscall.EAGAIN:
			c.peekRes = peekAlive
		case errno != 0:
			c.peekRes = peekClosed
		case n > 0:
			c.peekRes = peekData
		default:
			c.peekRes = peekClosed // orderly shutdown by the peer
		}
		return true // never wait for readiness
	}
}

// peek looks at the socket without consuming or blocking: one recvfrom with
// MSG_PEEK|MSG_DONTWAIT.
func (c *conn) peek() peekResult {
	if err := c.raw.Read(c.peekFn); err != nil {
		return peekClosed
	}
	return c.peekRes
}
