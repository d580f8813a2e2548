//go:build race

package sse_test

// raceEnabled: the race detector is on, and it adds allocations of its
// own, so allocation counts do not hold.
const raceEnabled = true
