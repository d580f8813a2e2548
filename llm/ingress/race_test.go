//go:build race

package ingress

// raceEnabled: the race detector is on, and it changes allocation counts.
const raceEnabled = true
