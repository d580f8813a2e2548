package cache_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// freshen304 stores rs for a plain GET at t0 and freshens it with a 304
// carrying the fields kv, received at t0+2m.
func freshen304(t *testing.T, rs *http.Response, kv ...string) (*cache.Entry, bool) {
	t.Helper()
	e := store(pol, get(), rs)
	at := t0.Add(2 * time.Minute)
	return pol.Freshen(e, res(304, append([]string{"Date", at.Format(http.TimeFormat)}, kv...)...), at, at)
}

func TestFreshenNeverTakesSetCookie(t *testing.T) {
	for _, cc := range []string{"max-age=60", `max-age=60, no-cache="Set-Cookie"`, `max-age=60, private="Set-Cookie"`} {
		n, _ := freshen304(t, res(200, "Cache-Control", cc, "Etag", `"a"`), "Etag", `"a"`, "Set-Cookie", "sid=alice")
		if got := n.Header["Set-Cookie"]; len(got) > 0 {
			t.Errorf("stored %q, 304 with Set-Cookie: Freshen header Set-Cookie = %q; want none", cc, got)
		}
	}
}

func TestFreshenKeepsStoredQualifiedFieldsOut(t *testing.T) {
	n, _ := freshen304(t, res(200, "Cache-Control", `max-age=60, private="X-User", no-cache="X-Tok"`, "Etag", `"a"`),
		"Etag", `"a"`, "X-User", "alice", "X-Tok", "t")
	if n.Header.Get("X-User") != "" || n.Header.Get("X-Tok") != "" {
		t.Errorf("Freshen X-User = %q, X-Tok = %q; want both absent (named by the stored private/no-cache)", n.Header.Get("X-User"), n.Header.Get("X-Tok"))
	}
}

func TestFreshenKeep(t *testing.T) {
	for _, tc := range []struct {
		cc   string
		keep bool
	}{
		{"max-age=60", true},
		{"private, max-age=60", false},
		{"no-store, max-age=60", false},
		{"no-store, must-understand, max-age=60", true},
		{`private="X-A", max-age=60`, true},
	} {
		_, keep := freshen304(t, res(200, "Cache-Control", "max-age=60", "Etag", `"a"`), "Etag", `"a"`, "Cache-Control", tc.cc)
		if keep != tc.keep {
			t.Errorf("Freshen(304 Cache-Control %q) keep = %v; want %v", tc.cc, keep, tc.keep)
		}
	}
}

func TestFreshenKeepsVary(t *testing.T) {
	e := store(pol, get("Accept-Language", "en"), res(200, "Cache-Control", "max-age=60", "Etag", `"a"`))
	n, _ := pol.Freshen(e, res(304, "Etag", `"a"`, "Vary", "Accept-Language"), t0, t0)
	if n.Matches(get("Accept-Language", "fr")) && n.Header.Get("Vary") != "" {
		t.Errorf("after a 304 with Vary: header Vary = %q but Entry.Vary = %q", n.Header["Vary"], n.Vary)
	}
}

func TestFreshenKeepsRepresentationFields(t *testing.T) {
	n, _ := freshen304(t, res(200, "Cache-Control", "max-age=60", "Etag", `"a"`, "Content-Type", "text/plain"),
		"Etag", `"a"`, "Content-Encoding", "gzip", "Content-Type", "image/png", "Content-Range", "bytes 0-1/2")
	if got := [3]string{n.Header.Get("Content-Encoding"), n.Header.Get("Content-Type"), n.Header.Get("Content-Range")}; got != [3]string{"", "text/plain", ""} {
		t.Errorf("Freshen Content-Encoding, Content-Type, Content-Range = %q; want the stored ones", got)
	}
}
