//go:build race

package gemini

// raceEnabled: the race detector is on, and allocation counts do not hold.
const raceEnabled = true
