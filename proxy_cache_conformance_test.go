package gateway_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/cache/store"
)

// This file holds the conformance table of the Proxy's HTTP cache: each row
// is a requirement of RFC 9111 (sections written bare, "4.2.1"), RFC 5861
// (stale-while-revalidate, stale-if-error), RFC 9211 (Cache-Status) or RFC
// 9110 (conditional and range requests a cache answers), played as steps
// of a client against a real Proxy with a real store.Memory and an origin
// the row defines. Rows run inside a synctest bubble, so that time passes
// between steps at no cost; the origin is reached through an in-memory
// transport (ccTransport), since sockets do not work in a bubble.
// TestProxyCacheLoopback checks a few rows again over real sockets.
//
// The expectations come from the RFC text and from the agreed behaviour of
// the cache layer (Cache-Status forms, fwd=bypass for Authorization, a 206
// never stored, Set-Cookie responses not stored); rows marked "(policy)"
// are choices of this cache that the RFCs allow but do not require.

// ccRow is one requirement and the exchange that shows it.
type ccRow struct {
	sec    string // RFC section: "4.2.1" is RFC 9111's, others name their RFC
	req    string // the requirement, in words
	origin ccOrigin
	steps  []ccStep
}

// ccStep is one request of a row and what the client and the origin see.
type ccStep struct {
	at      time.Duration // when it is sent, from the row's start
	method  string        // "" means GET
	target  string        // a path on http://api.example, or an absolute URL
	hdr     []string      // request header pairs; a name may repeat
	down    bool          // the origin cannot be reached during this step
	clients int           // more than 1: that many clients send it at once

	status int      // the client's status; a single digit: any of that class
	body   string   // the client's body; ccAnyBody: not checked
	want   []string // response header pairs: a value, ccNone for absent, "!v" for anything but v
	cs     string   // the exact Cache-Status; "" not checked
	csHas  []string // parameters of Cache-Status (see ccCheckStatusParam)
	calls  int      // requests the origin has received, in all, after this step
	sent   []string // header pairs of the origin's latest request (":method" too), ccNone for absent
	// collapsed, with clients, is how many responses have collapsed in
	// their Cache-Status.
	collapsed int
}

const (
	ccNone    = "\x00none"
	ccAnyBody = "\x00any"
	sec       = time.Second
)

// The Cache-Status members the table uses most.
const (
	csHit      = "gateway; hit"
	csMiss     = "gateway; fwd=uri-miss; fwd-status=200"
	csStored60 = "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60"
)

// etag1 is the validator of the stored response in most rows.
const etag1 = `"v1"`

// ccFresh60 is an origin whose responses are fresh for a minute and carry
// etag1.
var ccFresh60 = ccServe(200, "hello", "Cache-Control", "max-age=60", "ETag", etag1)

// ccFresh10 is an origin whose responses are fresh for ten seconds.
func ccFresh10(extra string) ccOrigin {
	cc := "max-age=10"
	if extra != "" {
		cc += ", " + extra
	}
	return ccServe(200, "hello", "Cache-Control", cc, "ETag", etag1)
}

// ccMissStored is the first step of most rows: a GET of /r that the
// origin answers and the cache stores with ttl seconds of freshness.
func ccMissStored(ttl int) ccStep {
	return ccStep{target: "/r", status: 200, body: "hello", calls: 1,
		cs: "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=" + strconv.Itoa(ttl)}
}

// ccFirst is the first GET of /r, its Cache-Status not checked.
var ccFirst = ccStep{target: "/r", status: 200, body: "hello", calls: 1}

