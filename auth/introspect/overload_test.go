package introspect_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/auth/introspect"
)

// blockingEndpoint answers every call once release is closed.
func blockingEndpoint(calls *atomic.Int64, release chan struct{}) transportFunc {
	return func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		return jsonResponse(`{"active":true,"sub":"a"}`), nil
	}
}

// TestMaxInflight: once MaxInflight calls are under way (64 by default),
// a request for another token that is not cached fails at once with 503;
// cached tokens and the calls' own waiters are served.
func TestMaxInflight(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
		want int
	}{
		{"default", 0, 64},
		{"3", 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int64
				release := make(chan struct{})
				in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", MaxInflight: tc.max, Client: &http.Client{Transport: blockingEndpoint(&calls, release)}})
				errc := make(chan error, tc.want)
				for i := range tc.want {
					go func() {
						_, err := in.Authenticate(bearer(fmt.Sprintf("t%d", i)))
						errc <- err
					}()
				}
				synctest.Wait()
				start := time.Now()
				_, err := in.Authenticate(bearer("one-more"))
				wantError(t, "Authenticate(one call over MaxInflight)", err, http.StatusServiceUnavailable, "", introspect.ErrTooManyCalls)
				if !errors.Is(err, introspect.ErrUnavailable) {
					t.Errorf("error %v; want it to wrap ErrUnavailable too", err)
				}
				if d := time.Since(start); d != 0 || calls.Load() != int64(tc.want) {
					t.Errorf("refused after %v with %d calls; want at once with %d", d, calls.Load(), tc.want)
				}
				close(release)
				for range tc.want {
					if err := <-errc; err != nil {
						t.Errorf("Authenticate under the cap = %v", err)
					}
				}
				if _, err := in.Authenticate(bearer("one-more")); err != nil {
					t.Errorf("Authenticate once the calls ended = %v; want a call", err)
				}
			})
		})
	}
}

// TestFailureCooldown: after a failed call, requests for tokens not
// cached fail at once with 503 for FailureCooldown (1s by default), cached
// tokens still pass, and then calls resume.
func TestFailureCooldown(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cooldown time.Duration
		want     time.Duration
	}{
		{"default", 0, time.Second},
		{"5s", 5 * time.Second, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int64
				var down atomic.Bool
				rt := transportFunc(func(r *http.Request) (*http.Response, error) {
					calls.Add(1)
					if down.Load() {
						return nil, errors.New("connection refused")
					}
					return jsonResponse(`{"active":true,"sub":"a"}`), nil
				})
				in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", FailureCooldown: tc.cooldown, Client: &http.Client{Transport: rt}})
				if _, err := in.Authenticate(bearer("cached")); err != nil {
					t.Fatal(err)
				}
				down.Store(true)
				_, err := in.Authenticate(bearer("a"))
				wantError(t, "Authenticate(endpoint down)", err, http.StatusServiceUnavailable, "", introspect.ErrUnavailable)
				down.Store(false)
				time.Sleep(tc.want - time.Nanosecond)
				_, err = in.Authenticate(bearer("b"))
				wantError(t, "Authenticate(during the cooldown)", err, http.StatusServiceUnavailable, "", introspect.ErrCoolingDown)
				if calls.Load() != 2 {
					t.Errorf("%d calls; want 2: none during the cooldown", calls.Load())
				}
				if _, err := in.Authenticate(bearer("cached")); err != nil {
					t.Errorf("Authenticate(cached token, during the cooldown) = %v; want it served", err)
				}
				time.Sleep(time.Nanosecond)
				if _, err := in.Authenticate(bearer("b")); err != nil || calls.Load() != 3 {
					t.Errorf("Authenticate(after the cooldown) = %v with %d calls; want a call that succeeds", err, calls.Load())
				}
			})
		})
	}
}

// TestFailureCooldownOff: a negative FailureCooldown turns it off.
func TestFailureCooldownOff(t *testing.T) {
	var calls atomic.Int64
	rt := transportFunc(func(*http.Request) (*http.Response, error) {
		calls.Add(1)
		return nil, errors.New("connection refused")
	})
	in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", FailureCooldown: -1, Client: &http.Client{Transport: rt}})
	for i := range 3 {
		_, err := in.Authenticate(bearer(fmt.Sprintf("t%d", i)))
		wantError(t, "Authenticate(endpoint down)", err, http.StatusServiceUnavailable, "", introspect.ErrUnavailable)
	}
	if calls.Load() != 3 {
		t.Errorf("%d calls; want 3 with no cooldown", calls.Load())
	}
}

// TestFailureCooldownBadAnswer: an answer a token can provoke (a 4xx, or
// one that is not an introspection response) fails its own call, and
// starts no cooldown, so that one crafted token cannot lock every other
// token out; a 5xx or 429 starts it.
func TestFailureCooldownBadAnswer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bad      func() *http.Response
		cooldown bool
	}{
		{"not an introspection response", func() *http.Response { return jsonResponse(`{"sub":"no active member"}`) }, false},
		{"400", func() *http.Response { r := jsonResponse(`{}`); r.StatusCode = 400; return r }, false},
		{"500", func() *http.Response { r := jsonResponse(`{}`); r.StatusCode = 500; return r }, true},
		{"429", func() *http.Response { r := jsonResponse(`{}`); r.StatusCode = 429; return r }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int64
				rt := transportFunc(func(r *http.Request) (*http.Response, error) {
					calls.Add(1)
					r.ParseForm()
					if strings.HasPrefix(r.PostForm.Get("token"), "evil") {
						return tc.bad(), nil
					}
					return jsonResponse(`{"active":true,"sub":"a"}`), nil
				})
				in := mustNew(t, introspect.Config{Endpoint: "https://as.example/i", Client: &http.Client{Transport: rt}})
				_, err := in.Authenticate(bearer("evil1"))
				wantError(t, "Authenticate(bad answer)", err, http.StatusServiceUnavailable, "", introspect.ErrUnavailable)
				_, err = in.Authenticate(bearer("good"))
				if tc.cooldown {
					wantError(t, "Authenticate(right after the endpoint failed)", err, http.StatusServiceUnavailable, "", introspect.ErrCoolingDown)
				} else if err != nil {
					t.Errorf("Authenticate(another token, right after a bad answer to one) = %v; want it checked", err)
				}
			})
		})
	}
}
