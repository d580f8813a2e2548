package balancer

import (
	"sync"
	"sync/atomic"
)

// snapshotMark follows the last element of each snapshot a [Pool]
// publishes, inside the slice's capacity, so that policies can tell a pool
// snapshot, which never changes, from any other slice.
var snapshotMark = new(Upstream)

// isSnapshot reports whether ups is a snapshot published by a [Pool], not a
// slice made elsewhere, such as the proxy's retries build without the
// upstreams already tried, which may be reused with other contents at the
// same address. Only snapshots may be keyed by address.
func isSnapshot(ups []*Upstream) bool {
	return cap(ups) > len(ups) && ups[:len(ups)+1][len(ups)] == snapshotMark
}

// perSnapshot caches a value that a policy derives from one slice of
// upstreams, such as a hash ring or a table of weights, so that it is built
// once per healthy snapshot of a [Pool] and not once per pick.
//
// The key is the slice's first element's address and its length: a Pool
// allocates a new array for each snapshot and never writes to it again,
// and the cached entry holds the array, so the address cannot be reused
// while it is the key. A caller that changes a slice in place after
// passing it to Pick would not be seen, so only pool snapshots are cached
// (see isSnapshot); policies handle other slices without a table. Only
// the last snapshot is kept: a policy shared by two pools rebuilds at each
// switch between them, so give each pool its own.
type perSnapshot[T any] struct {
	last atomic.Pointer[snapEntry[T]]
	mu   sync.Mutex // serializes builds, so that picks that miss together build once
}

type snapEntry[T any] struct {
	first *(*Upstream)
	n     int
	v     T
}

// load returns the value cached for ups, a non-empty pool snapshot, and
// whether there is one.
func (c *perSnapshot[T]) load(ups []*Upstream) (v T, ok bool) {
	if e := c.last.Load(); e != nil && e.first == &ups[0] && e.n == len(ups) {
		return e.v, true
	}
	return v, false
}

// build returns the value for ups, building it with f unless another
// goroutine has just done so. Picks that miss together wait for one build
// rather than each spending the CPU on their own: a large hash ring takes
// milliseconds. Only the miss path calls it, so a method value passed as f
// costs nothing on the hit path.
func (c *perSnapshot[T]) build(ups []*Upstream, f func([]*Upstream) T) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.load(ups); ok {
		return v
	}
	v := f(ups)
	c.last.Store(&snapEntry[T]{first: &ups[0], n: len(ups), v: v})
	return v
}