var ccRows = []ccRow{
	// Freshness (RFC 9111 4.2.1, 5.3).
	{"4.2.1", "max-age: served fresh until its lifetime runs out, then validated", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 59 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "59"}, cs: csHit, calls: 1},
		{at: 61 * sec, target: "/r", status: 200, body: "hello", cs: "gateway; fwd=stale; fwd-status=304; stored; ttl=60", calls: 2, sent: []string{"If-None-Match", etag1}},
	}},
	{"4.2.1", "s-maxage takes precedence over max-age in a shared cache",
		ccServe(200, "hello", "Cache-Control", "s-maxage=100, max-age=10", "ETag", etag1), []ccStep{
			ccMissStored(100),
			{at: 50 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "50"}, cs: csHit, calls: 1},
			{at: 101 * sec, target: "/r", status: 200, body: "hello", calls: 2, sent: []string{"If-None-Match", etag1}},
		}},
	{"4.2.1", "max-age takes precedence over Expires",
		ccServe(200, "hello", "Cache-Control", "max-age=10", "Expires", ccDate(1000), "ETag", etag1), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", csHas: []string{"fwd=stale", "fwd-status=304"}, calls: 2, sent: []string{"If-None-Match", etag1}},
		}},
	{"4.2.1", "Expires counts from the response's Date, not the cache's clock (origin clock an hour ahead)",
		ccServe(200, "hello", "Date", ccDate(3600), "Expires", ccDate(3700)), []ccStep{
			ccMissStored(100),
			{at: 90 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "90"}, cs: csHit, calls: 1},
			{at: 101 * sec, target: "/r", status: 200, body: "hello", calls: 2},
		}},
	{"4.2.1", "Expires without Date: the time of receipt stands for Date",
		ccServe(200, "hello", "Date", "", "Expires", ccDate(100)), []ccStep{
			ccMissStored(100),
			{at: 90 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 1},
			{at: 101 * sec, target: "/r", status: 200, body: "hello", calls: 2},
		}},
	{"5.3", "an invalid Expires (\"0\") means already expired: never served without the origin",
		ccServe(200, "hello", "Expires", "0", "ETag", etag1), []ccStep{
			ccFirst,
			{at: 1 * sec, target: "/r", status: 200, body: "hello", csHas: []string{"!hit"}, calls: 2},
		}},

	// Heuristic freshness (4.2.2).
	{"4.2.2", "heuristic freshness: 10% of Date less Last-Modified for a 200 without explicit freshness",
		ccServe(200, "hello", "Last-Modified", ccDate(-1000)), []ccStep{
			ccMissStored(100),
			{at: 90 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "90"}, cs: csHit, calls: 1},
			{at: 101 * sec, target: "/r", status: 200, body: "hello", calls: 2, sent: []string{"If-Modified-Since", ccDate(-1000)}},
		}},
	{"4.2.2", "no heuristic freshness for a status not heuristically cacheable (302)",
		ccServe(302, "", "Location", "/elsewhere", "Last-Modified", ccDate(-1000)), []ccStep{
			{target: "/r", status: 302, body: "", cs: "gateway; fwd=uri-miss; fwd-status=302", calls: 1},
			{at: 10 * sec, target: "/r", status: 302, body: "", cs: "gateway; fwd=uri-miss; fwd-status=302", calls: 2, sent: []string{"If-Modified-Since", ccNone}},
		}},
	{"4.2.2", "no heuristic freshness when the response has explicit freshness",
		ccServe(200, "hello", "Cache-Control", "max-age=10", "Last-Modified", ccDate(-100000)), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", calls: 2, sent: []string{"If-Modified-Since", ccDate(-100000)}},
		}},

	// Age (4.2.3, 5.1).
	{"4.2.3", "an Age from upstream counts against the lifetime (Age: 30, max-age=60: 30 s left)",
		ccServe(200, "hello", "Cache-Control", "max-age=60", "Age", "30", "ETag", etag1), []ccStep{
			ccMissStored(30),
			{at: 29 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "59"}, cs: csHit, calls: 1},
			{at: 31 * sec, target: "/r", status: 200, body: "hello", calls: 2, sent: []string{"If-None-Match", etag1}},
		}},
	{"5.1", "a hit carries Age, its current age in whole seconds, growing with time",
		ccServe(200, "hello", "Cache-Control", "max-age=100"), []ccStep{
			ccMissStored(100),
			{at: 10 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "10"}, cs: csHit, calls: 1},
			{at: 25 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "25"}, cs: csHit, calls: 1},
		}},
	{"4.2.3", "the apparent age (receipt less Date) counts: Date 20 s in the past",
		ccServe(200, "hello", "Cache-Control", "max-age=60", "Date", ccDate(-20)), []ccStep{
			ccMissStored(40),
			{at: 10 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "30"}, cs: csHit, calls: 1},
			{at: 41 * sec, target: "/r", status: 200, body: "hello", csHas: []string{"!hit"}, calls: 2},
		}},

	// What is stored (3, 5.2.2).
	{"5.2.2.5", "no-store: the response is not stored",
		ccServe(200, "hello", "Cache-Control", "no-store, max-age=60"), []ccStep{
			{target: "/r", status: 200, body: "hello", cs: csMiss, calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csMiss, calls: 2},
		}},
	{"5.2.1.5", "request no-store: the response to it is not stored", ccFresh60, []ccStep{
		{target: "/r", hdr: []string{"Cache-Control", "no-store"}, status: 200, body: "hello", csHas: []string{"fwd-status=200", "!stored"}, calls: 1},
		{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csStored60, calls: 2},
	}},
	{"5.2.2.7", "private: a shared cache does not store the response",
		ccServe(200, "hello", "Cache-Control", "private, max-age=60"), []ccStep{
			{target: "/r", status: 200, body: "hello", cs: csMiss, calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csMiss, calls: 2},
		}},
	{"5.2.2.7", "qualified private=\"X-User\": stored, without the named field",
		ccServe(200, "hello", "Cache-Control", `private="X-User", max-age=60`, "X-User", "alice"), []ccStep{
			{target: "/r", status: 200, body: "hello", want: []string{"X-User", "alice"}, cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", want: []string{"X-User", ccNone}, cs: csHit, calls: 1},
		}},
	{"5.2.2.4", "no-cache: stored, validated on every use; a 304 gives the client the stored body",
		ccServe(200, "hello", "Cache-Control", "no-cache, max-age=60", "ETag", etag1), []ccStep{
			ccMissStored(60),
			{at: 1 * sec, target: "/r", status: 200, body: "hello", csHas: []string{"!hit", "fwd-status=304"}, calls: 2, sent: []string{"If-None-Match", etag1}},
			{at: 2 * sec, target: "/r", status: 200, body: "hello", csHas: []string{"!hit", "fwd-status=304"}, calls: 3, sent: []string{"If-None-Match", etag1}},
		}},
	{"5.2.2.4", "qualified no-cache=\"Set-Cookie\": stored, the field never served from the cache",
		ccServe(200, "hello", "Cache-Control", `no-cache="Set-Cookie", max-age=60`, "Set-Cookie", "s=1"), []ccStep{
			{target: "/r", status: 200, body: "hello", want: []string{"Set-Cookie", "s=1"}, cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", want: []string{"Set-Cookie", ccNone}, cs: csHit, calls: 1},
		}},
	{"3 (policy)", "a response that sets a cookie not named by no-cache or private is not stored",
		ccServe(200, "hello", "Cache-Control", "max-age=60", "Set-Cookie", "s=1"), []ccStep{
			{target: "/r", status: 200, body: "hello", want: []string{"Set-Cookie", "s=1"}, cs: csMiss, calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", want: []string{"Set-Cookie", "s=1"}, cs: csMiss, calls: 2},
		}},
	{"5.2.2.2", "must-revalidate: a stale entry is validated, never served stale, even to max-stale",
		ccFresh10("must-revalidate"), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", hdr: []string{"Cache-Control", "max-stale=1000"}, status: 200, body: "hello", cs: "gateway; fwd=stale; fwd-status=304; stored; ttl=10", calls: 2, sent: []string{"If-None-Match", etag1}},
		}},
	{"5.2.2.8", "proxy-revalidate: as must-revalidate in a shared cache",
		ccFresh10("proxy-revalidate"), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", hdr: []string{"Cache-Control", "max-stale"}, status: 200, body: "hello", cs: "gateway; fwd=stale; fwd-status=304; stored; ttl=10", calls: 2, sent: []string{"If-None-Match", etag1}},
		}},
	{"5.2.2.10", "s-maxage: a stale entry is validated, never served stale",
		ccServe(200, "hello", "Cache-Control", "s-maxage=10", "ETag", etag1), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", hdr: []string{"Cache-Control", "max-stale=1000"}, status: 200, body: "hello", cs: "gateway; fwd=stale; fwd-status=304; stored; ttl=10", calls: 2, sent: []string{"If-None-Match", etag1}},
		}},
	{"5.2.2.2", "must-revalidate: an unreachable origin gives an error, not the stale entry (stale-if-error does not override)",
		ccFresh10("must-revalidate, stale-if-error=60"), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", down: true, status: 5, body: ccAnyBody, calls: 1},
		}},
	{"5.2.2.3", "must-understand with no-store on a 200: stored, no-store overridden",
		ccServe(200, "hello", "Cache-Control", "must-understand, no-store, max-age=60"), []ccStep{
			ccMissStored(60),
			{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 1},
		}},
	{"5.2.2.3", "must-understand with no-store on a status not understood (299): not stored",
		ccServe(299, "hello", "Cache-Control", "must-understand, no-store, max-age=60"), []ccStep{
			{target: "/r", status: 299, body: "hello", cs: "gateway; fwd=uri-miss; fwd-status=299", calls: 1},
			{at: 1 * sec, target: "/r", status: 299, body: "hello", cs: "gateway; fwd=uri-miss; fwd-status=299", calls: 2},
		}},
	{"3.5", "Authorization: the response is not stored without public, s-maxage or must-revalidate", ccFresh60, []ccStep{
		{target: "/r", hdr: []string{"Authorization", "Bearer a"}, status: 200, body: "hello", csHas: []string{"!stored"}, calls: 1},
		{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csStored60, calls: 2},
	}},
	{"3.5", "Authorization: public makes the response storable and reusable",
		ccServe(200, "hello", "Cache-Control", "public, max-age=60"), []ccStep{
			{target: "/r", hdr: []string{"Authorization", "Bearer a"}, status: 200, body: "hello", csHas: []string{"stored"}, calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 1},
		}},
	{"3.5", "Authorization: s-maxage makes the response storable and reusable",
		ccServe(200, "hello", "Cache-Control", "s-maxage=60"), []ccStep{
			{target: "/r", hdr: []string{"Authorization", "Bearer a"}, status: 200, body: "hello", csHas: []string{"stored"}, calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 1},
		}},
	{"3.5", "Authorization: must-revalidate makes the response storable and reusable",
		ccServe(200, "hello", "Cache-Control", "must-revalidate, max-age=60"), []ccStep{
			{target: "/r", hdr: []string{"Authorization", "Bearer a"}, status: 200, body: "hello", csHas: []string{"stored"}, calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 1},
		}},
	{"3.5 (policy)", "a request with Authorization is not answered from the store (fwd=bypass)", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 1 * sec, target: "/r", hdr: []string{"Authorization", "Bearer a"}, status: 200, body: "hello", csHas: []string{"!hit", "fwd=bypass", "fwd-status=200"}, calls: 2, sent: []string{"Authorization", "Bearer a"}},
	}},
	{"3", "a 404 with max-age is stored and served",
		ccServe(404, "nope", "Cache-Control", "max-age=60"), []ccStep{
			{target: "/r", status: 404, body: "nope", cs: "gateway; fwd=uri-miss; fwd-status=404; stored; ttl=60", calls: 1},
			{at: 1 * sec, target: "/r", status: 404, body: "nope", cs: csHit, calls: 1},
		}},
	{"3", "a 500 without explicit freshness is not stored",
		ccServe(500, "boom"), []ccStep{
			{target: "/r", status: 500, body: "boom", cs: "gateway; fwd=uri-miss; fwd-status=500", calls: 1},
			{at: 1 * sec, target: "/r", status: 500, body: "boom", cs: "gateway; fwd=uri-miss; fwd-status=500", calls: 2},
		}},
	{"3", "a 302 with explicit freshness is stored and served",
		ccServe(302, "", "Location", "/elsewhere", "Cache-Control", "max-age=60"), []ccStep{
			{target: "/r", status: 302, body: "", cs: "gateway; fwd=uri-miss; fwd-status=302; stored; ttl=60", calls: 1},
			{at: 1 * sec, target: "/r", status: 302, body: "", want: []string{"Location", "/elsewhere"}, cs: csHit, calls: 1},
		}},
	{"3", "a response to POST is not stored; Cache-Status says fwd=method",
		ccServe(200, "hello", "Cache-Control", "max-age=60"), []ccStep{
			{method: "POST", target: "/r", status: 200, body: "hello", cs: "gateway; fwd=method; fwd-status=200", calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csStored60, calls: 2, sent: []string{":method", "GET"}},
		}},

	// Ranges (3.3, RFC 9110 14).
	{"3.3", "Range on a miss is forwarded as is and the 206 is not stored",
		func(n int, w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Range") == "bytes=0-1" {
				ccServe(206, "01", "Content-Range", "bytes 0-1/10", "Cache-Control", "max-age=60")(n, w, r)
				return
			}
			ccServe(200, "0123456789", "Cache-Control", "max-age=60")(n, w, r)
		}, []ccStep{
			{target: "/r", hdr: []string{"Range", "bytes=0-1"}, status: 206, body: "01", want: []string{"Content-Range", "bytes 0-1/10"}, cs: "gateway; fwd=uri-miss; fwd-status=206", calls: 1, sent: []string{"Range", "bytes=0-1"}},
			{at: 1 * sec, target: "/r", hdr: []string{"Range", "bytes=0-1"}, status: 206, body: "01", cs: "gateway; fwd=uri-miss; fwd-status=206", calls: 2, sent: []string{"Range", "bytes=0-1"}},
		}},
	{"RFC 9110 14.2", "Range on a hit: 206 from the stored 200, with Content-Range",
		ccServe(200, "0123456789", "Cache-Control", "max-age=60", "ETag", etag1), []ccStep{
			{target: "/r", status: 200, body: "0123456789", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", hdr: []string{"Range", "bytes=2-4"}, status: 206, body: "234", want: []string{"Content-Range", "bytes 2-4/10"}, cs: csHit, calls: 1},
		}},
	{"RFC 9110 14.1.2", "a suffix Range on a hit: the last bytes of the stored body",
		ccServe(200, "0123456789", "Cache-Control", "max-age=60", "ETag", etag1), []ccStep{
			{target: "/r", status: 200, body: "0123456789", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", hdr: []string{"Range", "bytes=-3"}, status: 206, body: "789", want: []string{"Content-Range", "bytes 7-9/10"}, cs: csHit, calls: 1},
		}},
	{"RFC 9110 13.1.5", "If-Range matching the stored ETag: the range is served (206)",
		ccServe(200, "0123456789", "Cache-Control", "max-age=60", "ETag", etag1), []ccStep{
			{target: "/r", status: 200, body: "0123456789", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", hdr: []string{"Range", "bytes=2-4", "If-Range", etag1}, status: 206, body: "234", want: []string{"Content-Range", "bytes 2-4/10"}, cs: csHit, calls: 1},
		}},
	{"RFC 9110 13.1.5", "If-Range not matching: the whole stored 200",
		ccServe(200, "0123456789", "Cache-Control", "max-age=60", "ETag", etag1), []ccStep{
			{target: "/r", status: 200, body: "0123456789", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", hdr: []string{"Range", "bytes=2-4", "If-Range", `"v0"`}, status: 200, body: "0123456789", want: []string{"Content-Range", ccNone}, cs: csHit, calls: 1},
		}},

	// Invalidation (4.4).
	ccInvalidates("POST", 200),
	ccInvalidates("PUT", 204),
	ccInvalidates("DELETE", 200),
	ccInvalidates("PATCH", 200),
	{"4.4", "an unsafe method answered 2xx invalidates a same-origin Location (relative)",
		ccByMethod(ccFresh60, ccServe(201, "", "Location", "/r2")), []ccStep{
			{target: "/r2", status: 200, body: "hello", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r2", status: 200, body: "hello", cs: csHit, calls: 1},
			{at: 2 * sec, method: "POST", target: "/r", status: 201, body: "", calls: 2},
			{at: 3 * sec, target: "/r2", status: 200, body: "hello", cs: csStored60, calls: 3},
		}},
	{"4.4", "an unsafe method answered 2xx invalidates a same-origin Content-Location (absolute)",
		ccByMethod(ccFresh60, ccServe(200, "ok", "Content-Location", "http://api.example/r2")), []ccStep{
			{target: "/r2", status: 200, body: "hello", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r2", status: 200, body: "hello", cs: csHit, calls: 1},
			{at: 2 * sec, method: "PUT", target: "/r", status: 200, body: "ok", calls: 2},
			{at: 3 * sec, target: "/r2", status: 200, body: "hello", cs: csStored60, calls: 3},
		}},
	{"4.4", "a cross-origin Location is not invalidated",
		ccByMethod(ccFresh60, ccServe(201, "", "Location", "http://other.example/r2")), []ccStep{
			{target: "http://other.example/r2", status: 200, body: "hello", cs: csStored60, calls: 1},
			{at: 1 * sec, method: "POST", target: "/r", status: 201, body: "", calls: 2},
			{at: 2 * sec, target: "http://other.example/r2", status: 200, body: "hello", cs: csHit, calls: 2},
		}},
	{"4.4", "an unsafe method answered 4xx does not invalidate",
		ccByMethod(ccFresh60, ccServe(403, "no")), []ccStep{
			ccMissStored(60),
			{at: 1 * sec, method: "POST", target: "/r", status: 403, body: "no", calls: 2},
			{at: 2 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 2},
		}},
	{"4.4", "an unsafe method answered 5xx does not invalidate",
		ccByMethod(ccFresh60, ccServe(500, "boom")), []ccStep{
			ccMissStored(60),
			{at: 1 * sec, method: "DELETE", target: "/r", status: 500, body: "boom", calls: 2},
			{at: 2 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 2},
		}},
	{"4.4", "invalidation removes every variant of the target URI",
		ccByMethod(ccEcho("Accept-Encoding", "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"), ccServe(200, "ok")), []ccStep{
			{target: "/r", hdr: []string{"Accept-Encoding", "gzip"}, status: 200, body: "Accept-Encoding=gzip", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", hdr: []string{"Accept-Encoding", "br"}, status: 200, body: "Accept-Encoding=br", csHas: []string{"stored"}, calls: 2},
			{at: 2 * sec, method: "POST", target: "/r", status: 200, body: "ok", calls: 3},
			{at: 3 * sec, target: "/r", hdr: []string{"Accept-Encoding", "gzip"}, status: 200, body: "Accept-Encoding=gzip", csHas: []string{"!hit"}, calls: 4},
			{at: 4 * sec, target: "/r", hdr: []string{"Accept-Encoding", "br"}, status: 200, body: "Accept-Encoding=br", csHas: []string{"!hit"}, calls: 5},
		}},

	// Vary (4.1).
	{"4.1", "two variants by Accept-Encoding are stored side by side",
		ccEcho("Accept-Encoding", "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"), []ccStep{
			{target: "/r", hdr: []string{"Accept-Encoding", "gzip"}, status: 200, body: "Accept-Encoding=gzip", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", hdr: []string{"Accept-Encoding", "br"}, status: 200, body: "Accept-Encoding=br", cs: "gateway; fwd=vary-miss; fwd-status=200; stored; ttl=60", calls: 2},
			{at: 2 * sec, target: "/r", hdr: []string{"Accept-Encoding", "gzip"}, status: 200, body: "Accept-Encoding=gzip", cs: csHit, calls: 2},
			{at: 3 * sec, target: "/r", hdr: []string{"Accept-Encoding", "br"}, status: 200, body: "Accept-Encoding=br", cs: csHit, calls: 2},
		}},
	{"4.1", "an absent field matches only an absent field",
		ccEcho("Accept-Encoding", "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"), []ccStep{
			{target: "/r", status: 200, body: "Accept-Encoding=", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", hdr: []string{"Accept-Encoding", "gzip"}, status: 200, body: "Accept-Encoding=gzip", cs: "gateway; fwd=vary-miss; fwd-status=200; stored; ttl=60", calls: 2},
			{at: 2 * sec, target: "/r", status: 200, body: "Accept-Encoding=", cs: csHit, calls: 2},
		}},
	{"4.1", "Vary matching ignores whitespace after commas and how lines are split",
		ccEcho("Accept-Encoding", "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"), []ccStep{
			{target: "/r", hdr: []string{"Accept-Encoding", "gzip, br"}, status: 200, body: "Accept-Encoding=gzip, br", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", hdr: []string{"Accept-Encoding", "gzip,br"}, status: 200, body: "Accept-Encoding=gzip, br", cs: csHit, calls: 1},
			{at: 2 * sec, target: "/r", hdr: []string{"Accept-Encoding", "gzip", "Accept-Encoding", "br"}, status: 200, body: "Accept-Encoding=gzip, br", cs: csHit, calls: 1},
		}},
	{"4.1", "Vary field names are case-insensitive",
		ccEcho("Accept-Encoding", "Cache-Control", "max-age=60", "Vary", "accept-encoding"), []ccStep{
			{target: "/r", hdr: []string{"Accept-Encoding", "gzip"}, status: 200, body: "Accept-Encoding=gzip", cs: csStored60, calls: 1},
			{at: 1 * sec, target: "/r", hdr: []string{"Accept-Encoding", "br"}, status: 200, body: "Accept-Encoding=br", csHas: []string{"fwd=vary-miss"}, calls: 2},
			{at: 2 * sec, target: "/r", hdr: []string{"Accept-Encoding", "gzip"}, status: 200, body: "Accept-Encoding=gzip", cs: csHit, calls: 2},
		}},
	{"4.1", "Vary: * is never served from the cache",
		ccServe(200, "hello", "Cache-Control", "max-age=60", "Vary", "*"), []ccStep{
			{target: "/r", status: 200, body: "hello", csHas: []string{"fwd-status=200"}, calls: 1},
			{at: 1 * sec, target: "/r", status: 200, body: "hello", csHas: []string{"!hit", "fwd-status=200"}, calls: 2},
		}},

	// Request directives (5.2.1, 5.4).
	{"5.2.1.1", "request max-age below the entry's age: validated (fwd=request)",
		ccServe(200, "hello", "Cache-Control", "max-age=100", "ETag", etag1), []ccStep{
			ccMissStored(100),
			{at: 20 * sec, target: "/r", hdr: []string{"Cache-Control", "max-age=10"}, status: 200, body: "hello", cs: "gateway; fwd=request; fwd-status=304; stored; ttl=100", calls: 2, sent: []string{"If-None-Match", etag1}},
		}},
	{"5.2.1.1", "request max-age above the entry's age: served",
		ccServe(200, "hello", "Cache-Control", "max-age=100", "ETag", etag1), []ccStep{
			ccMissStored(100),
			{at: 5 * sec, target: "/r", hdr: []string{"Cache-Control", "max-age=10"}, status: 200, body: "hello", want: []string{"Age", "5"}, cs: csHit, calls: 1},
		}},
	{"5.2.1.2", "max-stale without a value: any stale entry is served (hit, ttl negative)",
		ccFresh10(""), []ccStep{
			ccMissStored(10),
			{at: 100 * sec, target: "/r", hdr: []string{"Cache-Control", "max-stale"}, status: 200, body: "hello", want: []string{"Age", "100"}, cs: "gateway; hit; ttl=-90", calls: 1},
		}},
	{"5.2.1.2", "max-stale=30: an entry stale by 20 s is served",
		ccFresh10(""), []ccStep{
			ccMissStored(10),
			{at: 30 * sec, target: "/r", hdr: []string{"Cache-Control", "max-stale=30"}, status: 200, body: "hello", cs: "gateway; hit; ttl=-20", calls: 1},
		}},
	{"5.2.1.2", "max-stale=5: an entry stale by 20 s is validated",
		ccFresh10(""), []ccStep{
			ccMissStored(10),
			{at: 30 * sec, target: "/r", hdr: []string{"Cache-Control", "max-stale=5"}, status: 200, body: "hello", cs: "gateway; fwd=stale; fwd-status=304; stored; ttl=10", calls: 2, sent: []string{"If-None-Match", etag1}},
		}},
	{"5.2.1.3", "min-fresh above what is left: validated (fwd=request)", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 40 * sec, target: "/r", hdr: []string{"Cache-Control", "min-fresh=30"}, status: 200, body: "hello", csHas: []string{"fwd=request", "fwd-status=304"}, calls: 2, sent: []string{"If-None-Match", etag1}},
	}},
	{"5.2.1.3", "min-fresh below what is left: served", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 40 * sec, target: "/r", hdr: []string{"Cache-Control", "min-fresh=10"}, status: 200, body: "hello", cs: csHit, calls: 1},
	}},
	{"5.2.1.4", "request no-cache: the fresh entry is validated, a 304 gives the stored body", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 1 * sec, target: "/r", hdr: []string{"Cache-Control", "no-cache"}, status: 200, body: "hello", cs: "gateway; fwd=request; fwd-status=304; stored; ttl=60", calls: 2, sent: []string{"If-None-Match", etag1}},
	}},
	{"5.4", "Pragma: no-cache without Cache-Control is request no-cache", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 1 * sec, target: "/r", hdr: []string{"Pragma", "no-cache"}, status: 200, body: "hello", csHas: []string{"fwd=request", "fwd-status=304"}, calls: 2, sent: []string{"If-None-Match", etag1}},
	}},
	{"5.4", "Pragma is ignored when the request has Cache-Control", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 1 * sec, target: "/r", hdr: []string{"Pragma", "no-cache", "Cache-Control", "max-age=600"}, status: 200, body: "hello", cs: csHit, calls: 1},
	}},
	{"5.2.1.7", "only-if-cached on a miss: 504, origin not asked", ccFresh60, []ccStep{
		{target: "/r", hdr: []string{"Cache-Control", "only-if-cached"}, status: 504, body: ccAnyBody, cs: "gateway; detail=only-if-cached", calls: 0},
	}},
	{"5.2.1.7", "only-if-cached on a stale entry: 504, origin not asked", ccFresh10(""), []ccStep{
		ccMissStored(10),
		{at: 20 * sec, target: "/r", hdr: []string{"Cache-Control", "only-if-cached"}, status: 504, body: ccAnyBody, cs: "gateway; detail=only-if-cached", calls: 1},
	}},
	{"5.2.1.7", "only-if-cached on a fresh entry: served", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 5 * sec, target: "/r", hdr: []string{"Cache-Control", "only-if-cached"}, status: 200, body: "hello", cs: csHit, calls: 1},
	}},

	// Validation (4.3).
	{"4.3.1", "a stale entry with an ETag is validated with If-None-Match; the 304 refreshes it", ccFresh10(""), []ccStep{
		ccMissStored(10),
		{at: 20 * sec, target: "/r", status: 200, body: "hello", want: []string{"ETag", etag1}, cs: "gateway; fwd=stale; fwd-status=304; stored; ttl=10", calls: 2, sent: []string{"If-None-Match", etag1, "If-Modified-Since", ccNone}},
		{at: 25 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "5"}, cs: csHit, calls: 2},
	}},
	{"4.3.1", "a stale entry with only Last-Modified is validated with If-Modified-Since",
		ccServe(200, "hello", "Cache-Control", "max-age=10", "Last-Modified", ccDate(-100)), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", cs: "gateway; fwd=stale; fwd-status=304; stored; ttl=10", calls: 2, sent: []string{"If-Modified-Since", ccDate(-100), "If-None-Match", ccNone}},
		}},
	{"4.3.4", "a new Cache-Control on the 304 extends the entry's freshness",
		ccSeq(ccFresh10(""), ccServe(304, "", "Cache-Control", "max-age=100", "ETag", etag1)), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", cs: "gateway; fwd=stale; fwd-status=304; stored; ttl=100", calls: 2, sent: []string{"If-None-Match", etag1}},
			{at: 110 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "90"}, cs: csHit, calls: 2},
			{at: 121 * sec, target: "/r", status: 200, body: "hello", csHas: []string{"fwd=stale"}, calls: 3},
		}},
	{"3.2", "the 304's header fields replace the stored ones",
		ccSeq(ccServe(200, "hello", "Cache-Control", "max-age=10", "ETag", etag1, "X-Version", "1"),
			ccServe(304, "", "Cache-Control", "max-age=10", "ETag", etag1, "X-Version", "2")), []ccStep{
			{target: "/r", status: 200, body: "hello", want: []string{"X-Version", "1"}, cs: "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=10", calls: 1},
			{at: 20 * sec, target: "/r", status: 200, body: "hello", want: []string{"X-Version", "2"}, calls: 2},
			{at: 25 * sec, target: "/r", status: 200, body: "hello", want: []string{"X-Version", "2"}, cs: csHit, calls: 2},
		}},
	{"3.2", "Content-Length is not taken from a 304",
		ccSeq(ccFresh10(""), ccServe(304, "", "Cache-Control", "max-age=10", "ETag", etag1, "Content-Length", "0")), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", want: []string{"Content-Length", "!0"}, calls: 2},
			{at: 25 * sec, target: "/r", status: 200, body: "hello", want: []string{"Content-Length", "!0"}, cs: csHit, calls: 2},
		}},
	{"4.3.3", "a 200 to a conditional request replaces the entry",
		ccSeq(ccFresh10(""), ccServe(200, "v2", "Cache-Control", "max-age=10", "ETag", `"v2"`)), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "v2", want: []string{"ETag", `"v2"`}, cs: "gateway; fwd=stale; fwd-status=200; stored; ttl=10", calls: 2, sent: []string{"If-None-Match", etag1}},
			{at: 25 * sec, target: "/r", status: 200, body: "v2", want: []string{"ETag", `"v2"`, "Age", "5"}, cs: csHit, calls: 2},
		}},
	{"4.3.4", "a 304 that says no-store removes the entry",
		ccSeq(ccFresh10(""), ccServe(304, "", "Cache-Control", "no-store", "ETag", etag1), ccServe(200, "v3", "Cache-Control", "max-age=10", "ETag", `"v3"`)), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", calls: 2, sent: []string{"If-None-Match", etag1}},
			{at: 21 * sec, target: "/r", status: 200, body: "v3", csHas: []string{"fwd=uri-miss"}, calls: 3, sent: []string{"If-None-Match", ccNone}},
		}},

	// Client conditionals answered by the cache (4.3.2, RFC 9110 13).
	{"4.3.2", "If-None-Match matching a fresh entry: 304 from the cache", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 1 * sec, target: "/r", hdr: []string{"If-None-Match", etag1}, status: 304, body: "", want: []string{"ETag", etag1}, cs: csHit, calls: 1},
	}},
	{"RFC 9110 13.1.2", "If-None-Match uses weak comparison: \"v1\" matches W/\"v1\"",
		ccServe(200, "hello", "Cache-Control", "max-age=60", "ETag", `W/"v1"`), []ccStep{
			ccMissStored(60),
			{at: 1 * sec, target: "/r", hdr: []string{"If-None-Match", etag1}, status: 304, body: "", cs: csHit, calls: 1},
		}},
	{"RFC 9110 13.1.2", "If-None-Match with a list naming the ETag, or *: 304", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 1 * sec, target: "/r", hdr: []string{"If-None-Match", `"x", W/"v1"`}, status: 304, body: "", cs: csHit, calls: 1},
		{at: 2 * sec, target: "/r", hdr: []string{"If-None-Match", "*"}, status: 304, body: "", cs: csHit, calls: 1},
	}},
	{"RFC 9110 13.1.2", "If-None-Match not matching: the stored 200", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 1 * sec, target: "/r", hdr: []string{"If-None-Match", `"x"`}, status: 200, body: "hello", cs: csHit, calls: 1},
	}},
	{"RFC 9110 13.1.3", "If-Modified-Since not before Last-Modified: 304 from the cache",
		ccServe(200, "hello", "Cache-Control", "max-age=60", "Last-Modified", ccDate(-100)), []ccStep{
			ccMissStored(60),
			{at: 1 * sec, target: "/r", hdr: []string{"If-Modified-Since", ccDate(-50)}, status: 304, body: "", cs: csHit, calls: 1},
		}},
	{"RFC 9110 13.1.3", "If-Modified-Since before Last-Modified: the stored 200",
		ccServe(200, "hello", "Cache-Control", "max-age=60", "Last-Modified", ccDate(-100)), []ccStep{
			ccMissStored(60),
			{at: 1 * sec, target: "/r", hdr: []string{"If-Modified-Since", ccDate(-200)}, status: 200, body: "hello", cs: csHit, calls: 1},
		}},
	{"RFC 9110 13.1.3", "If-Modified-Since is ignored when If-None-Match is present",
		ccServe(200, "hello", "Cache-Control", "max-age=60", "ETag", etag1, "Last-Modified", ccDate(-100)), []ccStep{
			ccMissStored(60),
			{at: 1 * sec, target: "/r", hdr: []string{"If-None-Match", `"x"`, "If-Modified-Since", ccDate(0)}, status: 200, body: "hello", cs: csHit, calls: 1},
		}},
	{"4.3.2", "a client's conditional on a stale entry: validated, then 304 to the client", ccFresh10(""), []ccStep{
		ccMissStored(10),
		{at: 20 * sec, target: "/r", hdr: []string{"If-None-Match", etag1}, status: 304, body: "", csHas: []string{"fwd=stale", "fwd-status=304"}, calls: 2, sent: []string{"If-None-Match", etag1}},
		{at: 21 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 2},
	}},
	{"4.3.2", "a client's conditional on a miss is forwarded and its 304 passes through unstored", ccFresh60, []ccStep{
		{target: "/r", hdr: []string{"If-None-Match", etag1}, status: 304, body: "", csHas: []string{"fwd=uri-miss", "fwd-status=304", "!stored"}, calls: 1, sent: []string{"If-None-Match", etag1}},
		{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csStored60, calls: 2, sent: []string{"If-None-Match", ccNone}},
	}},

	// stale-while-revalidate (RFC 5861 3).
	{"RFC 5861 3", "within stale-while-revalidate: served stale at once (hit, ttl<0), one background validation refreshes it",
		ccFresh10("stale-while-revalidate=30"), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "20"}, cs: "gateway; hit; ttl=-10", calls: 2, sent: []string{"If-None-Match", etag1}},
			{at: 21 * sec, target: "/r", status: 200, body: "hello", want: []string{"Age", "1"}, cs: csHit, calls: 2},
		}},
	{"RFC 5861 3", "a stale hit while a background validation is in flight starts no other",
		ccSeq(ccFresh10("stale-while-revalidate=30"),
			ccSlow(5*sec, ccServe(200, "hello", "Cache-Control", "max-age=60, stale-while-revalidate=30", "ETag", etag1))), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", cs: "gateway; hit; ttl=-10", calls: 2},
			{at: 22 * sec, target: "/r", status: 200, body: "hello", cs: "gateway; hit; ttl=-12", calls: 2},
			{at: 30 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 2},
		}},
	{"RFC 5861 3", "a 200 to the background validation replaces the entry",
		ccSeq(ccFresh10("stale-while-revalidate=30"), ccServe(200, "v2", "Cache-Control", "max-age=10", "ETag", `"v2"`)), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", cs: "gateway; hit; ttl=-10", calls: 2},
			{at: 21 * sec, target: "/r", status: 200, body: "v2", cs: csHit, calls: 2},
		}},
	{"RFC 5861 3", "past the stale-while-revalidate window: validated in the foreground",
		ccFresh10("stale-while-revalidate=30"), []ccStep{
			ccMissStored(10),
			{at: 50 * sec, target: "/r", status: 200, body: "hello", cs: "gateway; fwd=stale; fwd-status=304; stored; ttl=10", calls: 2, sent: []string{"If-None-Match", etag1}},
		}},

	// stale-if-error (RFC 5861 4).
	{"RFC 5861 4", "within stale-if-error, an origin 503 gives the stale entry",
		ccSeq(ccFresh10("stale-if-error=60"), ccServe(503, "down")), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 200, body: "hello", cs: "gateway; fwd=stale; fwd-status=503; ttl=-10", calls: 2, sent: []string{"If-None-Match", etag1}},
		}},
	{"RFC 5861 4", "within stale-if-error, an unreachable origin gives the stale entry",
		ccFresh10("stale-if-error=60"), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, down: true, target: "/r", status: 200, body: "hello", csHas: []string{"fwd=stale", "ttl=-10", "!stored"}, calls: 1},
		}},
	{"RFC 5861 4", "past the stale-if-error window, the error passes through",
		ccSeq(ccFresh10("stale-if-error=60"), ccServe(503, "down")), []ccStep{
			ccMissStored(10),
			{at: 80 * sec, target: "/r", status: 503, body: "down", csHas: []string{"fwd=stale", "fwd-status=503"}, calls: 2},
		}},
	{"RFC 5861 4", "stale-if-error in the request serves the stale entry on a 503",
		ccSeq(ccFresh10(""), ccServe(503, "down")), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", hdr: []string{"Cache-Control", "stale-if-error=60"}, status: 200, body: "hello", csHas: []string{"fwd=stale", "fwd-status=503", "ttl=-10"}, calls: 2},
		}},
	{"RFC 5861 4", "a 404 is not an error for stale-if-error: it passes through",
		ccSeq(ccFresh10("stale-if-error=60"), ccServe(404, "gone")), []ccStep{
			ccMissStored(10),
			{at: 20 * sec, target: "/r", status: 404, body: "gone", csHas: []string{"fwd=stale", "fwd-status=404"}, calls: 2},
		}},

	// HEAD (RFC 9110 9.3.2, 4).
	{"RFC 9110 9.3.2", "HEAD is answered from a stored GET, without a body", ccFresh60, []ccStep{
		ccMissStored(60),
		{at: 1 * sec, method: "HEAD", target: "/r", status: 200, body: "", want: []string{"ETag", etag1, "Age", "1"}, cs: csHit, calls: 1},
	}},
	{"RFC 9110 9.3.2", "a HEAD miss is forwarded as HEAD and nothing is stored", ccFresh60, []ccStep{
		{method: "HEAD", target: "/r", status: 200, body: "", csHas: []string{"fwd=uri-miss", "fwd-status=200", "!stored"}, calls: 1, sent: []string{":method", "HEAD"}},
		{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csStored60, calls: 2, sent: []string{":method", "GET"}},
	}},

	// Coalescing (4, RFC 9211 2.6).
	{"4 / RFC 9211 2.6", "10 concurrent misses make one origin request; the followers are collapsed",
		ccSlow(sec, ccFresh60), []ccStep{
			{target: "/r", clients: 10, status: 200, body: "hello", calls: 1, collapsed: 9},
			{at: 2 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 1},
		}},
	{"4", "when the leader's response cannot be stored, each follower goes to the origin itself",
		ccSlow(sec, ccServe(200, "hello", "Cache-Control", "no-store")), []ccStep{
			{target: "/r", clients: 10, status: 200, body: "hello", calls: 10},
		}},
}

