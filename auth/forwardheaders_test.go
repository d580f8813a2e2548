package auth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/auth"
)

var fwd = auth.ForwardHeaders{"X-User-Id": "sub", "X-Tenant": "tenant", "X-Scopes": "scope", "X-Roles": "roles", "X-Org": "org", "X-Level": "level", "X-Groups": "groups"}

// upstreamHeaders runs r through a Middleware with fwd and a, and returns
// the headers the upstream saw, or nil when it was not reached.
func upstreamHeaders(t *testing.T, a auth.Authenticator, optional bool, r *http.Request) http.Header {
	t.Helper()
	mw, err := auth.NewMiddleware(auth.Middleware{Authenticators: []auth.Authenticator{a}, Forward: fwd, Optional: optional})
	if err != nil {
		t.Fatal(err)
	}
	var seen http.Header
	serve(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() })), r)
	return seen
}

func TestForwardHeaders(t *testing.T) {
	p := &auth.Principal{
		Subject: "alice", Tenant: "acme", Scopes: []string{"read", "write"}, Roles: []string{"admin", "ops"},
		Claims: map[string]any{"org": "engineering", "level": json.Number("3"), "groups": []any{"a", "b", 7}},
	}
	h := upstreamHeaders(t, static{p: p}, false, httptest.NewRequest("GET", "/", nil))
	want := map[string]string{"X-User-Id": "alice", "X-Tenant": "acme", "X-Scopes": "read write", "X-Roles": "admin,ops", "X-Org": "engineering", "X-Level": "3", "X-Groups": "a b"}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("upstream %s = %q; want %q", k, got, v)
		}
	}
}

// TestForwardHeadersSpoof: whatever the client sends under a forwarded
// header's name never reaches the upstream, however it is spelled, and
// whether the request is anonymous, refused or missing the claim.
func TestForwardHeadersSpoof(t *testing.T) {
	spoof := func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-User-Id"] = []string{"root", "admin"}
		r.Header["x-tenant"] = []string{"victim"} // not canonical
		r.Header["X_Scopes"] = []string{"admin"}  // underscore, read as X-Scopes by CGI-style upstreams
		r.Header["X-ORG"] = []string{"evil"}      // upper case
		r.Header["X-Roles"] = []string{"superuser"}
		r.Header.Set("X-Other", "kept")
		return r
	}
	noTenant := &auth.Principal{Subject: "bob"} // no tenant, scopes, roles or claims
	for name, tt := range map[string]struct {
		a        auth.Authenticator
		optional bool
		want     map[string]string // forwarded headers that must be there
	}{
		"authenticated, claims missing": {static{p: noTenant}, false, map[string]string{"X-User-Id": "bob"}},
		"anonymous":                     {none, true, nil},
	} {
		h := upstreamHeaders(t, tt.a, tt.optional, spoof())
		if h == nil {
			t.Fatalf("%s: upstream not reached", name)
		}
		for k, vs := range h {
			if k == "X-Other" {
				continue
			}
			if want, ok := tt.want[k]; !ok || len(vs) != 1 || vs[0] != want {
				t.Errorf("%s: upstream got %s: %q; want %q", name, k, vs, want)
			}
		}
		if h.Get("X-Other") != "kept" {
			t.Errorf("%s: X-Other = %q; want kept", name, h.Get("X-Other"))
		}
	}
	// A refused request never reaches the upstream, and the headers are
	// gone from the request all the same.
	r := spoof()
	mw, _ := auth.NewMiddleware(auth.Middleware{Authenticators: []auth.Authenticator{none}, Forward: fwd})
	if w := serve(mw(echo), r); w.Code != 401 {
		t.Fatalf("status = %d; want 401", w.Code)
	}
	if len(r.Header) != 1 {
		t.Errorf("refused request keeps %v; want only X-Other", r.Header)
	}
}

