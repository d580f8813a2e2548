package cache

import (
	"context"
	"net/http"
	"time"
)

// revalidate refreshes e, the stale entry found by l for r, in the
// background (RFC 5861 3): a conditional GET goes through next, with r's
// fields and context values but not its cancellation, bounded by
// BackgroundTimeout, and what comes back updates or replaces e. At most one
// revalidation per stored response (each variant its own) runs at a time,
// and at most MaxBackground in all; when either bound is reached, or after
// Close, none is started.
func (h *Handler) revalidate(r *http.Request, l lookup, e *Entry, next http.Handler) {
	h.mu.Lock()
	if _, busy := h.revalidating[l.storageKey()]; busy || h.closed {
		h.mu.Unlock()
		return
	}
	select {
	case h.bgSlots <- struct{}{}:
	default:
		h.mu.Unlock()
		return
	}
	h.revalidating[l.storageKey()] = struct{}{}
	h.bg.Add(1)
	h.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.bgTimeout)
	stop := context.AfterFunc(h.bgCtx, cancel)
	out := r.Clone(ctx)
	out.Method = http.MethodGet // a HEAD's stale hit refreshes the GET
	out.Body, out.ContentLength, out.GetBody = http.NoBody, 0, nil
	for _, f := range [...]string{"Range", "If-Range", "If-Match", "If-Unmodified-Since"} {
		delete(out.Header, f)
	}
	SetConditional(out.Header, e)
	l.e = e
	gen := h.gen(l.primary).Load()
	go func() {
		x := &exchange{h: h, r: out, l: l, d: Decision{Action: MustValidate, Fwd: FwdStale}, header: make(http.Header), gen: gen}
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				h.logger.Error("cache: background revalidation panicked", "key", l.primary, "panic", v)
			}
			stop()
			cancel()
			h.mu.Lock()
			delete(h.revalidating, l.storageKey())
			h.mu.Unlock()
			<-h.bgSlots
			h.bg.Done()
		}()
		x.sent = time.Now()
		next.ServeHTTP(x, out)
		x.finish(next)
		if x.status >= 500 {
			h.logger.Warn("cache: background revalidation failed", "key", l.primary, "status", x.status)
		}
	}()
}