// ccInvalidates is the row of method answered with status invalidating the
// target URI (4.4).
func ccInvalidates(method string, status int) ccRow {
	body := "ok"
	if status == http.StatusNoContent {
		body = ""
	}
	return ccRow{"4.4", method + " answered " + strconv.Itoa(status) + " invalidates the target URI",
		ccByMethod(ccFresh60, ccServe(status, body)), []ccStep{
			ccMissStored(60),
			{at: 1 * sec, target: "/r", status: 200, body: "hello", cs: csHit, calls: 1},
			{at: 2 * sec, method: method, target: "/r", status: status, body: body, csHas: []string{"fwd=method"}, calls: 2},
			{at: 3 * sec, target: "/r", status: 200, body: "hello", cs: csStored60, calls: 3, sent: []string{"If-None-Match", ccNone}},
		}}
}

// TestProxyCacheConformance plays every row of ccRows against a Proxy with
// a store.Memory, inside a synctest bubble.
func TestProxyCacheConformance(t *testing.T) {
	for _, row := range ccRows {
		t.Run(row.sec+" "+row.req, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { ccRun(t, row) })
		})
	}
}

// ccRun plays row's steps, each at its time, and stops at the first step
// that does not give what it wants.
func ccRun(t *testing.T, row ccRow) {
	t.Helper()
	st, err := store.NewMemory(store.MemoryConfig{Grace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tr := &ccTransport{origin: row.origin}
	p := &gateway.Proxy{
		Upstreams: balancer.MustPool("http://origin.test"),
		Cache:     st,
		Transport: tr,
		Logger:    slog.New(slog.DiscardHandler),
	}
	defer ccClose(p)
	start := time.Now()
	for i, s := range row.steps {
		if d := time.Until(start.Add(s.at)); d > 0 {
			time.Sleep(d)
		}
		tr.setDown(s.down)
		res := ccSend(p, s)
		synctest.Wait() // background validations run to where they block
		if !ccCheck(t, fmt.Sprintf("step %d %s", i+1, ccName(s)), s, res, tr.requests()) {
			return
		}
	}
}

// ccClose waits for what the Proxy still does in the background.
func ccClose(p *gateway.Proxy) { p.Close() }

// ccName names the request of s as failures show it: "GET /r".
func ccName(s ccStep) string {
	m := s.method
	if m == "" {
		m = http.MethodGet
	}
	return m + " " + s.target
}

// ccSend sends the request of s through p, from s.clients clients at once,
// and returns what they received.
func ccSend(p http.Handler, s ccStep) []*httptest.ResponseRecorder {
	n := max(s.clients, 1)
	out := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range out {
		out[i] = httptest.NewRecorder()
		wg.Go(func() {
			// As net/http's server does, the request's context ends when
			// the handler returns: work the cache goes on with must not
			// hang on it.
			r := ccRequest(s)
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			p.ServeHTTP(out[i], r.WithContext(ctx))
		})
	}
	wg.Wait()
	return out
}

// ccRequest builds the request of s.
func ccRequest(s ccStep) *http.Request {
	method := s.method
	if method == "" {
		method = http.MethodGet
	}
	target := s.target
	if strings.HasPrefix(target, "/") {
		target = "http://api.example" + target
	}
	var body io.Reader
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		body = strings.NewReader("x")
	}
	r := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(s.hdr); i += 2 {
		r.Header.Add(s.hdr[i], s.hdr[i+1])
	}
	return r
}

// ccCheck reports, as errors of t named by name, where the responses res
// and the origin's requests seen differ from what s wants, and whether
// none does.
func ccCheck(t *testing.T, name string, s ccStep, res []*httptest.ResponseRecorder, seen []ccSeen) bool {
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(name+": "+format, args...)
		ok = false
	}
	collapsed := 0
	for i, w := range res {
		who := ""
		if len(res) > 1 {
			who = fmt.Sprintf("client %d: ", i+1)
		}
		if s.status < 10 && w.Code/100 != s.status || s.status >= 10 && w.Code != s.status {
			fail("%sstatus = %d; want %s", who, w.Code, ccStatusWant(s.status))
		}
		if got := w.Body.String(); s.body != ccAnyBody && got != s.body {
			fail("%sbody = %q; want %q", who, ccShort(got), s.body)
		}
		for j := 0; j+1 < len(s.want); j += 2 {
			k, want := s.want[j], s.want[j+1]
			if msg := ccCheckField(w.Header(), k, want); msg != "" {
				fail("%s%s", who, msg)
			}
		}
		csField := w.Header().Get("Cache-Status")
		if s.cs != "" && csField != s.cs {
			fail("%sCache-Status = %q; want %q", who, csField, s.cs)
		}
		if len(s.csHas) > 0 {
			name, params := ccCacheStatus(csField)
			if name != "gateway" {
				fail("%sCache-Status = %q; want a member of cache gateway", who, csField)
			} else {
				for _, p := range s.csHas {
					if why := ccCheckStatusParam(params, p); why != "" {
						fail("%sCache-Status = %q (%s); want %s", who, csField, why, p)
					}
				}
			}
		}
		if _, params := ccCacheStatus(csField); params["collapsed"] == "?1" {
			collapsed++
		}
	}
	if len(res) > 1 && collapsed != s.collapsed {
		fail("responses with collapsed in Cache-Status = %d; want %d", collapsed, s.collapsed)
	}
	if len(seen) != s.calls {
		fail("origin requests = %d; want %d", len(seen), s.calls)
	}
	if len(s.sent) > 0 && len(seen) > 0 {
		last := seen[len(seen)-1]
		for j := 0; j+1 < len(s.sent); j += 2 {
			k, want := s.sent[j], s.sent[j+1]
			if k == ":method" {
				if last.method != want {
					fail("origin's request method = %s; want %s", last.method, want)
				}
				continue
			}
			if msg := ccCheckField(last.header, k, want); msg != "" {
				fail("origin's request %s", msg)
			}
		}
	}
	return ok
}

