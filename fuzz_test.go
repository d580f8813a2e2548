package gateway

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// fuzzPatterns is the candidate table of FuzzMatch. Candidates that
// conflict with earlier ones are left out when the table is built.
var fuzzPatterns = []string{
	"/", "/{$}", "/a", "/a/", "/a/{$}", "/a/b", "/a/{x}", "/a/{x}/c",
	"/f/{rest...}", "GET /a/b", "POST /a/{x}", "HEAD /a/b", "GET /g/{x}/{y}",
	"/g/h/{z}", "/sl%2Fash/{x}", "/%25/{x}", "api.example.com/a/{x}",
	"*.example.com/", "*.b.example.com/a/b", "/x/{y}/z/", "PUT /x/{y}/{$}",
	"/x/y/z", "/a/b/c/d/e", "DELETE /{p}/{q}/{r}", "/{x}/d/e", "/caf%C3%A9",
	"GET API.example.com/", "*.example.com/a/{x}/",
}

var fuzzMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}
var fuzzHosts = []string{"example.com", "api.example.com", "API.Example.com:8080", "x.b.example.com", "b.example.com", "other.org", ""}

// refRoute is a pattern as the reference matcher sees it: split naively.
type refRoute struct {
	pattern, method, host string
	segs                  []string // raw pattern segments after the first "/"
}

func refParse(pattern string) refRoute {
	r := refRoute{pattern: pattern}
	rest := pattern
	if m, after, ok := strings.Cut(pattern, " "); ok {
		r.method, rest = m, after
	}
	i := strings.Index(rest, "/")
	r.host, rest = strings.ToLower(rest[:i]), rest[i+1:]
	r.segs = strings.Split(rest, "/")
	return r
}

func refUnescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// refMatch reports whether rt matches the request, and its path values.
func refMatch(rt refRoute, method, host string, segs []string, esc string) (bool, map[string]string) {
	if rt.method != "" && rt.method != method && !(rt.method == "GET" && method == "HEAD") {
		return false, nil
	}
	host = strings.ToLower(host)
	if i := strings.LastIndex(host, ":"); i >= 0 {
		host = host[:i]
	}
	switch {
	case rt.host == "":
	case strings.HasPrefix(rt.host, "*."):
		if !strings.HasSuffix(host, rt.host[1:]) || len(host) <= len(rt.host)-1 {
			return false, nil
		}
	case rt.host != host:
		return false, nil
	}
	vals := map[string]string{}
	for i, ps := range rt.segs {
		last := i == len(rt.segs)-1
		switch {
		case last && ps == "": // trailing slash: the rest, at least one segment
			return i < len(segs), vals
		case last && strings.HasSuffix(ps, "...}"):
			if i >= len(segs) {
				return false, nil
			}
			// The rest of the escaped path after i slashes, unescaped.
			rest := esc
			for range i + 1 {
				rest = rest[strings.Index(rest, "/")+1:]
			}
			vals[ps[1:len(ps)-4]] = refUnescape(rest)
			return true, vals
		case ps == "{$}":
			return i == len(segs)-1 && segs[i] == "", vals
		case i >= len(segs):
			return false, nil
		case strings.HasPrefix(ps, "{"):
			if segs[i] == "" {
				return false, nil
			}
			vals[ps[1:len(ps)-1]] = segs[i]
		default:
			if refUnescape(ps) != segs[i] {
				return false, nil
			}
		}
	}
	return len(segs) == len(rt.segs), vals
}