func TestForwardHeadersValueInjection(t *testing.T) {
	p := &auth.Principal{Subject: "alice\r\nX-Admin: 1", Tenant: "acme"}
	h := upstreamHeaders(t, static{p: p}, false, httptest.NewRequest("GET", "/", nil))
	if h.Get("X-User-Id") != "" || h.Get("X-Admin") != "" || h.Get("X-Tenant") != "acme" {
		t.Errorf("upstream headers %v; want no X-User-Id, no X-Admin, X-Tenant acme", h)
	}
}

// TestForwardHeadersListInjection: a list element that holds the list's
// separator, white space or a character outside its grammar is left out,
// so that no element reaches the upstream as two.
func TestForwardHeadersListInjection(t *testing.T) {
	p := &auth.Principal{
		Subject: "bob",
		Roles:   []string{"viewer,admin", "ops", "a b", "x\ty", ""},
		Scopes:  []string{"read admin:all", "write", "q\"uote", "https://api.example.org/read"},
		Claims:  map[string]any{"groups": []any{"eng staff", "eng", "tab\tbed"}},
	}
	h := upstreamHeaders(t, static{p: p}, false, httptest.NewRequest("GET", "/", nil))
	for k, want := range map[string]string{"X-Roles": "ops", "X-Scopes": "write https://api.example.org/read", "X-Groups": "eng"} {
		if got := h.Get(k); got != want {
			t.Errorf("upstream %s = %q; want %q", k, got, want)
		}
	}
	p = &auth.Principal{Subject: "bob", Roles: []string{"viewer,admin"}}
	if h := upstreamHeaders(t, static{p: p}, false, httptest.NewRequest("GET", "/", nil)); h["X-Roles"] != nil {
		t.Errorf("upstream X-Roles = %q; want none (no valid element)", h["X-Roles"])
	}
}

func TestForwardHeadersErrors(t *testing.T) {
	for name, f := range map[string]auth.ForwardHeaders{
		"invalid name":    {"X User": "sub"},
		"empty source":    {"X-User": ""},
		"authorization":   {"authorization": "sub"},
		"cookie":          {"Cookie": "sub"},
		"hop by hop":      {"Connection": "sub"},
		"proxy challenge": {"Proxy-Authenticate": "sub"},
		"same name twice": {"X-User": "sub", "x-user": "tenant"},
		"underscore twin": {"X-User": "sub", "X_User": "tenant"},
	} {
		if _, err := auth.NewMiddleware(auth.Middleware{Authenticators: []auth.Authenticator{none}, Forward: f}); err == nil {
			t.Errorf("Forward %s: nil error; want one", name)
		}
	}
}

// lateTrailerBody fills its request's trailers when it ends, as a server
// that takes trailers it was not told of (over HTTP/3, say) may.
type lateTrailerBody struct {
	r    *http.Request
	done bool
}

func (b *lateTrailerBody) Read(p []byte) (int, error) {
	if !b.done {
		b.done = true
		b.r.Trailer = http.Header{"X-User-Id": {"admin"}}
	}
	return 0, io.EOF
}
func (b *lateTrailerBody) Close() error { return nil }

// TestForwardHeadersLateTrailer: a body of unknown length with no declared
// trailer may still end with trailers; a forwarded name among them is
// removed before the handler sees the end of the body.
func TestForwardHeadersLateTrailer(t *testing.T) {
	mw, err := auth.NewMiddleware(auth.Middleware{
		Authenticators: []auth.Authenticator{static{p: &auth.Principal{Subject: "bob"}}},
		Forward:        auth.ForwardHeaders{"X-User-Id": "sub"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/", nil)
	r.ContentLength = -1
	r.Body = &lateTrailerBody{r: r}
	var trailer http.Header
	mw(http.HandlerFunc(func(w http.ResponseWriter, in *http.Request) {
		io.ReadAll(in.Body)
		trailer = r.Trailer
	})).ServeHTTP(httptest.NewRecorder(), r)
	if v := trailer.Get("X-User-Id"); v != "" {
		t.Errorf("trailer X-User-Id = %q after the body ended; want it removed", v)
	}
}