// ccCheckField returns why field k of h fails want (a value, ccNone for
// absent, "!v" for anything but v), "" when it does not.
func ccCheckField(h http.Header, k, want string) string {
	got, present := h[http.CanonicalHeaderKey(k)]
	v := strings.Join(got, ", ")
	switch {
	case want == ccNone:
		if present {
			return fmt.Sprintf("%s = %q; want none", k, v)
		}
	case strings.HasPrefix(want, "!"):
		if v == want[1:] {
			return fmt.Sprintf("%s = %q; want anything but %q", k, v, want[1:])
		}
	case !present:
		return fmt.Sprintf("%s absent; want %q", k, want)
	case v != want:
		return fmt.Sprintf("%s = %q; want %q", k, v, want)
	}
	return ""
}

func ccStatusWant(s int) string {
	if s < 10 {
		return strconv.Itoa(s) + "xx"
	}
	return strconv.Itoa(s)
}

func ccShort(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// TestProxyCacheLoopback checks a few rows of the table over real sockets
// on both sides of the Proxy, through its default transport.
func TestProxyCacheLoopback(t *testing.T) {
	t.Run("fresh hit", func(t *testing.T) {
		var calls atomic.Int32
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "hello")
		}))
		defer origin.Close()
		front := ccLoopbackProxy(t, origin.URL, ccNewCountingStore(t, 0))
		ccLoopbackGet(t, "step 1 GET /r", front+"/r", 200, "hello", "fwd=uri-miss", "fwd-status=200", "stored")
		ccLoopbackGet(t, "step 2 GET /r", front+"/r", 200, "hello", "hit", "!fwd")
		if n := calls.Load(); n != 1 {
			t.Errorf("origin requests = %d; want 1", n)
		}
	})

	t.Run("304 revalidation", func(t *testing.T) {
		var calls atomic.Int32
		var inm atomic.Value
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			inm.Store(r.Header.Get("If-None-Match"))
			w.Header().Set("Cache-Control", "max-age=0")
			w.Header().Set("ETag", etag1)
			if r.Header.Get("If-None-Match") == etag1 {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "hello")
		}))
		defer origin.Close()
		front := ccLoopbackProxy(t, origin.URL, ccNewCountingStore(t, 0))
		ccLoopbackGet(t, "step 1 GET /r", front+"/r", 200, "hello", "fwd=uri-miss", "fwd-status=200", "stored")
		ccLoopbackGet(t, "step 2 GET /r", front+"/r", 200, "hello", "fwd=stale", "fwd-status=304", "stored")
		if n := calls.Load(); n != 2 {
			t.Errorf("origin requests = %d; want 2", n)
		}
		if got := inm.Load(); got != etag1 {
			t.Errorf("origin's request If-None-Match = %q; want %q", got, etag1)
		}
	})

	t.Run("coalescing", func(t *testing.T) {
		const clients = 10
		var calls atomic.Int32
		st := ccNewCountingStore(t, clients)
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			// Hold the answer until every client has looked the key up,
			// so that all of them are waiting on this request; the timer
			// only keeps a cache that waits without a lookup from hanging.
			select {
			case <-st.looked:
			case <-time.After(2 * time.Second):
			}
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "hello")
		}))
		defer origin.Close()
		front := ccLoopbackProxy(t, origin.URL, st)
		var wg sync.WaitGroup
		var collapsed atomic.Int32
		for i := range clients {
			wg.Go(func() {
				res := ccLoopbackGet(t, fmt.Sprintf("client %d GET /r", i+1), front+"/r", 200, "hello")
				if _, params := ccCacheStatus(res.Get("Cache-Status")); params["collapsed"] == "?1" {
					collapsed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("origin requests = %d; want 1", n)
		}
		if n := collapsed.Load(); n != clients-1 {
			t.Errorf("responses with collapsed in Cache-Status = %d; want %d", n, clients-1)
		}
	})
}

