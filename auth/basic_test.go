package auth_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/vivremotion/gateway/auth"
)

func hash(t testing.TB, pw string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func basicRequest(header string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	if header != "" {
		r.Header.Set("Authorization", header)
	}
	return r
}

func basicHeader(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

func newBasic(t testing.TB, cost int) *auth.Basic {
	t.Helper()
	b, err := auth.NewBasic(auth.BasicConfig{
		Realm:   "api",
		MinCost: bcrypt.MinCost,
		Users: map[string]auth.BasicUser{
			"alice": {Hash: hash(t, "wonderland", cost), Tenant: "acme", Plan: "pro", Roles: []string{"admin"}},
			"bob":   {Hash: hash(t, "builder", cost)},
			"carol": {Hash: hash(t, strings.Repeat("x", 72), cost)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBasic(t *testing.T) {
	b := newBasic(t, bcrypt.MinCost)
	if got, want := b.Challenge(), `Basic realm="api", charset="UTF-8"`; got != want {
		t.Errorf("Challenge() = %q; want %q", got, want)
	}
	long := "Basic " + strings.Repeat("A", 1100)
	for _, tt := range []struct {
		name   string
		header string
		want   string // Subject, or "" for a refusal
		noCred bool
	}{
		{"valid", basicHeader("alice", "wonderland"), "alice", false},
		{"valid again (cached)", basicHeader("alice", "wonderland"), "alice", false},
		{"scheme in lower case", "basic " + base64.StdEncoding.EncodeToString([]byte("bob:builder")), "bob", false},
		{"wrong password", basicHeader("alice", "looking-glass"), "", false},
		{"wrong password after a cached login", basicHeader("alice", "wonderlanD"), "", false},
		{"unknown user", basicHeader("mallory", "wonderland"), "", false},
		// bcrypt reads 72 bytes: what follows them must not be ignored.
		{"72 bytes", basicHeader("carol", strings.Repeat("x", 72)), "carol", false},
		{"72 bytes and more", basicHeader("carol", strings.Repeat("x", 72)+"anything"), "", false},
		{"password of another user", basicHeader("bob", "wonderland"), "", false},
		{"not base64", "Basic !!!!", "", false},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice")), "", false},
		{"empty user", basicHeader("", "wonderland"), "", false},
		{"too long", long, "", false},
		{"no header", "", "", true},
		{"other scheme", "Bearer abc", "", true},
		{"scheme alone", "Basic", "", true},
	} {
		p, err := b.Authenticate(basicRequest(tt.header))
		switch {
		case tt.want != "":
			if err != nil || p == nil || p.Subject != tt.want || p.Method != "basic" {
				t.Errorf("%s: Authenticate = %+v, %v; want %s", tt.name, p, err, tt.want)
			}
		case tt.noCred:
			if !errors.Is(err, auth.ErrNoCredentials) {
				t.Errorf("%s: Authenticate error = %v; want ErrNoCredentials", tt.name, err)
			}
		default:
			var ae *auth.Error
			if p != nil || !errors.As(err, &ae) || ae.Status != 401 || ae.Description != "invalid credentials" || errors.Is(err, auth.ErrNoCredentials) {
				t.Errorf("%s: Authenticate = %+v, %v; want the 401 invalid credentials", tt.name, p, err)
			}
		}
	}
	p, _ := b.Authenticate(basicRequest(basicHeader("alice", "wonderland")))
	if p.Tenant != "acme" || p.Plan != "pro" || !p.HasRole("admin") {
		t.Errorf("alice = %+v; want tenant acme, plan pro, role admin", p)
	}
}

// TestBasicMiddleware: through the middleware, a refusal carries the Basic
// challenge.
func TestBasicMiddleware(t *testing.T) {
	h := auth.Require(newBasic(t, bcrypt.MinCost))(echo)
	for _, hdr := range []string{"", basicHeader("alice", "nope")} {
		w := serve(h, basicRequest(hdr))
		checkResponse(t, w, 401, []string{`Basic realm="api", charset="UTF-8"`}, "")
	}
	if w := serve(h, basicRequest(basicHeader("alice", "wonderland"))); w.Code != 200 || w.Header().Get("X-Subject") != "alice" {
		t.Errorf("got %d %q; want 200 alice", w.Code, w.Header().Get("X-Subject"))
	}
}

// TestBasicUnknownUserTiming: an unknown user costs a bcrypt comparison
// as a wrong password does, so that timing does not tell which users
// exist. Without the dummy comparison an unknown user would take
// microseconds, a thousandth of a wrong password's time at cost 8.
func TestBasicUnknownUserTiming(t *testing.T) {
	b := newBasic(t, 8)
	fastest := func(header string) time.Duration {
		best := time.Hour
		for range 3 {
			start := time.Now()
			b.Authenticate(basicRequest(header))
			best = min(best, time.Since(start))
		}
		return best
	}
	wrong := fastest(basicHeader("alice", "nope"))
	unknown := fastest(basicHeader("mallory", "nope"))
	if unknown < wrong/3 {
		t.Errorf("unknown user took %v, wrong password %v; want the same order", unknown, wrong)
	}
}

// TestBasicRevocation: SetUsers ends cached logins of users who are gone
// or whose password changed.
func TestBasicRevocation(t *testing.T) {
	b := newBasic(t, bcrypt.MinCost)
	login := func(user, pw string) bool {
		p, err := b.Authenticate(basicRequest(basicHeader(user, pw)))
		return err == nil && p != nil
	}
	if !login("alice", "wonderland") || !login("alice", "wonderland") || !login("bob", "builder") {
		t.Fatal("valid logins refused")
	}
	if err := b.SetUsers(map[string]auth.BasicUser{"alice": {Hash: hash(t, "new", bcrypt.MinCost)}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user, pw string
		want     bool
	}{
		{"alice", "wonderland", false}, // cached, but the password changed
		{"bob", "builder", false},      // cached, but bob is gone
		{"alice", "new", true},
	} {
		if got := login(tt.user, tt.pw); got != tt.want {
			t.Errorf("login(%s, %s) = %v; want %v", tt.user, tt.pw, got, tt.want)
		}
	}
	if err := b.SetUsers(map[string]auth.BasicUser{"carol": {Hash: "plain"}}); err == nil {
		t.Error("SetUsers with a bad hash: nil error; want one")
	}
	if !login("alice", "new") {
		t.Error("a failed SetUsers changed the users")
	}
}

func TestNewBasicErrors(t *testing.T) {
	cheap := hash(t, "x", 4)
	for name, c := range map[string]auth.BasicConfig{
		"cost below default MinCost": {Users: map[string]auth.BasicUser{"a": {Hash: cheap}}},
		"cost below MinCost":         {MinCost: 5, Users: map[string]auth.BasicUser{"a": {Hash: cheap}}},
		"not bcrypt":                 {MinCost: 4, Users: map[string]auth.BasicUser{"a": {Hash: "{SHA}abc"}}},
		"colon in name":              {MinCost: 4, Users: map[string]auth.BasicUser{"a:b": {Hash: cheap}}},
		"empty name":                 {MinCost: 4, Users: map[string]auth.BasicUser{"": {Hash: cheap}}},
		"realm with quote":           {Realm: `a"b`},
		"MinCost too low":            {MinCost: 3},
		"MaxHeaderBytes too large":   {MaxHeaderBytes: 5000},
		"MaxHeaderBytes too small":   {MaxHeaderBytes: 3},
		// A user with a cheaper hash than the dummy's would answer a wrong
		// password faster than an unknown user does.
		"mixed costs": {MinCost: 4, Users: map[string]auth.BasicUser{"a": {Hash: cheap}, "b": {Hash: hash(t, "x", 5)}}},
	} {
		if _, err := auth.NewBasic(c); err == nil {
			t.Errorf("NewBasic(%s) = nil error; want one", name)
		}
	}
}

// TestBasicConcurrent: logins from many goroutines while the users change
// (run with -race).
func TestBasicConcurrent(t *testing.T) {
	b := newBasic(t, bcrypt.MinCost)
	users := map[string]auth.BasicUser{"alice": {Hash: hash(t, "wonderland", bcrypt.MinCost)}}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if p, err := b.Authenticate(basicRequest(basicHeader("alice", "wonderland"))); err != nil || p.Subject != "alice" {
					t.Errorf("Authenticate = %v, %v; want alice", p, err)
					return
				}
			}
		})
	}
	for range 5 {
		if err := b.SetUsers(users); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

// FuzzBasic: no header makes Authenticate panic or let a stranger in.
func FuzzBasic(f *testing.F) {
	b := newBasic(f, bcrypt.MinCost)
	for _, s := range []string{basicHeader("alice", "x"), "Basic ", "Basic ====", "Basic Og==", "basic YTo=", "Basic " + strings.Repeat("QUFB", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{h}
		if p, err := b.Authenticate(r); err == nil {
			t.Errorf("Authenticate(%q) = %+v; want an error", h, p)
		}
	})
}
