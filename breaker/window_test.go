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
