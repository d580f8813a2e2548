//go:build race

package ratelimit_test

// raceEnabled: the race detector is on, and sync.Pool drops some of what
// it is given, so allocation counts that rely on pools do not hold.
const raceEnabled = true
