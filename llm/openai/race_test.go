//go:build race

package openai_test

// raceEnabled: the race detector is on, and allocation counts do not hold.
const raceEnabled = true
