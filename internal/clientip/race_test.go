//go:build race

package clientip

// raceEnabled: the race detector is on, which changes what allocates, so
// allocation counts do not hold.
const raceEnabled = true
