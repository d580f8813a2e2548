package introspect

import "sync"

// flight makes concurrent introspections of the same token one call: the
// first caller (the leader) makes it, the others wait for its answer.
type flight struct {
	mu    sync.Mutex // guards calls
	calls map[key]*call
}

// call is one introspection in flight. done is closed once a is set.
type call struct {
	done chan struct{}
	a    answer
}

// join returns the call in flight for k, and whether the caller is its
// leader: the leader makes the call and ends it with [flight.finish].
func (f *flight) join(k *key) (c *call, leader bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c = f.calls[*k]; c != nil {
		return c, false
	}
	if f.calls == nil {
		f.calls = make(map[key]*call)
	}
	c = &call{done: make(chan struct{})}
	f.calls[*k] = c
	return c, true
}

// finish publishes a to the waiters of the call for k and forgets it.
func (f *flight) finish(k *key, c *call, a answer) {
	c.a = a
	f.mu.Lock()
	delete(f.calls, *k)
	f.mu.Unlock()
	close(c.done)
}
