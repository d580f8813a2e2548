//go:build !linux

package h1

// initPeek leaves peekFn nil: peerClosed then uses its portable fallback.
func (c *conn) initPeek() {}

func (c *conn) peek() peekResult { return peekAlive }
