package cache

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// serveEntry answers r with e, whose current age is age, and the
// Cache-Status status: with 304 when r's own conditions match e, with the
// requested range of a stored 200, and else with e whole (without its
// body for a HEAD). A whole response allocates nothing of its own for an
// age under maxAgeValue seconds.
func (h *Handler) serveEntry(w http.ResponseWriter, r *http.Request, e *Entry, age time.Duration, status []string) {
	hdr := w.Header()
	for k, vs := range e.Header {
		switch {
		case k == "Cache-Status":
			// The members of the caches that handled the stored response,
			// not this request.
		case len(hdr[k]) == 0:
			hdr[k] = vs[:len(vs):len(vs)] // shared: an append must not reach the store's copy
		default:
			// Set before the cache (CORS's Vary: Origin): kept, as on a
			// miss.
			hdr[k] = append(hdr[k][:len(hdr[k]):len(hdr[k])], vs...)
		}
	}
	hdr["Age"] = ageValue(age)
	if cs := hdr["Cache-Status"]; len(cs) > 0 {
		hdr["Cache-Status"] = append(cs[:len(cs):len(cs)], status...)
	} else {
		hdr["Cache-Status"] = status
	}
	if NotModified(r, e) {
		// RFC 9110 15.4.5: the fields a 200 would carry that guide caches,
		// not those that describe a body.
		for _, f := range [...]string{"Content-Type", "Content-Encoding", "Content-Language", "Content-Range"} {
			delete(hdr, f)
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if len(r.Header["Range"]) > 0 && r.Method == http.MethodGet && e.Status == http.StatusOK {
		serveRange(w, r, e)
		return
	}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		w.Write(e.Body)
	}
}

// serveRange answers a Range request from e, a stored 200 (RFC 9110 14):
// 206 with the ranges that are satisfiable, 416 when none is, and 200 with
// the whole body when If-Range does not match e, as [http.ServeContent]
// does, which also answers a request for several ranges.
func serveRange(w http.ResponseWriter, r *http.Request, e *Entry) {
	hdr := w.Header()
	delete(hdr, "Content-Length") // the range's own is set
	if _, ok := hdr["Content-Type"]; !ok {
		hdr["Content-Type"] = nil // none stored: none sniffed either
	}
	var modified time.Time
	if lm := e.Header["Last-Modified"]; len(lm) > 0 {
		modified, _ = http.ParseTime(lm[0])
	}
	http.ServeContent(w, r, "", modified, bytes.NewReader(e.Body))
}

// maxAgeValue is how many Age values are kept ready, so that serving an
// entry younger than that many seconds allocates no Age value.
const maxAgeValue = 1024

// ageValues holds the header values "0" to "1023", each its own slice of
// one, read-only.
var ageValues = sync.OnceValue(func() [][]string {
	s := make([]string, maxAgeValue)
	v := make([][]string, maxAgeValue)
	for i := range s {
		s[i] = strconv.Itoa(i)
		v[i] = s[i : i+1 : i+1]
	}
	return v
})

// ageValue returns the Age header value of age, in whole seconds.
func ageValue(age time.Duration) []string {
	n := int64(age / time.Second)
	if n >= 0 && n < maxAgeValue {
		return ageValues()[n]
	}
	return []string{strconv.FormatInt(n, 10)}
}

// gatewayTimeout answers a request with only-if-cached that nothing
// stored can answer (RFC 9111 5.2.1.7). Its Cache-Status has no fwd, as
// nothing went forward, but detail=only-if-cached.
func (h *Handler) gatewayTimeout(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr["Cache-Status"] = h.status(Status{Detail: "only-if-cached"})
	hdr["Content-Type"] = []string{"text/plain; charset=utf-8"}
	w.WriteHeader(http.StatusGatewayTimeout)
	if r.Method != http.MethodHead {
		w.Write([]byte("only-if-cached: no stored response may answer this request\n"))
	}
}

// serveOther passes a request with a method other than GET and HEAD to
// next, with a Cache-Status member, and carries out the invalidations its
// response calls for (RFC 9111 4.4).
func (h *Handler) serveOther(w http.ResponseWriter, r *http.Request, next http.Handler) {
	v := &invalidator{h: h, w: w, r: r}
	next.ServeHTTP(v, r)
	if !v.wrote && !v.hijacked {
		v.WriteHeader(http.StatusOK) // what net/http sends for a silent handler
	}
}

// invalidator is the ResponseWriter of a request with another method: at
// the head, it adds Cache-Status and removes the stored responses the
// answer invalidates.
type invalidator struct {
	h        *Handler
	w        http.ResponseWriter
	r        *http.Request
	wrote    bool
	hijacked bool
}

func (v *invalidator) Header() http.Header { return v.w.Header() }

func (v *invalidator) WriteHeader(code int) {
	if v.wrote || code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		v.w.WriteHeader(code)
		return
	}
	v.wrote = true
	hdr := v.w.Header()
	ctx := context.WithoutCancel(v.r.Context())
	for _, k := range v.h.invalidates(v.r, &http.Response{StatusCode: code, Header: hdr}) {
		v.h.invalidate(ctx, k)
	}
	cs := hdr["Cache-Status"]
	hdr["Cache-Status"] = append(cs[:len(cs):len(cs)], Status{Cache: v.h.name, Fwd: FwdMethod, FwdStatus: code}.String())
	v.w.WriteHeader(code)
}

func (v *invalidator) Write(p []byte) (int, error) {
	if !v.wrote {
		v.WriteHeader(http.StatusOK)
	}
	return v.w.Write(p)
}

func (v *invalidator) Flush() {
	if !v.wrote {
		v.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(v.w).Flush()
}

func (v *invalidator) Unwrap() http.ResponseWriter { return v.w }

// Hijack hands the connection to next, which answers on it alone.
func (v *invalidator) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(v.w).Hijack()
	v.hijacked = err == nil
	return c, rw, err
}

// invalidate removes what is stored under key and keeps the responses for
// key that are forward now from being stored (see exchange.store). The
// count moves first: an exchange that stores after the purge sees it.
func (h *Handler) invalidate(ctx context.Context, key string) {
	h.gen(key).Add(1)
	h.purge(ctx, key)
}
