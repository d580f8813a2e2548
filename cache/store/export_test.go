package store

// DecodeString exposes decodeString, which Redis.Get uses, to the tests.
var DecodeString = decodeString
