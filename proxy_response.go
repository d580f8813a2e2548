package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vivremotion/gateway/balancer"
)

// copyBufs holds the buffers that response bodies are copied through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// respond copies res, the upstream's answer to r, to w. It reports whether
// the whole response went through.
func (a *attempt) respond(w http.ResponseWriter, r *http.Request, res *http.Response) bool {
	defer res.Body.Close()
	p := a.p

	h := w.Header()
	for k, vs := range res.Header {
		if len(h[k]) == 0 {
			h[k] = vs // res is ours alone, so its slices can be shared
		} else {
			h[k] = append(h[k], vs...)
		}
	}
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		h["Trailer"] = []string{strings.Join(keys, ", ")}
	}
	w.WriteHeader(res.StatusCode)
	interval := p.flushInterval(res)
	var rc *http.ResponseController // only when flushing: it costs an allocation
	if announced > 0 || interval != 0 {
		rc = http.NewResponseController(w)
	}
	if announced > 0 || interval < 0 {
		// With trailers, flushing now makes the server send a chunked
		// body, which is the only way trailers can follow it. A streamed
		// response's head goes out at once because the client may wait
		// for it before sending more of its request (full duplex HTTP/2,
		// gRPC header metadata), while the upstream waits for that request.
		rc.Flush()
	}

	err := a.copyBody(w, rc, res, interval)
	if err != nil {
		var we *writeError
		if errors.As(err, &we) || r.Context().Err() != nil {
			a.o.Class = balancer.Canceled
		} else if a.o.Class == balancer.OK {
			a.o.Class = balancer.ConnectionError
			var ne net.Error
			if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
				a.o.Class = balancer.Timeout
			}
		}
		err = &Error{Op: "copy response", Upstream: a.u.URL.Host, Err: err}
		p.log(r, StatusOf(r, err), err)
		if r.Context().Value(http.ServerContextKey) != nil {
			// The head is out: the only way to tell the client that the
			// body is incomplete is to break the connection.
			panic(http.ErrAbortHandler)
		}
		return false
	}

	for k, vs := range res.Trailer {
		if announced > 0 && len(res.Trailer) == announced {
			h[k] = vs
		} else {
			h[http.TrailerPrefix+k] = vs
		}
	}
	return true
}

// writeError marks a failure to write to the client.
type writeError struct{ err error }

func (e *writeError) Error() string { return "write to client: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// copyBody copies the response body to w, flushing every interval (after
// every write when negative).
func (a *attempt) copyBody(w http.ResponseWriter, rc *http.ResponseController, res *http.Response, interval time.Duration) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp

	// With a positive interval the head also goes out within it: the
	// upstream may take its time over the first byte (an event stream
	// waiting for its first event). A streamed response's head (negative
	// interval) has already been flushed by respond.
	var lf *latencyFlusher
	if interval > 0 {
		lf = &latencyFlusher{w: w, rc: rc, interval: interval, pending: true}
		lf.timer = time.AfterFunc(interval, lf.flush)
		defer lf.stop() // before respond touches w again
	}
	for {
		n, rerr := res.Body.Read(buf)
		if n > 0 {
			var werr error
			if lf != nil {
				werr = lf.write(buf[:n])
			} else {
				_, werr = w.Write(buf[:n])
			}
			if werr != nil {
				return &writeError{werr}
			}
			if interval < 0 {
				rc.Flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// latencyFlusher writes to w and flushes what it wrote (and, first, the
// head) at most interval later, even when the upstream sends nothing more
// meanwhile. It uses one timer per response, made with the head pending,
// and only for a positive FlushInterval.
type latencyFlusher struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	interval time.Duration

	mu      sync.Mutex // guards w (shared with the timer) and the fields below
	timer   *time.Timer
	pending bool // written but not flushed
	stopped bool
}

func (f *latencyFlusher) write(p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(p); err != nil {
		return err
	}
	if !f.pending {
		f.pending = true
		f.timer.Reset(f.interval)
	}
	return nil
}

func (f *latencyFlusher) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending && !f.stopped {
		f.pending = false
		f.rc.Flush()
	}
}

// stop ends the flushing; once it returns, the timer no longer touches w.
func (f *latencyFlusher) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	if f.timer != nil {
		f.timer.Stop()
	}
}

// flushInterval returns how often res's body is flushed: negative for after
// every write.
func (p *Proxy) flushInterval(res *http.Response) time.Duration {
	if res.ContentLength == -1 {
		return -1
	}
	// By hand rather than with mime.ParseMediaType, which allocates a map
	// for the parameters on every response.
	mt, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";")
	if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
		return -1
	}
	return p.FlushInterval
}
