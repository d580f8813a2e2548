package cache_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

func TestParseCacheControl(t *testing.T) {
	type want struct {
		maxAge, sMaxAge, maxStale, minFresh, swr, sie time.Duration
		maxStaleAny, noCache, noStore, private        bool
		noCacheFields, privateFields                  string
		public, mustReval, proxyReval, mustUnd        bool
		noTransform, immutable, onlyIfCached          bool
	}
	check := func(t *testing.T, lines []string, w want) {
		t.Helper()
		d := cache.ParseCacheControl(lines)
		ma, _ := d.MaxAge()
		sm, _ := d.SMaxAge()
		ms, any, _ := d.MaxStale()
		mf, _ := d.MinFresh()
		swr, _ := d.StaleWhileRevalidate()
		sie, _ := d.StaleIfError()
		got := want{ma, sm, ms, mf, swr, sie, any, d.NoCache(), d.NoStore(), d.Private(), d.NoCacheFields(), d.PrivateFields(),
			d.Public(), d.MustRevalidate(), d.ProxyRevalidate(), d.MustUnderstand(), d.NoTransform(), d.Immutable(), d.OnlyIfCached()}
		if got != w {
			t.Errorf("ParseCacheControl(%q) = %+v; want %+v", lines, got, w)
		}
	}
	s := time.Second
	check(t, nil, want{})
	check(t, []string{"max-age=60, s-maxage=30"}, want{maxAge: 60 * s, sMaxAge: 30 * s})
	check(t, []string{" PUBLIC ,, MUST-REVALIDATE ", "proxy-revalidate"}, want{public: true, mustReval: true, proxyReval: true})
	check(t, []string{"must-understand, no-store, no-transform, immutable"}, want{mustUnd: true, noStore: true, noTransform: true, immutable: true})
	check(t, []string{"stale-while-revalidate=5, stale-if-error=7"}, want{swr: 5 * s, sie: 7 * s})
	check(t, []string{"max-stale, min-fresh=3, only-if-cached"}, want{maxStaleAny: true, minFresh: 3 * s, onlyIfCached: true})
	check(t, []string{"max-stale=9"}, want{maxStale: 9 * s})
	check(t, []string{"no-cache"}, want{noCache: true})
	check(t, []string{`no-cache="A, B"`}, want{noCache: true, noCacheFields: "A, B"})
	check(t, []string{`no-cache="A"`, "no-cache"}, want{noCache: true}) // most restrictive wins
	check(t, []string{`no-cache="A", no-cache="B"`}, want{noCache: true})
	check(t, []string{`no-cache=""`}, want{noCache: true})
	check(t, []string{`private="X-A", max-age=1`}, want{private: true, privateFields: "X-A", maxAge: s})
	check(t, []string{"private"}, want{private: true})
	check(t, []string{"max-age = 5"}, want{maxAge: 5 * s})
	check(t, []string{"max-age=-1"}, want{})
	check(t, []string{"max-age=1.5, s-maxage=0x10"}, want{})
	check(t, []string{`max-age="7`}, want{maxAge: 7 * s}) // unterminated quote
	check(t, []string{"max-age=5 junk, public"}, want{maxAge: 5 * s, public: true})
	check(t, []string{"max-age=4294967296"}, want{maxAge: (1 << 31) * s})
}

// FuzzParseCacheControl checks that no input makes the parser panic, that
// every duration is within the 2^31 s cap (RFC 9111 1.2.2), that field
// lists are taken from the input, and that splitting a field into lines at
// its commas does not change what it says (RFC 9110 5.3).
func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=60, public", `no-cache="a, b", private="c"`, "max-stale", "s-maxage=99999999999999",
		"stale-while-revalidate=1,stale-if-error=2", `max-age="5"`, "=,=,", `"`, "no-cache=\"\\\"\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := cache.ParseCacheControl([]string{s})
		limit := (1 << 31) * time.Second
		for _, f := range []func() (time.Duration, bool){d.MaxAge, d.SMaxAge, d.MinFresh, d.StaleWhileRevalidate, d.StaleIfError} {
			if v, _ := f(); v < 0 || v > limit {
				t.Fatalf("ParseCacheControl(%q): a duration of %v; want within [0, 2^31s]", s, v)
			}
		}
		if nf := d.NoCacheFields(); nf != "" && (!d.NoCache() || !strings.Contains(s, nf)) {
			t.Fatalf("ParseCacheControl(%q): NoCacheFields %q not from the input", s, nf)
		}
		if pf := d.PrivateFields(); pf != "" && (!d.Private() || !strings.Contains(s, pf)) {
			t.Fatalf("ParseCacheControl(%q): PrivateFields %q not from the input", s, pf)
		}
		if !strings.Contains(s, `"`) {
			if split := cache.ParseCacheControl(strings.Split(s, ",")); split != d {
				t.Fatalf("ParseCacheControl(%q) = %+v, split at commas %+v", s, d, split)
			}
		}
	})
}
