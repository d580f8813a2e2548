//go:build race

package anthropic_test

// raceEnabled: the race detector is on, and allocation counts do not hold.
const raceEnabled = true
