package cache_test

import (
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// t0 is when the test responses arrive.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// httpDate formats t0+d as an HTTP date.
func httpDate(d time.Duration) string { return t0.Add(d).Format(http.TimeFormat) }

// hdr builds a header from name, value pairs; a name may repeat.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// req returns a request for http://example.com/r with the given fields.
func req(method string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, "http://example.com/r", nil)
	r.Header = hdr(kv...)
	return r
}

func get(kv ...string) *http.Request { return req(http.MethodGet, kv...) }

// res returns a response with the given status and fields, with a Date of
// t0 unless a Date is given.
func res(status int, kv ...string) *http.Response {
	h := hdr(kv...)
	if _, ok := h["Date"]; !ok {
		h.Set("Date", httpDate(0))
	}
	return &http.Response{StatusCode: status, Header: h}
}

// store returns the entry p makes of rs, the response to rq, sent and
// received at t0.
func store(p cache.Policy, rq *http.Request, rs *http.Response) *cache.Entry {
	return p.NewEntry(rq, rs, []byte("body"), t0, t0)
}

// decideAt returns p's decision for rq with e at t0+at.
func decideAt(p cache.Policy, rq *http.Request, e *cache.Entry, at time.Duration) cache.Decision {
	return p.Decide(rq, e, t0.Add(at))
}

// action returns the action p takes for rq at t0+at on the entry stored
// from rs, the response to a plain GET.
func action(p cache.Policy, rq *http.Request, rs *http.Response, at time.Duration) cache.Action {
	return decideAt(p, rq, store(p, get(), rs), at).Action
}
