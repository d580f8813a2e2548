package gateway_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// This file holds the pieces of the cache conformance table in
// proxy_cache_conformance_test.go: an origin that lives in memory, so that
// it runs inside a synctest bubble, the origins the rows are built from,
// and a reader of Cache-Status members.

// ccEpoch is the time a synctest bubble starts at (midnight UTC,
// 2000-01-01); rows write their dates relative to it.
var ccEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ccDate returns the HTTP date secs seconds after the bubble started.
func ccDate(secs int) string {
	return ccEpoch.Add(time.Duration(secs) * time.Second).Format(http.TimeFormat)
}

// ccOrigin answers the n-th request (from 1) the origin receives.
type ccOrigin func(n int, w http.ResponseWriter, r *http.Request)

// ccServe returns an origin that answers every request with status, body
// and the header pairs hdr, and with 304 and the same header to a GET or
// HEAD whose If-None-Match names its ETag (weak comparison) or, without
// If-None-Match, whose If-Modified-Since is not before its Last-Modified,
// as an origin server evaluates conditionals (RFC 9110 13.2.2). A "Date"
// pair with an empty value sends no Date at all.
func ccServe(status int, body string, hdr ...string) ccOrigin {
	return func(_ int, w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for i := 0; i+1 < len(hdr); i += 2 {
			k := http.CanonicalHeaderKey(hdr[i])
			if k == "Date" && hdr[i+1] == "" {
				h[k] = nil // the transport sends no Date
				continue
			}
			h[k] = append(h[k], hdr[i+1])
		}
		if status == http.StatusOK && ccOriginNotModified(r, h) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// ccOriginNotModified evaluates r's If-None-Match and If-Modified-Since
// against the validators in h, as an origin does.
func ccOriginNotModified(r *http.Request, h http.Header) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		etag := strings.TrimPrefix(h.Get("Etag"), "W/")
		for t := range strings.SplitSeq(inm, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || etag != "" && strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
		return false
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	if err != nil {
		return false
	}
	lm, err := http.ParseTime(h.Get("Last-Modified"))
	return err == nil && !lm.After(ims)
}

// ccSeq returns an origin that answers the n-th request with rs[n-1], and
// every request after the last with the last.
func ccSeq(rs ...ccOrigin) ccOrigin {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		rs[min(n, len(rs))-1](n, w, r)
	}
}

// ccEcho returns an origin that answers 200 with a body naming field and
// the request's values of it ("Accept-Encoding=gzip|br"), and the header
// pairs hdr: a response that differs for each value of field.
func ccEcho(field string, hdr ...string) ccOrigin {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		ccServe(http.StatusOK, field+"="+strings.Join(r.Header.Values(field), "|"), hdr...)(n, w, r)
	}
}

// ccByMethod returns an origin that answers GET and HEAD with get and
// every other method with other.
func ccByMethod(get, other ccOrigin) ccOrigin {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			get(n, w, r)
			return
		}
		other(n, w, r)
	}
}

// ccSlow returns an origin that waits d (on the bubble's clock) before
// answering as o.
func ccSlow(d time.Duration, o ccOrigin) ccOrigin {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(d)
		o(n, w, r)
	}
}

// ccSeen is what the origin saw of one request.
type ccSeen struct {
	method string
	url    string
	header http.Header
}

// ccTransport is an http.RoundTripper that hands each request to an
// origin handler in memory, as a server on the far side of a socket would,
// so that it works inside a synctest bubble where sockets do not. It sets
// Date (when the handler set none) and Content-Length as net/http's server
// does, drops the body of a HEAD, honours the request's context and fails
// as an unreachable host would while down is set.
type ccTransport struct {
	origin ccOrigin

	mu   sync.Mutex // guards the fields below
	seen []ccSeen
	down bool
}

func (t *ccTransport) setDown(down bool) {
	t.mu.Lock()
	t.down = down
	t.mu.Unlock()
}

// requests returns what the origin saw so far.
func (t *ccTransport) requests() []ccSeen {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]ccSeen(nil), t.seen...)
}

func (t *ccTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer r.Body.Close()
	}
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.down {
		t.mu.Unlock()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	// The outbound request and its header are the Proxy's to reuse once
	// RoundTrip returns: keep copies.
	t.seen = append(t.seen, ccSeen{method: r.Method, url: r.URL.String(), header: r.Header.Clone()})
	n := len(t.seen)
	t.mu.Unlock()

	rec := httptest.NewRecorder()
	t.origin(n, rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	h := rec.Header().Clone()
	if v, ok := h["Date"]; !ok {
		h["Date"] = []string{time.Now().UTC().Format(http.TimeFormat)}
	} else if len(v) == 0 {
		delete(h, "Date")
	}
	body := rec.Body.Bytes()
	status := rec.Code
	res := &http.Response{
		Status:     strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode: status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Request:    r,
	}
	switch {
	case r.Method == http.MethodHead || status == http.StatusNotModified || status == http.StatusNoContent:
		res.ContentLength = -1
		if cl, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
			res.ContentLength = cl
		}
		if r.Method != http.MethodHead {
			res.ContentLength = 0
		}
		res.Body = http.NoBody
	default:
		res.ContentLength = int64(len(body))
		if _, ok := h["Content-Length"]; !ok {
			h["Content-Length"] = []string{strconv.Itoa(len(body))}
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
	}
	return res, nil
}

// ccCacheStatus parses the last member of a Cache-Status field (RFC 9211
// 2: each cache appends its own) into its cache name and parameters; a
// parameter without a value (a true boolean) maps to "?1".
func ccCacheStatus(field string) (name string, params map[string]string) {
	if i := strings.LastIndexByte(field, ','); i >= 0 {
		field = field[i+1:]
	}
	parts := strings.Split(field, ";")
	params = make(map[string]string, len(parts))
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			v = "?1"
		}
		params[k] = v
	}
	return strings.TrimSpace(parts[0]), params
}

// ccCheckStatusParam reports why the Cache-Status member with params fails
// want, "" when it does not. want is one of "name" (present), "!name"
// (absent), "name=value", "ttl<0" or "ttl>0".
func ccCheckStatusParam(params map[string]string, want string) string {
	switch {
	case strings.HasPrefix(want, "!"):
		if v, ok := params[want[1:]]; ok {
			return "has " + want[1:] + "=" + v
		}
	case strings.HasPrefix(want, "ttl<") || strings.HasPrefix(want, "ttl>"):
		v, ok := params["ttl"]
		n, err := strconv.Atoi(v)
		if !ok || err != nil || want[3] == '<' && n >= 0 || want[3] == '>' && n <= 0 {
			return "ttl=" + v
		}
	default:
		k, v, hasValue := strings.Cut(want, "=")
		got, ok := params[k]
		switch {
		case !ok:
			return "has no " + k
		case hasValue && got != v:
			return k + "=" + got
		}
	}
	return ""
}
