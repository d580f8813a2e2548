//go:build race

package auth_test

// raceEnabled: the race detector is on, and it allocates where the code
// does not, so allocation counts do not hold.
const raceEnabled = true
