//go:build race

package cache_test

// raceEnabled: the race detector is on, and it changes allocation counts.
const raceEnabled = true
