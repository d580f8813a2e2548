package breaker

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

// Middleware returns a middleware that puts b in front of a handler. While
// b refuses calls, requests get 503 Service Unavailable with a JSON body,
//
//	{"error":{"type":"circuit_open","message":"circuit open"}}
//
// and, when the circuit is open, Retry-After: the seconds until it lets
// probes through, rounded up. Each request b admits is recorded as an
// [balancer.Outcome] with the status the handler wrote and the time it
// took, and, when b has [Settings.SlowCall] set, the time to the response
// head as its TTFB, so that a handler that answers at once and streams
// for long is not a slow call:
//
//   - a 5xx status is [balancer.ServerError], any other [balancer.OK]
//     (a handler that writes nothing answers 200);
//   - a handler that panics is a [balancer.ServerError] (the panic goes on
//     up, with the same value);
//   - a request whose client went away (its context canceled, or its
//     handler aborted with [http.ErrAbortHandler], as a proxy does when
//     it cannot finish a response) is [balancer.Canceled], which b does
//     not count, and one whose context deadline passed is a
//     [balancer.Timeout].
//
// What counts as a failure is then b's [Settings.IsFailure].
//
// The response writer the handler gets passes on Flush, Hijack and
// ReadFrom, and unwraps for [http.ResponseController]. It is pooled and
// must not be used after the handler returns. An admitted request costs
// no allocation; a refused one allocates the Retry-After value.
func Middleware(b *Breaker) func(http.Handler) http.Handler {
	if b == nil {
		panic("breaker: Middleware of a nil *Breaker")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ticket, err := b.Allow()
			if err != nil {
				writeOpen(w, r, b)
				return
			}
			rec := recorders.Get().(*recorder)
			rec.ResponseWriter, rec.status, rec.head = w, 0, 0
			if b.slowCall > 0 {
				rec.clock = b // the head's time is read only when it can make a call slow
			}
			// The breaker's clock: one monotonic read at each end, and
			// the second serves Done too (time.Now would read the wall
			// clock as well, which costs as much again).
			start := b.now()
			returned := false
			defer func() {
				var p any
				if !returned {
					// Recovered only to be told apart, and panicked
					// again below: the deferred call runs on top of
					// the panicking frames, which the trace still shows.
					p = recover()
				}
				end := b.now()
				o := balancer.Outcome{Status: rec.status, Duration: time.Duration(end - start)}
				if rec.head != 0 {
					o.TTFB = time.Duration(max(rec.head-start, 1)) // 1ns: a TTFB of 0 means none
				}
				switch err := r.Context().Err(); {
				case err == context.Canceled, p == http.ErrAbortHandler:
					o.Class = balancer.Canceled
				case err != nil:
					o.Class = balancer.Timeout
				case !returned, o.Status >= 500:
					o.Class = balancer.ServerError
				}
				if o.Status == 0 && returned {
					o.Status = http.StatusOK
				}
				b.done(ticket, o, end)
				rec.ResponseWriter, rec.clock = nil, nil
				recorders.Put(rec)
				if p != nil {
					panic(p)
				}
			}()
			next.ServeHTTP(rec, r)
			returned = true
		})
	}
}

// The refusal's body and headers, made once: refusing allocates only the
// Retry-After value. The header slices are shared by every refusal, as
// nothing in net/http modifies a header value in place.
var (
	openBody       = []byte(`{"error":{"type":"circuit_open","message":"circuit open"}}` + "\n")
	openBodyLength = []string{strconv.Itoa(len(openBody))}
	jsonType       = []string{"application/json"}
	noSniff        = []string{"nosniff"}
)

// writeOpen answers a request that b refused.
func writeOpen(w http.ResponseWriter, r *http.Request, b *Breaker) {
	h := w.Header()
	if d := b.RetryAfter(); d > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
	h["Content-Type"] = jsonType
	h["X-Content-Type-Options"] = noSniff
	h["Content-Length"] = openBodyLength
	w.WriteHeader(http.StatusServiceUnavailable)
	if r.Method != http.MethodHead {
		w.Write(openBody)
	}
}

var recorders = sync.Pool{New: func() any { return new(recorder) }}

// recorder is the response writer a guarded handler gets: it notes the
// status of the response and, when its breaker judges slow calls, when
// the response head was written.
type recorder struct {
	http.ResponseWriter
	status int      // the first final status written; 0: none yet
	clock  *Breaker // not nil: note the time of the head, on this breaker's clock
	head   int64    // when the head was written, on clock; 0: not noted
}

// wrote notes the response head, with status code.
func (rec *recorder) wrote(code int) {
	rec.status = code
	if rec.clock != nil {
		rec.head = rec.clock.now()
	}
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 && code >= 200 {
		rec.wrote(code)
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.wrote(http.StatusOK)
	}
	return rec.ResponseWriter.Write(p)
}

// ReadFrom keeps the underlying writer's ReadFrom (sendfile, for files)
// within reach of io.Copy.
func (rec *recorder) ReadFrom(src io.Reader) (int64, error) {
	if rec.status == 0 {
		rec.wrote(http.StatusOK)
	}
	if rf, ok := rec.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{rec.ResponseWriter}, src)
}

// writerOnly hides ReadFrom from io.Copy, which would call it again.
type writerOnly struct{ io.Writer }

func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.wrote(http.StatusOK)
	}
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection over, as for a WebSocket. The request then
// counts as a success, unless its handler panics.
func (rec *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(rec.ResponseWriter).Hijack()
}

// Unwrap returns the underlying writer, for [http.ResponseController].
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
