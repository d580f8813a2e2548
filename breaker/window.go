package breaker

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// noEpoch marks a bucket that holds no calls: far enough below any epoch
// that it never falls in a window.
const noEpoch = math.MinInt64 / 2

// claiming marks a bucket that a goroutine is emptying for a new epoch:
// below any epoch too, so that sum ignores it, and distinct from noEpoch,
// so that no other goroutine claims the bucket meanwhile.
const claiming = math.MinInt64

// window is the rolling window: a ring of buckets, each holding the calls
// of one epoch. An epoch is a span of time (time-based window) or of call
// numbers (count-based). The window is the current epoch and the n−1
// before it.
//
// It takes no lock: a bucket is claimed for a new epoch by a CAS on its
// stamp, and its counts are atomics. The price is at the edge of a bucket:
// a call recorded while another goroutine claims the bucket for the next
// epoch may be lost, or counted in the next epoch. It is one call among
// many, and the window is a statistic; a lock around each record would
// cost more than the call it counts under contention.
type window struct {
	buckets []bucket
	mask    int64 // len(buckets)−1; the ring's length is a power of two, so a mask replaces a division
	n       int64 // the number of epochs in the window, ≤ len(buckets)

	// Count-based: the epoch being filled, and how many calls fill one.
	// cur is read by every record and written once per bucket, so it
	// stays in every core's cache; counting the calls in the bucket itself
	// spares a second contended counter.
	cur       atomic.Int64
	perBucket uint64
}

// bucket holds the calls of one epoch.
type bucket struct {
	stamp atomic.Int64  // the epoch the counts belong to; noEpoch: none
	calls atomic.Uint64 // calls<<32 | failures: one atomic add records a call, failed or not
	slow  atomic.Uint64 // slow calls
}

// newWindow returns a window of n buckets: count-based of perBucket calls
// each, or time-based when perBucket is 0.
func newWindow(n, perBucket int) *window {
	size := 1 << bits.Len(uint(n-1)) // n rounded up to a power of two
	w := &window{buckets: make([]bucket, size), mask: int64(size - 1), n: int64(n), perBucket: uint64(perBucket)}
	w.reset()
	return w
}

// record counts one call that ended in epoch, in a time-based window.
func (w *window) record(epoch int64, failed, slow bool) {
	b := &w.buckets[epoch&w.mask]
	if s := b.stamp.Load(); s != epoch {
		// The bucket holds an older epoch (or one that is newer than
		// this call, whose goroutine was delayed: then the call counts
		// with the newer ones). The goroutine that wins the CAS claims
		// it, empties it and stamps it with epoch; the others count in
		// it as it is. The claim's stamp is claiming, which sum ignores,
		// so that no sum counts the old counts as the new epoch's.
		if s < epoch && s != claiming && b.stamp.CompareAndSwap(s, claiming) {
			if claimHook != nil {
				claimHook()
			}
			b.calls.Store(0)
			b.slow.Store(0)
			b.stamp.Store(epoch)
		}
	}
	d := uint64(1) << 32
	if failed {
		d++
	}
	b.calls.Add(d)
	if slow {
		b.slow.Add(1)
	}
}

// recordCount counts one call in a count-based window and returns the
// epoch it was counted in. A call that does not fit in the current bucket
// (its add makes more than perBucket) takes itself out again and moves the
// window on: the goroutine that claims the next bucket (by a CAS on its
// stamp, as record does) empties it, counts itself there, stamps it and
// moves cur on. The others load cur again and count where it then is; one
// that finds the next bucket still being emptied counts in the full one,
// which then holds one more than perBucket, rather than wait. A goroutine
// so late that the window has moved on since it loaded cur finds the next
// bucket newer than its epoch and loads cur again too: only one delayed
// between its load of cur and its add, while the bucket is reused a ring
// turn later, counts in another epoch than its own.
func (w *window) recordCount(failed, slow bool) (epoch int64) {
	d := uint64(1) << 32
	if failed {
		d++
	}
	for {
		epoch = w.cur.Load()
		b := &w.buckets[epoch&w.mask]
		if b.calls.Add(d)>>32 > w.perBucket {
			b.calls.Add(-d)
			if advanceHook != nil {
				advanceHook()
			}
			next := &w.buckets[(epoch+1)&w.mask]
			s := next.stamp.Load()
			if s < epoch+1 && s != claiming && next.stamp.CompareAndSwap(s, claiming) {
				next.calls.Store(d)
				var n uint64
				if slow {
					n = 1
				}
				next.slow.Store(n)
				next.stamp.Store(epoch + 1) // before cur, which publishes the bucket
				w.cur.CompareAndSwap(epoch, epoch+1)
				return epoch + 1
			}
			if s == epoch+1 {
				// Stamped, but cur not moved on yet: help.
				w.cur.CompareAndSwap(epoch, epoch+1)
			}
			if s != claiming || w.cur.Load() != epoch {
				continue
			}
			b.calls.Add(d) // the next bucket is being emptied: over by one
		}
		if slow {
			b.slow.Add(1)
		}
		return epoch
	}
}

// sum returns the calls, failures and slow calls of the window. The
// window ends with the newest epoch recorded, at least epoch (that of the
// call just recorded): a call given a time in the past (by DoneAt) is
// judged with the calls that came after it.
func (w *window) sum(epoch int64) (calls, failures, slow int64) {
	for i := range w.buckets {
		epoch = max(epoch, w.buckets[i].stamp.Load())
	}
	for i := range w.buckets {
		b := &w.buckets[i]
		if s := b.stamp.Load(); s > epoch-w.n && s <= epoch {
			v := b.calls.Load()
			calls += int64(v >> 32)
			failures += int64(v & math.MaxUint32)
			slow += int64(b.slow.Load())
		}
	}
	return calls, failures, slow
}

// reset empties the window.
func (w *window) reset() {
	w.cur.Store(0)
	w.buckets[0].stamp.Store(0) // for recordCount, which claims the buckets after the first
	for i := range w.buckets {
		b := &w.buckets[i]
		if i > 0 || w.perBucket == 0 {
			b.stamp.Store(noEpoch)
		}
		b.calls.Store(0)
		b.slow.Store(0)
	}
}

// Test hooks, nil but in tests that need to stop a goroutine at a point
// of a window's edge: claimHook runs after a time-based bucket is claimed
// for a new epoch, before it is emptied; advanceHook after a call that
// overflows a count-based bucket has taken itself out of it.
var claimHook, advanceHook func()
