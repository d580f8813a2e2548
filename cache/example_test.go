package cache_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// Example walks one response through the engine: stored, served fresh,
// then revalidated with a conditional request once stale, and freshened
// by the 304.
func Example() {
	var p cache.Policy // a shared cache; Cache-Control only, heuristics capped at a day
	sent := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	received := sent.Add(100 * time.Millisecond)

	req := httptest.NewRequest("GET", "http://example.com/price", nil)
	res := &http.Response{StatusCode: 200, Header: http.Header{
		"Cache-Control": {"max-age=60"},
		"Etag":          {`"v1"`},
		"Date":          {sent.Format(http.TimeFormat)},
	}}
	if !p.Storable(req, res) {
		return
	}
	e := p.NewEntry(req, res, []byte("42"), sent, received)

	d := p.Decide(req, e, received.Add(30*time.Second))
	fmt.Println(d.Action, d.Age.Round(time.Second), cache.Status{Cache: "gateway", Hit: true, TTL: d.TTL, HasTTL: true})

	d = p.Decide(req, e, received.Add(90*time.Second))
	cond := http.Header{}
	cache.SetConditional(cond, e)
	fmt.Println(d.Action, cond.Get("If-None-Match"))

	notModified := &http.Response{StatusCode: 304, Header: http.Header{"Etag": {`"v1"`}}}
	if ix := cache.SelectForUpdate([]*cache.Entry{e}, notModified); len(ix) == 1 {
		e, _ = p.Freshen(e, notModified, received.Add(90*time.Second), received.Add(90*time.Second))
	}
	fmt.Println(p.Decide(req, e, received.Add(91*time.Second)).Action)
	// Output:
	// fresh 30s gateway; hit; ttl=30
	// must-validate "v1"
	// fresh
}

// ExampleParseCacheControl reads a request's Cache-Control.
func ExampleParseCacheControl() {
	d := cache.ParseCacheControl([]string{`max-stale, no-cache="Set-Cookie"`, "MIN-FRESH=10"})
	_, any, ok := d.MaxStale()
	minFresh, _ := d.MinFresh()
	fmt.Println(ok, any, minFresh, d.NoCacheFields())
	// Output: true true 10s Set-Cookie
}

// ExampleInvalidates lists what a successful POST invalidates.
func ExampleInvalidates() {
	req := httptest.NewRequest("POST", "http://example.com/orders", nil)
	res := &http.Response{StatusCode: 201, Header: http.Header{"Location": {"/orders/7"}}}
	for _, k := range cache.Invalidates(req, res) {
		fmt.Println(k)
	}
	// Output:
	// GET http://example.com/orders
	// HEAD http://example.com/orders
	// GET http://example.com/orders/7
	// HEAD http://example.com/orders/7
}
