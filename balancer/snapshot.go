package balancer

import "sync/atomic"

// perSnapshot caches a value that a policy derives from one slice of
// upstreams, such as a hash ring or a table of weights, so that it is built
// once per healthy snapshot of a [Pool] and not once per pick.
//
// The key is the slice's first element's address and its length: a Pool
// allocates a new array for each snapshot and never writes to it again,
// and the cached entry holds the array, so the address cannot be reused
// while it is the key. A caller that changes a slice in place after
// passing it to Pick is not seen; Pool snapshots are never changed.
type perSnapshot[T any] struct {
	last atomic.Pointer[snapEntry[T]]
}

type snapEntry[T any] struct {
	first *(*Upstream)
	n     int
	v     T
}

// load returns the value cached for ups, which is not empty, and whether
// there is one.
func (c *perSnapshot[T]) load(ups []*Upstream) (v T, ok bool) {
	if e := c.last.Load(); e != nil && e.first == &ups[0] && e.n == len(ups) {
		return e.v, true
	}
	return v, false
}

// store caches v for ups. Two goroutines that miss at once both build and
// store; the last one's value stays, and both are right.
func (c *perSnapshot[T]) store(ups []*Upstream, v T) {
	c.last.Store(&snapEntry[T]{first: &ups[0], n: len(ups), v: v})
}
