package cache_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

func TestLookupable(t *testing.T) {
	tests := []struct {
		name   string
		method string
		header http.Header
		want   bool
	}{
		{"GET", "GET", nil, true},
		{"HEAD", "HEAD", nil, false},
		{"POST", "POST", nil, false},
		{"PUT", "PUT", nil, false},
		{"Authorization", "GET", http.Header{"Authorization": {"Bearer x"}}, false},
		{"no-cache", "GET", http.Header{"Cache-Control": {"no-cache"}}, false},
		{"No-Cache in capitals", "GET", http.Header{"Cache-Control": {"No-Cache"}}, false},
		{"no-store among others", "GET", http.Header{"Cache-Control": {"max-stale=10, no-store"}}, false},
		{"no-store on a second line", "GET", http.Header{"Cache-Control": {"max-stale=10", "no-store"}}, false},
		{"max-age only", "GET", http.Header{"Cache-Control": {"max-age=10"}}, true},
		{"Pragma no-cache", "GET", http.Header{"Pragma": {"no-cache"}}, false},
		{"Pragma no-cache with Cache-Control", "GET", http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"max-age=10"}}, true},
		{"Pragma other", "GET", http.Header{"Pragma": {"x-custom"}}, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/", nil)
		for k, vs := range tt.header {
			r.Header[k] = vs
		}
		if got := cache.Lookupable(r); got != tt.want {
			t.Errorf("%s: Lookupable = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestLifetime(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	date := now.Add(-5 * time.Second).Format(http.TimeFormat)
	const maxDelta = (1 << 31) * time.Second // RFC 9111 1.2.2
	tests := []struct {
		name      string
		reqHeader http.Header
		method    string
		status    int
		header    http.Header
		wantTTL   time.Duration
		wantOK    bool
	}{
		{name: "max-age", header: http.Header{"Cache-Control": {"max-age=60"}}, wantTTL: 60 * time.Second, wantOK: true},
		{name: "MAX-AGE in capitals", header: http.Header{"Cache-Control": {"MAX-AGE=60"}}, wantTTL: 60 * time.Second, wantOK: true},
		{name: "quoted max-age", header: http.Header{"Cache-Control": {`max-age="60"`}}, wantTTL: 60 * time.Second, wantOK: true},
		{name: "s-maxage before max-age", header: http.Header{"Cache-Control": {"max-age=60, s-maxage=30"}}, wantTTL: 30 * time.Second, wantOK: true},
		{name: "on two lines", header: http.Header{"Cache-Control": {"public", "max-age=60"}}, wantTTL: 60 * time.Second, wantOK: true},
		{name: "max-age capped", header: http.Header{"Cache-Control": {"max-age=99999999999"}}, wantTTL: maxDelta, wantOK: true},
		{name: "max-age=0", header: http.Header{"Cache-Control": {"max-age=0"}}},
		{name: "negative max-age", header: http.Header{"Cache-Control": {"max-age=-1"}}},
		{name: "malformed max-age", header: http.Header{"Cache-Control": {"max-age=soon"}}},
		{name: "malformed max-age, good Expires", header: http.Header{"Cache-Control": {"max-age=soon"}, "Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}},
		{name: "no lifetime", header: http.Header{}},
		{name: "public without lifetime", header: http.Header{"Cache-Control": {"public"}}},
		{name: "no-store", header: http.Header{"Cache-Control": {"max-age=60, no-store"}}},
		{name: "no-cache", header: http.Header{"Cache-Control": {"no-cache, max-age=60"}}},
		{name: "no-cache naming a field", header: http.Header{"Cache-Control": {`no-cache="Set-Cookie", max-age=60`}}},
		{name: "private", header: http.Header{"Cache-Control": {"private, max-age=60"}}},
		{name: "private on a second line", header: http.Header{"Cache-Control": {"max-age=60", "private"}}},
		{name: "Set-Cookie", header: http.Header{"Cache-Control": {"max-age=60"}, "Set-Cookie": {"a=b"}}},
		{name: "Vary", header: http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept-Encoding"}}},
		{name: "Expires after Date", header: http.Header{"Expires": {now.Add(115 * time.Second).Format(http.TimeFormat)}, "Date": {date}}, wantTTL: 120 * time.Second, wantOK: true},
		{name: "Expires without Date", header: http.Header{"Expires": {now.Add(120 * time.Second).Format(http.TimeFormat)}}, wantTTL: 120 * time.Second, wantOK: true},
		{name: "Expires in the past", header: http.Header{"Expires": {now.Add(-time.Minute).Format(http.TimeFormat)}, "Date": {date}}},
		{name: "invalid Expires", header: http.Header{"Expires": {"0"}}},
		{name: "max-age over Expires", header: http.Header{"Cache-Control": {"max-age=60"}, "Expires": {"0"}}, wantTTL: 60 * time.Second, wantOK: true},
		{name: "Age counts against max-age", header: http.Header{"Cache-Control": {"max-age=60"}, "Age": {"50"}}, wantTTL: 10 * time.Second, wantOK: true},
		{name: "Age counts against s-maxage", header: http.Header{"Cache-Control": {"s-maxage=60"}, "Age": {"15"}}, wantTTL: 45 * time.Second, wantOK: true},
		{name: "Age counts against Expires", header: http.Header{"Expires": {now.Add(115 * time.Second).Format(http.TimeFormat)}, "Date": {date}, "Age": {"100"}}, wantTTL: 20 * time.Second, wantOK: true},
		{name: "Age at max-age", header: http.Header{"Cache-Control": {"max-age=60"}, "Age": {"60"}}},
		{name: "Age as a list, first member", header: http.Header{"Cache-Control": {"max-age=60"}, "Age": {"10, 20"}}, wantTTL: 50 * time.Second, wantOK: true},
		{name: "invalid Age ignored", header: http.Header{"Cache-Control": {"max-age=60"}, "Age": {"soon"}}, wantTTL: 60 * time.Second, wantOK: true},
		{name: "negative Age ignored", header: http.Header{"Cache-Control": {"max-age=60"}, "Age": {"-5"}}, wantTTL: 60 * time.Second, wantOK: true},
		{name: "Age too large for int64", header: http.Header{"Cache-Control": {"max-age=60"}, "Age": {"99999999999999999999"}}},
		{name: "404", status: 404, header: http.Header{"Cache-Control": {"max-age=60"}}, wantTTL: 60 * time.Second, wantOK: true},
		{name: "301", status: 301, header: http.Header{"Cache-Control": {"max-age=60"}}, wantTTL: 60 * time.Second, wantOK: true},
		{name: "206", status: 206, header: http.Header{"Cache-Control": {"max-age=60"}}},
		{name: "302", status: 302, header: http.Header{"Cache-Control": {"max-age=60"}}},
		{name: "500", status: 500, header: http.Header{"Cache-Control": {"max-age=60"}}},
		{name: "POST", method: "POST", header: http.Header{"Cache-Control": {"max-age=60"}}},
		{name: "request with Authorization", reqHeader: http.Header{"Authorization": {"Basic eDp5"}}, header: http.Header{"Cache-Control": {"max-age=60"}}},
		{name: "request no-store", reqHeader: http.Header{"Cache-Control": {"no-store"}}, header: http.Header{"Cache-Control": {"max-age=60"}}},
	}
	for _, tt := range tests {
		method := tt.method
		if method == "" {
			method = "GET"
		}
		r := httptest.NewRequest(method, "/", nil)
		for k, vs := range tt.reqHeader {
			r.Header[k] = vs
		}
		status := tt.status
		if status == 0 {
			status = http.StatusOK
		}
		res := &http.Response{StatusCode: status, Header: tt.header, Request: r}
		ttl, ok := cache.Lifetime(r, res, now)
		if ok != tt.wantOK || (ok && ttl != tt.wantTTL) {
			t.Errorf("%s: Lifetime = %v, %v; want %v, %v", tt.name, ttl, ok, tt.wantTTL, tt.wantOK)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		method, target, host string
		want                 string
	}{
		{"GET", "/a?b=1", "example.com", "GET http://example.com/a?b=1"},
		{"GET", "/a?b=1", "EXAMPLE.com", "GET http://example.com/a?b=1"},
		{"HEAD", "/", "example.com:8080", "HEAD http://example.com:8080/"},
		{"GET", "/a%2Fb", "example.com", "GET http://example.com/a%2Fb"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		r.Host = tt.host
		if got := cache.Key(r); got != tt.want {
			t.Errorf("Key(%s %s, Host %s) = %q; want %q", tt.method, tt.target, tt.host, got, tt.want)
		}
	}
}

func TestEntryFreshAge(t *testing.T) {
	stored := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		arrivedAge string        // the Age header the response arrived with
		at         time.Duration // after Stored
		wantFresh  bool
		wantAge    time.Duration
	}{
		{"", -time.Second, true, 0}, // a clock that went back
		{"", 0, true, 0},
		{"", 59 * time.Second, true, 59 * time.Second},
		{"", time.Minute, false, time.Minute},
		{"", time.Hour, false, time.Hour},
		{"20", 0, true, 20 * time.Second},
		{"20", 30 * time.Second, true, 50 * time.Second},
		{"soon", 30 * time.Second, true, 30 * time.Second},
	}
	for _, tt := range tests {
		e := &cache.Entry{Header: http.Header{}, Stored: stored, Expires: stored.Add(time.Minute)}
		if tt.arrivedAge != "" {
			e.Header.Set("Age", tt.arrivedAge)
		}
		now := stored.Add(tt.at)
		if got := e.Fresh(now); got != tt.wantFresh {
			t.Errorf("Fresh(Stored%+v) = %v; want %v", tt.at, got, tt.wantFresh)
		}
		if got := e.Age(now); got != tt.wantAge {
			t.Errorf("Age(Stored%+v), arrived with Age %q = %v; want %v", tt.at, tt.arrivedAge, got, tt.wantAge)
		}
	}
}

func TestLookupKey(t *testing.T) {
	get := httptest.NewRequest("GET", "http://example.com/a?b=1", nil)
	for _, tc := range []struct {
		name   string
		method string
		header http.Header
		ok     bool
	}{
		{"GET", "GET", nil, true},
		{"HEAD under the GET's key", "HEAD", nil, true},
		{"POST", "POST", nil, false},
		{"HEAD with Authorization", "HEAD", http.Header{"Authorization": {"Bearer t"}}, false},
		{"HEAD with no-cache", "HEAD", http.Header{"Cache-Control": {"no-cache"}}, false},
		{"GET with no-store", "GET", http.Header{"Cache-Control": {"no-store"}}, false},
	} {
		r := httptest.NewRequest(tc.method, "http://example.com/a?b=1", nil)
		for k, vs := range tc.header {
			r.Header[k] = vs
		}
		key, ok := cache.LookupKey(r)
		if ok != tc.ok || ok && key != cache.Key(get) {
			t.Errorf("%s: LookupKey = %q, %v; want %q, %v", tc.name, key, ok, cache.Key(get), tc.ok)
		}
	}
}