// refKey orders matching routes, most specific first, by the rules of
// Route's documentation written out directly: host, then the kinds of the
// path segments in turn, then the method, each smaller being better.
func refKey(rt refRoute) []int {
	var k []int
	switch {
	case rt.host == "":
		k = append(k, 1<<20)
	case strings.HasPrefix(rt.host, "*."):
		k = append(k, 1<<10-len(rt.host))
	default:
		k = append(k, 0)
	}
	m := 0
	switch rt.method {
	case "":
		m = 2
	case "GET":
		m = 1
	}
	for i, s := range rt.segs {
		switch {
		case i == len(rt.segs)-1 && (s == "" || strings.HasSuffix(s, "...}")):
			k = append(k, 2)
		case strings.HasPrefix(s, "{") && s != "{$}":
			k = append(k, 1)
		default:
			k = append(k, 0)
		}
	}
	k = append(k, 3) // the end of the path sorts after any segment
	return append(k, m)
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		"/", "/a", "/a/", "/a/b", "/a/b/c", "/a/%2F", "/sl%2Fash/x", "/%25/%2525",
		"/f/", "/f/a/b%2Fc", "/x/y/z", "/x/y/", "/x/q/z/w", "//a", "/a/./b", "/a/%2e%2e",
		"/caf%C3%A9", "/caf%c3%a9", "/a/b/c/d/e", "/q/r/s", "*", "/a?x=1",
	} {
		f.Add(uint8(0), uint8(0), s)
		f.Add(uint8(2), uint8(1), s)
	}
	var routes []refRoute
	g := New(Config{})
	var got map[string]string
	var gotPattern string
	for _, p := range fuzzPatterns {
		rt := refParse(p)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotPattern = r.Pattern
			for _, s := range rt.segs {
				if strings.HasPrefix(s, "{") && s != "{$}" {
					name := strings.TrimSuffix(s[1:len(s)-1], "...")
					got[name] = r.PathValue(name)
				}
			}
		})
		if g.Route(Route{Pattern: p, Handler: h}) == nil {
			routes = append(routes, rt)
		}
	}
	if len(routes) < len(fuzzPatterns)*2/3 {
		f.Fatalf("only %d of %d fuzz routes could be added", len(routes), len(fuzzPatterns))
	}
	if testing.Verbose() {
		f.Logf("%d of %d fuzz routes added", len(routes), len(fuzzPatterns))
	}

	f.Fuzz(func(t *testing.T, mi, hi uint8, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		method, host := fuzzMethods[int(mi)%len(fuzzMethods)], fuzzHosts[int(hi)%len(fuzzHosts)]
		r := &http.Request{Method: method, Host: host, URL: u, Header: http.Header{}}
		got, gotPattern = map[string]string{}, ""
		w := &nopWriter{h: http.Header{}}
		g.ServeHTTP(w, r)

		esc := u.EscapedPath()
		if esc == "" || esc[0] != '/' || cleanPath(esc) != esc {
			if gotPattern != "" {
				t.Fatalf("%s %s%s: served by %q; want a redirect or 400", method, host, target, gotPattern)
			}
			return
		}
		var segs []string
		for _, s := range strings.Split(esc[1:], "/") {
			segs = append(segs, refUnescape(s))
		}
		for i, s := range segs {
			if (s == "." || s == "..") && strings.Split(esc[1:], "/")[i] != s {
				if gotPattern != "" {
					t.Fatalf("%s %s%s: served by %q; want 400 for an escaped dot segment", method, host, target, gotPattern)
				}
				return
			}
		}

		var best *refRoute
		var bestVals map[string]string
		tie := false
		for i := range routes {
			ok, vals := refMatch(routes[i], method, host, segs, esc)
			if !ok {
				continue
			}
			if best == nil {
				best, bestVals = &routes[i], vals
				continue
			}
			switch c := slices.Compare(refKey(routes[i]), refKey(*best)); {
			case c < 0:
				best, bestVals, tie = &routes[i], vals, false
			case c == 0:
				tie = true
			}
		}
		if tie {
			t.Fatalf("%s %s%s: two routes tie in the reference order; the table should have refused one", method, host, target)
		}
		want := ""
		if best != nil {
			want = best.pattern
		}
		if gotPattern != want {
			t.Fatalf("match(%s %s%s) = route %q; want route %q", method, host, target, gotPattern, want)
		}
		for k, v := range bestVals {
			if got[k] != v {
				t.Fatalf("match(%s %s%s): PathValue(%q) = %q; want %q", method, host, target, k, got[k], v)
			}
		}
	})
}
