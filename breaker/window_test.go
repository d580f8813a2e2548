package breaker

import "testing"

// TestWindowClaimHidesOldCounts shows that a time-based bucket being
// claimed for a new epoch does not show, to a sum made meanwhile, the
// counts it held a ring turn before.
func TestWindowClaimHidesOldCounts(t *testing.T) {
	w := newWindow(2, 0)
	for range 5 {
		w.record(0, true, true)
	}
	var calls, failures, slow int64
	claimHook = func() {
		claimHook = nil
		calls, failures, slow = w.sum(2)
	}
	defer func() { claimHook = nil }()
	w.record(2, false, false) // claims bucket 0, of epoch 0, for epoch 2
	if calls != 0 || failures != 0 || slow != 0 {
		t.Errorf("sum(2) while bucket 0 is claimed for epoch 2 = %d, %d, %d; want 0, 0, 0: the calls of epoch 0 are out of the window", calls, failures, slow)
	}
	if calls, failures, slow := w.sum(2); calls != 1 || failures != 0 || slow != 0 {
		t.Errorf("sum(2) after the claim = %d, %d, %d; want 1, 0, 0", calls, failures, slow)
	}
}

// TestWindowAdvanceOnce shows that when two calls overflow a count-based
// bucket, the second after the first has taken itself out, only one of
// them empties the next bucket: both calls are counted.
func TestWindowAdvanceOnce(t *testing.T) {
	w := newWindow(4, 2)
	w.recordCount(false, false)
	w.recordCount(false, false) // bucket 0 is full
	advanceHook = func() {
		advanceHook = nil
		w.recordCount(true, false) // overflows too, while the first has not moved on
	}
	defer func() { advanceHook = nil }()
	epoch := w.recordCount(false, false)
	if calls, failures, _ := w.sum(epoch); calls != 4 || failures != 1 {
		t.Errorf("sum after 4 calls, 1 failed = %d calls, %d failures; want 4, 1", calls, failures)
	}
	if got := w.cur.Load(); got != 1 {
		t.Errorf("cur = %d; want 1: one bucket filled, the next begun", got)
	}
}

// TestWindowAdvanceStale shows that a call that overflows a count-based
// bucket and is held up while the window turns a whole ring does not move
// the window back to the bucket after its old one, nor empty it.
func TestWindowAdvanceStale(t *testing.T) {
	w := newWindow(4, 2)
	w.recordCount(false, false)
	w.recordCount(false, false) // bucket 0 is full
	advanceHook = func() {
		advanceHook = nil
		for range 10 { // epochs 1 to 5 of 2 calls: bucket 1 holds epoch 5, full
			w.recordCount(false, false)
		}
	}
	defer func() { advanceHook = nil }()
	epoch := w.recordCount(true, false)
	if got := w.cur.Load(); epoch != 6 || got != 6 {
		t.Errorf("recordCount() = %d, cur = %d; want 6, 6: epoch 5 is full", epoch, got)
	}
	if calls, failures, _ := w.sum(6); calls != 7 || failures != 1 {
		t.Errorf("sum(6) = %d calls, %d failures; want 7, 1: epochs 3 to 5 full and the late call in 6", calls, failures)
	}
}
