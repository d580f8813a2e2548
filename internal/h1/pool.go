package h1

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// pool holds the connections to one scheme and host:port.
type pool struct {
	t   *Transport
	key poolKey

	mu      sync.Mutex // guards idle, total and waiters
	idle    []*conn    // oldest first; taken from the end (LIFO)
	total   int        // open or dialing connections, for MaxConnsPerHost
	waiters []chan *conn
}

// get returns a connection for one request: the most recently used idle one
// that is still open, or a new one.
func (p *pool) get(ctx context.Context) (*conn, error) {
	for {
		c, wait, err := p.take(ctx)
		if err != nil {
			return nil, err
		}
		if wait != nil {
			if c, err = p.await(ctx, wait); err != nil {
				return nil, err
			}
		}
		if c == nil {
			// A slot is ours: dial.
			c, err = p.t.dial(ctx, p)
			if err != nil {
				p.release()
				return nil, err
			}
			return c, nil
		}
		if c.peerClosed() {
			c.close()
			continue
		}
		c.reused = true
		return c, nil
	}
}

// take pops an idle connection, or reserves a slot to dial (nil, nil), or
// queues a waiter when MaxConnsPerHost is reached.
func (p *pool) take(ctx context.Context) (*conn, chan *conn, error) {
	var expired []*conn
	p.mu.Lock()
	var c *conn
	if n := len(p.idle); n > 0 {
		c = p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if time.Since(c.idleAt) > p.t.idleTimeout() {
			// LIFO: every connection below is older still.
			expired = append(expired, c)
			expired = append(expired, p.idle...)
			clear(p.idle)
			p.idle = p.idle[:0]
			c = nil
		}
	}
	var wait chan *conn
	if c == nil {
		if max := p.t.MaxConnsPerHost; max <= 0 || p.total < max {
			p.total++
		} else {
			wait = make(chan *conn, 1)
			p.waiters = append(p.waiters, wait)
		}
	}
	p.mu.Unlock()
	for _, e := range expired {
		e.close() // each close may hand its slot to a waiter
	}
	return c, wait, nil
}

// await waits for a connection or a slot handed over by put or release.
func (p *pool) await(ctx context.Context, wait chan *conn) (*conn, error) {
	select {
	case c := <-wait:
		return c, nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	queued := false
	for i, w := range p.waiters {
		if w == wait {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			queued = true
			break
		}
	}
	p.mu.Unlock()
	if !queued {
		// Handed over while we gave up: pass it on.
		if c := <-wait; c != nil {
			p.put(c)
		} else {
			p.release()
		}
	}
	return nil, fmt.Errorf("h1: waiting for a connection to %s: %w", p.key.addr, ctx.Err())
}

// put returns a healthy connection after a request: to a waiter, else to
// the idle list.
func (p *pool) put(c *conn) {
	now := time.Now()
	c.idleAt = now
	timeout := p.t.idleTimeout()
	var drop []*conn
	p.mu.Lock()
	if p.handOver(c) {
		return
	}
	// Lazy sweep: the oldest idle connections that have expired go.
	n := 0
	for n < len(p.idle) && now.Sub(p.idle[n].idleAt) > timeout {
		n++
	}
	if n > 0 {
		drop = append(drop, p.idle[:n]...)
		m := copy(p.idle, p.idle[n:])
		clear(p.idle[m:])
		p.idle = p.idle[:m]
	}
	if len(p.idle) < p.t.maxIdle() {
		p.idle = append(p.idle, c)
	} else {
		drop = append(drop, c)
	}
	p.mu.Unlock()
	for _, d := range drop {
		d.close()
	}
}

// release gives back the slot of a connection that closed or never opened:
// to a waiter, who dials, else to the count.
func (p *pool) release() {
	p.mu.Lock()
	if p.handOver(nil) {
		return
	}
	p.total--
	p.mu.Unlock()
}

func (p *pool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// handOver gives c (nil: the slot to dial) to the longest waiter, if there
// is one, and then unlocks p.mu. It is called with p.mu held, and leaves it
// held when it reports false.
func (p *pool) handOver(c *conn) bool {
	if len(p.waiters) == 0 {
		return false
	}
	w := p.waiters[0]
	p.waiters[0] = nil
	p.waiters = p.waiters[1:]
	p.mu.Unlock()
	w <- c
	return true
}
