package gateway

// UseNetHTTPTransport makes every Proxy initialized afterwards send its
// HTTP/1.1 requests through net/http's Transport, as it does for HTTP/2,
// instead of its own transport. Tests use it to run the conformance suite
// over both paths.
func UseNetHTTPTransport(on bool) { netHTTPOnly.Store(on) }
