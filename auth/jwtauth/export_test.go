package jwtauth

// CacheLen returns the number of tokens a's cache holds.
func CacheLen(a *Authenticator) int { return a.cache.len() }

// EqualConstantTime is equalConstantTime, for tests.
var EqualConstantTime = equalConstantTime
