package ratelimit_test

import "unsafe"

// unsafeString views b as a string without copying, as the middleware
// passes keys, so that tests see what a Limiter sees.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
