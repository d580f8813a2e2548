//go:build race

package jsonw

// raceEnabled: the race detector is on, and it changes allocation counts.
const raceEnabled = true
