package introspect_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vivremotion/gateway/auth/introspect"
)

// The client credentials the fake endpoint expects, with characters that
// form-urlencoding changes (RFC 6749 section 2.3.1).
const (
	clientID     = "gateway client"
	clientSecret = "s3cr:t/%+é"
)

// endpoint is a fake introspection endpoint. It checks each request's form
// and client authentication as RFC 7662 section 2.1 says, and answers with
// the JSON body set for the token.
type endpoint struct {
	t *testing.T
	// authz is the Authorization header the endpoint expects; empty means
	// client_secret_basic with clientID and clientSecret.
	authz string

	mu      sync.Mutex // guards answers and status
	answers map[string]string
	status  int // when not 0, the status to answer with, without a body

	calls atomic.Int64
}

func newEndpoint(t *testing.T) *endpoint {
	return &endpoint{t: t, answers: map[string]string{}}
}

// set makes the endpoint answer body (a JSON text) for token.
func (e *endpoint) set(token, body string) {
	e.mu.Lock()
	e.answers[token] = body
	e.mu.Unlock()
}

func (e *endpoint) setStatus(code int) {
	e.mu.Lock()
	e.status = code
	e.mu.Unlock()
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.calls.Add(1)
	t := e.t
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("endpoint: "+format, args...)
		http.Error(w, "bad request", http.StatusBadRequest)
	}
	if r.Method != http.MethodPost {
		fail("method %s; want POST", r.Method)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		fail("Content-Type %q; want application/x-www-form-urlencoded", ct)
		return
	}
	if e.authz != "" {
		if got := r.Header.Get("Authorization"); got != e.authz {
			fail("Authorization %q; want %q", got, e.authz)
			return
		}
	} else {
		user, pass, ok := r.BasicAuth()
		if !ok {
			fail("no Basic authorization")
			return
		}
		// Each part is form-urlencoded before Basic.
		if want := url.QueryEscape(clientID); user != want {
			fail("Basic user %q; want %q", user, want)
			return
		}
		if want := url.QueryEscape(clientSecret); pass != want {
			fail("Basic password %q; want %q", pass, want)
			return
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail("reading body: %v", err)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		fail("body %q is not a form: %v", body, err)
		return
	}
	if got := form["token_type_hint"]; len(got) != 1 || got[0] != "access_token" {
		fail("token_type_hint %q; want access_token", got)
		return
	}
	tok := form["token"]
	if len(tok) != 1 || tok[0] == "" {
		fail("token %q; want one", tok)
		return
	}
	e.mu.Lock()
	status, answer, known := e.status, e.answers[tok[0]], e.answers[tok[0]] != ""
	e.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if !known {
		answer = `{"active":false}`
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, answer)
}

// basicAuthz is the Authorization header for clientID and clientSecret.
func basicAuthz() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(clientSecret)))
}

// handlerTransport answers requests with an http.Handler, in memory: for
// tests inside a synctest bubble, where the network is not fake.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// transportFunc is a RoundTripper made of a func.
type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// serve starts e on an httptest server and returns a Config for it, with
// client_secret_basic.
func serve(t *testing.T, e *endpoint) introspect.Config {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return introspect.Config{
		Endpoint:     srv.URL + "/introspect",
		AllowHTTP:    true,
		ClientID:     clientID,
		ClientSecret: clientSecret,
	}
}

// inMemory returns a Config that reaches e without a network.
func inMemory(e *endpoint) introspect.Config {
	return introspect.Config{
		Endpoint:     "https://as.example/introspect",
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Client:       &http.Client{Transport: handlerTransport{e}},
	}
}

func mustNew(t testing.TB, cfg introspect.Config) *introspect.Introspector {
	t.Helper()
	in, err := introspect.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return in
}

// request returns a GET with the Authorization headers given.
func request(authz ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, a := range authz {
		r.Header.Add("Authorization", a)
	}
	return r
}

func bearer(tok string) *http.Request { return request("Bearer " + tok) }
