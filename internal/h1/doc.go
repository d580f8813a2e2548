// Package h1 is the gateway's own HTTP/1.1 client transport for proxying to
// upstreams: an [http.RoundTripper] in which the goroutine that calls
// RoundTrip does all the work.
//
//	tr := &h1.Transport{MaxConnsPerHost: 512}
//	defer tr.CloseIdleConnections()
//	res, err := tr.RoundTrip(req) // req.URL holds the upstream's scheme and host
//	if errors.Is(err, h1.ErrHTTP2) {
//		res, err = h2Transport.RoundTrip(req) // never written: safe to send again
//	}
//
// # What it supports
//
// HTTP/1.1 and HTTP/1.0 servers over TCP, or TLS for https (with session
// resumption). Request bodies of known length, chunked bodies with
// trailers, and Expect: 100-continue. Responses framed by Content-Length,
// chunked coding (trailers go to Response.Trailer) or the connection's end;
// 1xx responses (103 is reported to httptrace's Got1xxResponse) and 101
// Switching Protocols, whose Body is the connection as an
// [io.ReadWriteCloser].
//
// It does not speak HTTP/2 (a TLS server that picks "h2" through ALPN gets
// [ErrHTTP2]) or h2c, does not use proxies from the environment, does not
// send CONNECT, and never compresses or decompresses: no Accept-Encoding is
// added, and a Transfer-Encoding other than plain "chunked" is an error. It
// adds no header the caller did not set but Host, the framing fields and,
// for Request.Close, "Connection: close"; in particular no User-Agent.
//
// # Goroutines
//
// RoundTrip writes the request head, with a body of up to the 4 KiB write
// buffer, in one write; reads the response head on the same goroutine; and
// hands back a Body that reads straight from the connection's buffer. A
// body that does not fit that write (a large or chunked one, or one sent
// after 100 Continue) is written by one helper goroutine while the caller
// reads the response, because a server may answer before it has read the
// whole body. That goroutine is the only one the transport starts; it ends
// when the body is written or the connection is closed, and closes the
// request body. The request's context is watched with [context.AfterFunc],
// which starts nothing unless the context ends.
//
// # Connections
//
// Connections are pooled per scheme and host:port and reused last in, first
// out. A connection goes back to the pool only when the response body was
// read to its end (or was empty), the request body was written in full,
// neither side asked to close, the framing was unambiguous, and the request's
// context did not end meanwhile. Closing a body early closes the connection,
// unless the rest is small and already buffered.
//
// Before an idle connection is reused, one non-blocking MSG_PEEK recv (on
// Linux; elsewhere, a read with a deadline in the past) checks that the
// server has not closed it, and has not sent bytes nobody asked for, which
// would otherwise be read as the next request's response.
//
// # Retries
//
// A request is sent again, once, on a new connection only when all of these
// hold: the connection was reused from the pool; it failed with EOF, a reset
// or a broken pipe before any byte of the response arrived; the request's
// context did not end; the body is absent, untouched, or can be had again
// through Request.GetBody; and the method is GET, HEAD, OPTIONS or TRACE,
// or the request has an Idempotency-Key or X-Idempotency-Key header, or no
// byte of it was written.
//
// # Performance
//
// A GET whose response has a Content-Length allocates four times: the
// response with its body reader, the head as one string (field names and
// values are substrings of it), and the header map. A cancellable context
// adds the two allocations of context.AfterFunc. BenchmarkRoundTrip compares
// it with net/http's Transport on loopback.
//
// # Security
//
// Response heads are limited in size (Transport.MaxResponseHeaderBytes) and
// in field count; obsolete line folding, invalid field names, control bytes
// in values, conflicting or malformed Content-Length values and unknown
// transfer codings are errors. A response with both Transfer-Encoding and
// Content-Length is read as chunked and its connection is not reused.
// Header values with CR, LF or NUL in a request are refused, not written.
package h1