// ccCountingStore is a store.Memory that closes looked once it has been
// asked for want keys.
type ccCountingStore struct {
	*store.Memory
	want   int32
	gets   atomic.Int32
	looked chan struct{}
	once   sync.Once
}

// ccNewCountingStore returns a ccCountingStore that closes looked after
// want lookups (0: never).
func ccNewCountingStore(t *testing.T, want int32) *ccCountingStore {
	t.Helper()
	mem, err := store.NewMemory(store.MemoryConfig{Grace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return &ccCountingStore{Memory: mem, want: want, looked: make(chan struct{})}
}

func (s *ccCountingStore) Get(ctx context.Context, key string) (*cache.Entry, bool) {
	if n := s.gets.Add(1); s.want > 0 && n >= s.want {
		s.once.Do(func() { close(s.looked) })
	}
	return s.Memory.Get(ctx, key)
}

// ccLoopbackProxy starts a server running a Proxy to originURL that
// caches in st, and returns its URL.
func ccLoopbackProxy(t *testing.T, originURL string, st *ccCountingStore) string {
	t.Helper()
	p := &gateway.Proxy{Upstreams: balancer.MustPool(originURL), Cache: st, Logger: slog.New(slog.DiscardHandler)}
	front := httptest.NewServer(p)
	t.Cleanup(func() {
		front.Close()
		ccClose(p)
		p.CloseIdleConnections()
	})
	return front.URL
}

// ccLoopbackGet sends a GET to url and checks its status, body and the
// parameters csHas of its Cache-Status (see ccCheckStatusParam); it returns
// the response header. It may run on any goroutine.
func ccLoopbackGet(t *testing.T, name, url string, status int, body string, csHas ...string) http.Header {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return http.Header{}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Errorf("%s: reading the body: %v", name, err)
	}
	if res.StatusCode != status || string(b) != body {
		t.Errorf("%s: %d %q; want %d %q", name, res.StatusCode, b, status, body)
	}
	field := res.Header.Get("Cache-Status")
	_, params := ccCacheStatus(field)
	for _, p := range csHas {
		if why := ccCheckStatusParam(params, p); why != "" {
			t.Errorf("%s: Cache-Status = %q (%s); want %s", name, field, why, p)
		}
	}
	return res.Header
}
