//go:build race

package redislimit_test

// raceEnabled: the race detector is on, and sync.Pool drops some of what
// it is given, so allocation counts that rely on pools do not hold.
const raceEnabled = true
