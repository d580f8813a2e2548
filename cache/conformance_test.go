package cache_test

import (
	"crypto/tls"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// conformance is the table of RFC requirements this engine meets, each
// row naming its section and checked against the package's functions.
// RFC 9111 sections are written bare ("4.2.1"), others with their RFC.
var conformance = []struct {
	section     string
	requirement string
	check       func() (got, want any)
}{
	// Parsing (RFC 9111 1.2.2, 5.2).
	{"1.2.2", "delta-seconds too large is taken as 2^31", func() (any, any) {
		d, _ := cache.ParseCacheControl([]string{"max-age=99999999999999999999"}).MaxAge()
		return d, (1 << 31) * time.Second
	}},
	{"1.2.2/4.2.1", "an invalid max-age makes the response stale", func() (any, any) {
		return action(pol, get(), res(200, "Cache-Control", "max-age=soon"), 0), cache.MustValidate
	}},
	{"4.2.1", "a duplicated directive: the first occurrence is used", func() (any, any) {
		d, _ := cache.ParseCacheControl([]string{"max-age=10", "max-age=99"}).MaxAge()
		return d, 10 * time.Second
	}},
	{"5.2", "directive names are case-insensitive", func() (any, any) {
		return cache.ParseCacheControl([]string{"No-Store"}).NoStore(), true
	}},
	{"5.2", "arguments may be quoted strings, commas inside quotes included", func() (any, any) {
		d := cache.ParseCacheControl([]string{`no-cache="Set-Cookie, X-A", max-age="60"`})
		m, _ := d.MaxAge()
		return d.NoCacheFields() + " " + m.String(), "Set-Cookie, X-A 1m0s"
	}},
	{"5.2", "a semicolon is read as a comma: private; must-revalidate is private", func() (any, any) {
		d := cache.ParseCacheControl([]string{`private; must-revalidate;max-age=5; no-cache="a;b"`})
		m, _ := d.MaxAge()
		return [4]any{d.Private(), d.MustRevalidate(), m, d.NoCacheFields()}, [4]any{true, true, 5 * time.Second, "a;b"}
	}},
	{"5.2.3", "unknown directives are ignored", func() (any, any) {
		d, _ := cache.ParseCacheControl([]string{"community=UCI, max-age=5"}).MaxAge()
		return d, 5 * time.Second
	}},

	// Storing (RFC 9111 3).
	{"3", "a GET 200 with max-age is stored", func() (any, any) {
		return pol.Storable(get(), res(200, "Cache-Control", "max-age=60")), true
	}},
	{"3", "a response to an unsupported method (POST) is not stored", func() (any, any) {
		return pol.Storable(req("POST"), res(200, "Cache-Control", "max-age=60")), false
	}},
	{"3", "206 is not stored: ranges pass through", func() (any, any) {
		return pol.Storable(get(), res(206, "Cache-Control", "max-age=60")), false
	}},
	{"3", "a status not understood (418) is not stored even with max-age", func() (any, any) {
		return pol.Storable(get(), res(418, "Cache-Control", "max-age=60")), false
	}},
	{"3", "a heuristically cacheable status (RFC 9110 15.1) is stored without explicit freshness", func() (any, any) {
		return pol.Storable(get(), res(404)), true
	}},
	{"3", "302 without explicit freshness is not stored", func() (any, any) {
		return pol.Storable(get(), res(302)), false
	}},
	{"3", "302 with max-age is stored", func() (any, any) {
		return pol.Storable(get(), res(302, "Cache-Control", "max-age=60")), true
	}},
	{"5.2.2.5", "response no-store is not stored", func() (any, any) {
		return pol.Storable(get(), res(200, "Cache-Control", "max-age=60, no-store")), false
	}},
	{"5.2.1.5", "a response to a request with no-store is not stored", func() (any, any) {
		return pol.Storable(get("Cache-Control", "no-store"), res(200, "Cache-Control", "max-age=60")), false
	}},
	{"5.2.2.3", "must-understand with an understood status overrides no-store", func() (any, any) {
		return pol.Storable(get(), res(200, "Cache-Control", "must-understand, no-store, max-age=60")), true
	}},
	{"5.2.2.3", "must-understand with a status not understood is not stored", func() (any, any) {
		return pol.Storable(get(), res(299, "Cache-Control", "must-understand, no-store, max-age=60")), false
	}},
	{"5.2.2.7", "private: a shared cache does not store", func() (any, any) {
		return pol.Storable(get(), res(200, "Cache-Control", "private, max-age=60")), false
	}},
	{"5.2.2.7", "private with field names: stored without those fields", func() (any, any) {
		rs := res(200, "Cache-Control", `private="X-Secret", max-age=60`, "X-Secret", "s", "X-Open", "o")
		e := store(pol, get(), rs)
		return pol.Storable(get(), rs) && e.Header.Get("X-Secret") == "" && e.Header.Get("X-Open") == "o", true
	}},
	{"5.2.2.4", "no-cache with field names: stored without those fields", func() (any, any) {
		rs := res(200, "Cache-Control", `no-cache="Set-Cookie", max-age=60`, "Set-Cookie", "a=b")
		return pol.Storable(get(), rs) && store(pol, get(), rs).Header.Get("Set-Cookie") == "", true
	}},
	{"5.2.2.4", "no-cache with field names: the rest is served fresh", func() (any, any) {
		return action(pol, get(), res(200, "Cache-Control", `no-cache="Set-Cookie", max-age=60`), time.Second), cache.Fresh
	}},
	{"3 (project)", "a Set-Cookie not named by no-cache or private keeps the response out", func() (any, any) {
		return pol.Storable(get(), res(200, "Cache-Control", "max-age=60", "Set-Cookie", "a=b")), false
	}},
	{"3.5", "a request with Authorization: not stored without public, must-revalidate or s-maxage", func() (any, any) {
		return pol.Storable(get("Authorization", "Bearer t"), res(200, "Cache-Control", "max-age=60")), false
	}},
	{"3.5", "a request with Authorization: stored with public", func() (any, any) {
		return pol.Storable(get("Authorization", "Bearer t"), res(200, "Cache-Control", "public, max-age=60")), true
	}},
	{"3.5", "a request with Authorization: stored with s-maxage", func() (any, any) {
		return pol.Storable(get("Authorization", "Bearer t"), res(200, "Cache-Control", "s-maxage=60")), true
	}},
	{"3.5", "a request with Authorization: stored with must-revalidate", func() (any, any) {
		return pol.Storable(get("Authorization", "Bearer t"), res(200, "Cache-Control", "must-revalidate, max-age=60")), true
	}},
	{"3.1", "Connection, the fields it names and other hop-by-hop fields are not stored", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Connection", "X-Hop", "X-Hop", "1",
			"Keep-Alive", "timeout=5", "Proxy-Authenticate", "Basic", "Content-Type", "text/plain"))
		return strings.Join(slices.Sorted(maps.Keys(e.Header)), ","), "Cache-Control,Content-Type,Date"
	}},
	{"RFC 9110 6.6.1", "a response without Date is stored with one: the time it arrived", func() (any, any) {
		rs := res(200, "Cache-Control", "max-age=60")
		rs.Header.Del("Date")
		return store(pol, get(), rs).Header.Get("Date"), httpDate(0)
	}},

	// Freshness (RFC 9111 4.2.1, 4.2.2).
	{"4.2.1", "s-maxage takes precedence over max-age", func() (any, any) {
		return store(pol, get(), res(200, "Cache-Control", "max-age=60, s-maxage=30")).Lifetime, 30 * time.Second
	}},
	{"4.2.1", "max-age takes precedence over Expires", func() (any, any) {
		return store(pol, get(), res(200, "Cache-Control", "max-age=60", "Expires", httpDate(time.Hour))).Lifetime, time.Minute
	}},
	{"4.2.1", "else Expires less Date", func() (any, any) {
		return store(pol, get(), res(200, "Date", httpDate(-10*time.Second), "Expires", httpDate(time.Minute))).Lifetime, 70 * time.Second
	}},
	{"5.3", "an invalid Expires means already expired", func() (any, any) {
		return store(pol, get(), res(200, "Expires", "0", "Last-Modified", httpDate(-time.Hour))).Lifetime, time.Duration(0)
	}},
	{"4.2.2", "heuristic freshness: 10% of Date less Last-Modified", func() (any, any) {
		e := store(pol, get(), res(200, "Last-Modified", httpDate(-10*time.Hour)))
		return e.Lifetime, time.Hour
	}},
	{"4.2.2", "heuristic freshness is capped (default a day)", func() (any, any) {
		return store(pol, get(), res(200, "Last-Modified", httpDate(-1000*time.Hour))).Lifetime, 24 * time.Hour
	}},
	{"4.2.2", "no heuristic freshness for a status not heuristically cacheable", func() (any, any) {
		return store(pol, get(), res(302, "Last-Modified", httpDate(-10*time.Hour))).Lifetime, time.Duration(0)
	}},
	{"4.2.2", "public allows heuristic freshness for any status", func() (any, any) {
		return store(pol, get(), res(302, "Cache-Control", "public", "Last-Modified", httpDate(-10*time.Hour))).Lifetime, time.Hour
	}},
	{"4.2.2", "a negative HeuristicMax turns heuristics off", func() (any, any) {
		p := cache.Policy{HeuristicMax: -1}
		return store(p, get(), res(200, "Last-Modified", httpDate(-10*time.Hour))).Lifetime, time.Duration(0)
	}},

	// Age (RFC 9111 4.2.3).
	{"4.2.3", "apparent_age: response_time less Date", func() (any, any) {
		return store(pol, get(), res(200, "Cache-Control", "max-age=60", "Date", httpDate(-10*time.Second))).Age(t0), 10 * time.Second
	}},
	{"4.2.3", "corrected_age_value: Age plus response_delay", func() (any, any) {
		e := pol.NewEntry(get(), res(200, "Cache-Control", "max-age=60", "Age", "5"), nil, t0.Add(-2*time.Second), t0)
		return e.Age(t0), 7 * time.Second
	}},
	{"4.2.3", "corrected_initial_age is the larger; resident_time is added", func() (any, any) {
		e := pol.NewEntry(get(), res(200, "Cache-Control", "max-age=60", "Age", "5", "Date", httpDate(-20*time.Second)), nil, t0.Add(-2*time.Second), t0)
		return e.Age(t0.Add(30 * time.Second)), 50 * time.Second
	}},
	{"4.2.3/5.1", "an invalid Age is ignored", func() (any, any) {
		return store(pol, get(), res(200, "Cache-Control", "max-age=60", "Age", "soon")).Age(t0), time.Duration(0)
	}},
	{"4.2", "Fresh and Expires agree with the age: fresh while age < lifetime", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Age", "50"))
		return [2]bool{e.Fresh(t0.Add(9 * time.Second)), e.Fresh(t0.Add(10 * time.Second))}, [2]bool{true, false}
	}},

	// Serving (RFC 9111 4, 4.2.4, 5.2.1; RFC 5861).
	{"4.2", "a fresh response is served", func() (any, any) {
		return action(pol, get(), res(200, "Cache-Control", "max-age=60"), 59*time.Second), cache.Fresh
	}},
	{"4.2.4", "a stale response is validated", func() (any, any) {
		return action(pol, get(), res(200, "Cache-Control", "max-age=60"), 60*time.Second), cache.MustValidate
	}},
	{"5.2.2.4", "response no-cache: validated even when fresh", func() (any, any) {
		return action(pol, get(), res(200, "Cache-Control", "no-cache, max-age=60"), 0), cache.MustValidate
	}},
	{"5.2.1.4", "request no-cache: validated even when fresh", func() (any, any) {
		return action(pol, get("Cache-Control", "no-cache"), res(200, "Cache-Control", "max-age=60"), 0), cache.MustValidate
	}},
	{"5.4", "Pragma: no-cache without Cache-Control is request no-cache", func() (any, any) {
		return action(pol, get("Pragma", "no-cache"), res(200, "Cache-Control", "max-age=60"), 0), cache.MustValidate
	}},
	{"5.4", "Pragma is ignored when the request has Cache-Control", func() (any, any) {
		return action(pol, get("Pragma", "no-cache", "Cache-Control", "max-stale"), res(200, "Cache-Control", "max-age=60"), 0), cache.Fresh
	}},
	{"5.2.1.1", "request max-age below the age: validated", func() (any, any) {
		return action(pol, get("Cache-Control", "max-age=5"), res(200, "Cache-Control", "max-age=60"), 10*time.Second), cache.MustValidate
	}},
	{"5.2.1.3", "request min-fresh above what is left: validated", func() (any, any) {
		return action(pol, get("Cache-Control", "min-fresh=20"), res(200, "Cache-Control", "max-age=60"), 50*time.Second), cache.MustValidate
	}},
	{"5.2.1.2", "request max-stale within the staleness: served stale", func() (any, any) {
		return action(pol, get("Cache-Control", "max-stale=100"), res(200, "Cache-Control", "max-age=60"), 110*time.Second), cache.StaleOK
	}},
	{"5.2.1.2", "request max-stale below the staleness: validated", func() (any, any) {
		return action(pol, get("Cache-Control", "max-stale=10"), res(200, "Cache-Control", "max-age=60"), 110*time.Second), cache.MustValidate
	}},
	{"5.2.1.2", "request max-stale without a value accepts any staleness", func() (any, any) {
		return action(pol, get("Cache-Control", "max-stale"), res(200, "Cache-Control", "max-age=60"), 1000*time.Hour), cache.StaleOK
	}},
	{"5.2.2.2", "must-revalidate: never served stale, not even with max-stale", func() (any, any) {
		return action(pol, get("Cache-Control", "max-stale"), res(200, "Cache-Control", "max-age=60, must-revalidate"), 61*time.Second), cache.MustValidate
	}},
	{"5.2.2.8", "proxy-revalidate: a shared cache never serves stale", func() (any, any) {
		return action(pol, get("Cache-Control", "max-stale"), res(200, "Cache-Control", "max-age=60, proxy-revalidate"), 61*time.Second), cache.MustValidate
	}},
	{"5.2.2.10", "s-maxage: a shared cache never serves stale", func() (any, any) {
		return action(pol, get("Cache-Control", "max-stale"), res(200, "Cache-Control", "s-maxage=60"), 61*time.Second), cache.MustValidate
	}},
	{"RFC 5861 3", "stale-while-revalidate: served stale within the window, revalidated behind", func() (any, any) {
		return action(pol, get(), res(200, "Cache-Control", "max-age=60, stale-while-revalidate=30"), 90*time.Second), cache.StaleWhileRevalidate
	}},
	{"RFC 5861 3", "stale-while-revalidate: validated past the window", func() (any, any) {
		return action(pol, get(), res(200, "Cache-Control", "max-age=60, stale-while-revalidate=30"), 91*time.Second), cache.MustValidate
	}},
	{"RFC 5861 4", "stale-if-error in the response: validated, stale allowed on error", func() (any, any) {
		return action(pol, get(), res(200, "Cache-Control", "max-age=60, stale-if-error=300"), 120*time.Second), cache.StaleIfError
	}},
	{"RFC 5861 4", "stale-if-error in the request", func() (any, any) {
		return action(pol, get("Cache-Control", "stale-if-error=300"), res(200, "Cache-Control", "max-age=60"), 120*time.Second), cache.StaleIfError
	}},
	{"RFC 5861 4/5.2.2.2", "must-revalidate overrides stale-if-error", func() (any, any) {
		return action(pol, get(), res(200, "Cache-Control", "max-age=60, must-revalidate, stale-if-error=300"), 120*time.Second), cache.MustValidate
	}},
	{"5.2.1.7", "only-if-cached with nothing stored: 504", func() (any, any) {
		return decideAt(pol, get("Cache-Control", "only-if-cached"), nil, 0).Action, cache.GatewayTimeout
	}},
	{"5.2.1.7", "only-if-cached with a stale response that must be validated: 504", func() (any, any) {
		return action(pol, get("Cache-Control", "only-if-cached"), res(200, "Cache-Control", "max-age=60"), 61*time.Second), cache.GatewayTimeout
	}},
	{"5.2.1.7", "only-if-cached with a fresh response: served", func() (any, any) {
		return action(pol, get("Cache-Control", "only-if-cached"), res(200, "Cache-Control", "max-age=60"), 0), cache.Fresh
	}},
	{"4", "a method other than GET and HEAD is not answered from the cache", func() (any, any) {
		return decideAt(pol, req("DELETE"), store(pol, get(), res(200, "Cache-Control", "max-age=60")), 0).Fwd, cache.FwdMethod
	}},
	{"4", "HEAD is answered from a stored GET", func() (any, any) {
		return decideAt(pol, req("HEAD"), store(pol, get(), res(200, "Cache-Control", "max-age=60")), 0).Action, cache.Fresh
	}},

	// Vary (RFC 9111 4.1).
	{"4.1", "the same selected field values match", func() (any, any) {
		e := store(pol, get("Accept-Encoding", "gzip, br"), res(200, "Cache-Control", "max-age=60", "Vary", "accept-encoding"))
		return e.Matches(get("Accept-Encoding", "gzip,br")), true
	}},
	{"4.1", "field lines are combined before comparing", func() (any, any) {
		e := store(pol, get("Accept-Encoding", "gzip, br"), res(200, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"))
		return e.Matches(get("Accept-Encoding", "gzip", "Accept-Encoding", "br")), true
	}},
	{"4.1", "different selected field values do not match: a vary-miss", func() (any, any) {
		e := store(pol, get("Accept-Encoding", "gzip"), res(200, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"))
		return decideAt(pol, get("Accept-Encoding", "br"), e, 0).Fwd, cache.FwdVaryMiss
	}},
	{"4.1", "a field absent from one request matches only its absence", func() (any, any) {
		absent := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Vary", "Accept-Language"))
		empty := store(pol, get("Accept-Language", ""), res(200, "Cache-Control", "max-age=60", "Vary", "Accept-Language"))
		return [3]bool{absent.Matches(get()), absent.Matches(get("Accept-Language", "")), empty.Matches(get())}, [3]bool{true, false, false}
	}},
	{"4.1", "Vary: * never matches", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Vary", "Accept, *"))
		return e.Matches(get()), false
	}},
	{"4.1", "the secondary key is the same for requests that match the same variant", func() (any, any) {
		v := []string{"Accept-Encoding", "Accept-Language"}
		a := cache.SecondaryKey(v, get("Accept-Encoding", "gzip , br"))
		b := cache.SecondaryKey(v, get("Accept-Encoding", "gzip", "Accept-Encoding", "br"))
		c := cache.SecondaryKey(v, get("Accept-Encoding", "gzip,br", "Accept-Language", "fr"))
		return a == b && a != c, true
	}},

	// Validation (RFC 9111 4.3).
	{"4.3.1", "If-None-Match carries the stored ETags, If-Modified-Since the Last-Modified", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Etag", `"v1"`, "Last-Modified", httpDate(-time.Hour)))
		h := hdr("If-None-Match", `"stale"`)
		cache.SetConditional(h, e)
		return h.Get("If-None-Match") + " | " + h.Get("If-Modified-Since"), `"v1" | ` + httpDate(-time.Hour)
	}},
	{"4.3.1", "one If-None-Match lists the ETags of all variants", func() (any, any) {
		a := store(pol, get(), res(200, "Etag", `"a"`))
		b := store(pol, get(), res(200, "Etag", `W/"b"`))
		h := http.Header{}
		cache.SetConditional(h, a, b)
		return h.Get("If-None-Match"), `"a", W/"b"`
	}},
	{"4.3.4", "a strong ETag in the 304 selects every entry with it", func() (any, any) {
		es := []*cache.Entry{store(pol, get(), res(200, "Etag", `"a"`)), store(pol, get(), res(200, "Etag", `"b"`)), store(pol, get(), res(200, "Etag", `"a"`))}
		return slices.Equal(cache.SelectForUpdate(es, res(304, "Etag", `"a"`)), []int{0, 2}), true
	}},
	{"4.3.4", "a strong ETag no entry has selects none", func() (any, any) {
		es := []*cache.Entry{store(pol, get(), res(200, "Etag", `"a"`))}
		return len(cache.SelectForUpdate(es, res(304, "Etag", `"z"`))), 0
	}},
	{"4.3.4", "a weak validator selects the most recent matching entry", func() (any, any) {
		old := store(pol, get(), res(200, "Etag", `W/"a"`))
		recent := pol.NewEntry(get(), res(200, "Etag", `W/"a"`), nil, t0.Add(time.Second), t0.Add(time.Second))
		return slices.Equal(cache.SelectForUpdate([]*cache.Entry{recent, old, recent}[1:], res(304, "Etag", `W/"a"`)), []int{1}), true
	}},
	{"4.3.4", "no validator anywhere: the single entry is selected", func() (any, any) {
		return slices.Equal(cache.SelectForUpdate([]*cache.Entry{store(pol, get(), res(200))}, res(304)), []int{0}), true
	}},
	{"3.2/4.3.4", "a 304 replaces stored fields, not Content-Length, and renews freshness", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Etag", `"a"`, "Content-Length", "4", "X-V", "1"))
		n, _ := pol.Freshen(e, res(304, "Cache-Control", "max-age=600", "Etag", `"a"`, "Content-Length", "0", "X-V", "2", "Date", httpDate(time.Hour)),
			t0.Add(time.Hour), t0.Add(time.Hour))
		return [5]any{n.Header.Get("X-V"), n.Header.Get("Content-Length"), n.Lifetime, n.Fresh(t0.Add(time.Hour + 599*time.Second)), e.Header.Get("X-V")},
			[5]any{"2", "4", 10 * time.Minute, true, "1"}
	}},

	{"3.2/5.2.2.7", "a 304 never adds Set-Cookie to a shared entry, nor a field the stored private/no-cache names", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", `max-age=60, no-cache="X-Tok"`, "Etag", `"a"`))
		n, _ := pol.Freshen(e, res(304, "Etag", `"a"`, "Set-Cookie", "sid=a", "X-Tok", "t"), t0, t0)
		return [2]int{len(n.Header["Set-Cookie"]), len(n.Header["X-Tok"])}, [2]int{0, 0}
	}},
	{"3/4.3.4", "a 304 saying private or no-store ends the entry (keep = false)", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Etag", `"a"`))
		_, priv := pol.Freshen(e, res(304, "Cache-Control", "private", "Etag", `"a"`), t0, t0)
		_, ns := pol.Freshen(e, res(304, "Cache-Control", "no-store", "Etag", `"a"`), t0, t0)
		_, ok := pol.Freshen(e, res(304, "Cache-Control", "max-age=5", "Etag", `"a"`), t0, t0)
		return [3]bool{priv, ns, ok}, [3]bool{false, false, true}
	}},
	{"3.2/4.1", "a 304 does not update Vary, Content-Type, Content-Encoding or Content-Range", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Etag", `"a"`, "Content-Type", "text/plain"))
		n, _ := pol.Freshen(e, res(304, "Etag", `"a"`, "Vary", "Accept", "Content-Type", "image/png", "Content-Encoding", "gzip", "Content-Range", "bytes 0-1/2"), t0, t0)
		return [4]string{n.Header.Get("Vary"), n.Header.Get("Content-Type"), n.Header.Get("Content-Encoding"), n.Header.Get("Content-Range")}, [4]string{"", "text/plain", "", ""}
	}},

	{"1.2.2/4.2.3", "the age saturates at 2^31 s: a Date in year 1 makes the response stale, not fresh", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Date", "Mon, 01 Jan 0001 00:00:00 GMT"))
		d := decideAt(pol, get(), e, time.Second)
		return [2]any{d.Age, d.Action}, [2]any{(1 << 31) * time.Second, cache.MustValidate}
	}},
	{"5.2.1.1/5.2.1.3/4.2.4", "stale-while-revalidate does not override a request max-age or min-fresh", func() (any, any) {
		rs := res(200, "Cache-Control", "max-age=60, stale-while-revalidate=300")
		return [2]cache.Action{action(pol, get("Cache-Control", "max-age=30"), rs, 90*time.Second), action(pol, get("Cache-Control", "min-fresh=1"), rs, 90*time.Second)},
			[2]cache.Action{cache.MustValidate, cache.MustValidate}
	}},
	{"RFC 9110 13.2.1", "a stored non-2xx response is never answered with 304", func() (any, any) {
		e := store(pol, get(), res(404, "Cache-Control", "max-age=60", "Etag", `"x"`))
		return cache.NotModified(get("If-None-Match", "*"), e), false
	}},
	{"2", "the cache key is the target URI, scheme included: http and https are separate", func() (any, any) {
		r := get()
		s := get()
		s.TLS = &tls.ConnectionState{}
		return [2]string{cache.Key(r), cache.Key(s)}, [2]string{"GET http://example.com/r", "GET https://example.com/r"}
	}},
	{"RFC 9213 2.2", "with CDN-Cache-Control in use, Expires is ignored too", func() (any, any) {
		p := cache.Policy{CDNCacheControl: true, HeuristicMax: -1}
		rs := res(302, "Cdn-Cache-Control", "no-transform", "Expires", httpDate(time.Hour))
		return [2]any{p.Storable(get(), rs), store(p, get(), rs).Lifetime}, [2]any{false, time.Duration(0)}
	}},
	{"RFC 9211 2.4", "ttl is rounded down: stale by half a second is ttl=-1", func() (any, any) {
		return cache.Status{Cache: "gateway", TTL: -500 * time.Millisecond, HasTTL: true}.String(), "gateway; ttl=-1"
	}},
	{"RFC 9211 2", "a cache name that is not a token is written as a string", func() (any, any) {
		return cache.Status{Cache: "my cache", Hit: true}.String(), `"my cache"; hit`
	}},
	{"3.2/4.2.3", "after a 304 without Age, the age counts from the 304, not the stored Age", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Age", "50"))
		n, _ := pol.Freshen(e, res(304, "Date", httpDate(time.Hour)), t0.Add(time.Hour), t0.Add(time.Hour))
		return [2]any{n.Age(t0.Add(time.Hour)), n.Header.Get("Age")}, [2]any{time.Duration(0), "50"}
	}},

	{"4.3.2", "a client's If-None-Match naming the stored ETag (weakly) is answered 304", func() (any, any) {
		e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Etag", `"a"`))
		return [3]bool{cache.NotModified(get("If-None-Match", `"x", W/"a"`), e), cache.NotModified(get("If-None-Match", `"b"`), e),
			cache.NotModified(get("If-None-Match", `"b"`, "If-Modified-Since", httpDate(time.Hour)), e)}, [3]bool{true, false, false}
	}},
	{"4.3.2", "If-Modified-Since is compared with Last-Modified, else Date", func() (any, any) {
		lm := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Last-Modified", httpDate(-time.Hour)))
		noLM := store(pol, get(), res(200, "Cache-Control", "max-age=60"))
		return [4]bool{cache.NotModified(get("If-Modified-Since", httpDate(-time.Hour)), lm), cache.NotModified(get("If-Modified-Since", httpDate(-2*time.Hour)), lm),
			cache.NotModified(get("If-Modified-Since", httpDate(0)), noLM), cache.NotModified(get("If-Modified-Since", "yesterday"), lm)}, [4]bool{true, false, true, false}
	}},

	// Invalidation (RFC 9111 4.4).
	{"4.4", "an unsafe method's success invalidates the target URI and same-origin Location, Content-Location", func() (any, any) {
		rq := req("POST")
		return cache.Invalidates(rq, res(201, "Location", "/r/1", "Content-Location", "http://EXAMPLE.com/r/2")),
			[]string{"GET http://example.com/r", "HEAD http://example.com/r", "GET http://example.com/r/1", "HEAD http://example.com/r/1", "GET http://example.com/r/2", "HEAD http://example.com/r/2"}
	}},
	{"4.4", "a Location on another origin is not invalidated", func() (any, any) {
		return cache.Invalidates(req("PUT"), res(200, "Location", "http://other.example/r")), []string{"GET http://example.com/r", "HEAD http://example.com/r"}
	}},
	{"4.4", "an error response invalidates nothing", func() (any, any) {
		return cache.Invalidates(req("DELETE"), res(500)), []string(nil)
	}},
	{"4.4", "a safe method invalidates nothing", func() (any, any) {
		return cache.Invalidates(get(), res(200)), []string(nil)
	}},

	// CDN-Cache-Control (RFC 9213).
	{"RFC 9213 2.1", "when enabled, CDN-Cache-Control replaces Cache-Control", func() (any, any) {
		p := cache.Policy{CDNCacheControl: true}
		return store(p, get(), res(200, "Cache-Control", "no-store", "Cdn-Cache-Control", "max-age=600")).Lifetime, 10 * time.Minute
	}},
	{"RFC 9213 2.1", "when disabled, CDN-Cache-Control is ignored", func() (any, any) {
		return pol.Storable(get(), res(200, "Cache-Control", "no-store", "Cdn-Cache-Control", "max-age=600")), false
	}},
	{"RFC 9213 2.1", "an invalid CDN-Cache-Control is ignored", func() (any, any) {
		p := cache.Policy{CDNCacheControl: true}
		return store(p, get(), res(200, "Cache-Control", "max-age=60", "Cdn-Cache-Control", "???")).Lifetime, time.Minute
	}},

	// Cache-Status (RFC 9211).
	{"RFC 9211 2.1", "a hit with its ttl", func() (any, any) {
		return cache.Status{Cache: "gateway", Hit: true, TTL: 42 * time.Second, HasTTL: true}.String(), "gateway; hit; ttl=42"
	}},
	{"RFC 9211 2.2-2.6", "a forwarded, stored, collapsed response", func() (any, any) {
		return cache.Status{Cache: "gateway", Fwd: cache.FwdStale, FwdStatus: 304, Stored: true, Collapsed: true, TTL: -5 * time.Second, HasTTL: true}.String(),
			"gateway; fwd=stale; fwd-status=304; stored; collapsed; ttl=-5"
	}},
}

// pol is the default shared-cache policy.
var pol cache.Policy

func TestConformance(t *testing.T) {
	for _, row := range conformance {
		got, want := row.check()
		if !equal(got, want) {
			t.Errorf("%s, %s: got %v; want %v", row.section, row.requirement, got, want)
		}
	}
}

func equal(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		return ok && slices.Equal(as, bs)
	}
	return a == b
}
