package jwtauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth/jwtauth"
)

// fakeJWKS serves a JWK Set from memory, as an http.RoundTripper, so that
// it runs inside a synctest bubble.
type fakeJWKS struct {
	mu           sync.Mutex
	body         []byte
	status       int
	cacheControl string
	gate         chan struct{} // when not nil, answers wait for it to close
	hits         atomic.Int64
}

func (f *fakeJWKS) setKeys(keys ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body = must(json.Marshal(map[string]any{"keys": keys}))
	f.status = http.StatusOK
}

func (f *fakeJWKS) RoundTrip(r *http.Request) (*http.Response, error) {
	f.hits.Add(1)
	f.mu.Lock()
	body, status, cc, gate := f.body, f.status, f.cacheControl, f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if cc != "" {
		h.Set("Cache-Control", cc)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
}

func newJWKS(t *testing.T, f *fakeJWKS, cfg jwtauth.JWKSConfig) *jwtauth.JWKS {
	t.Helper()
	cfg.URL = "https://idp.example/jwks.json"
	cfg.Client = &http.Client{Transport: f}
	j, err := jwtauth.NewJWKS(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// TestJWKSRotation: a token of a new kid makes the set be fetched again;
// the token of a key that left the set is refused, cached or not; a key
// that stays keeps its cached tokens.
func TestJWKSRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeJWKS{}
		f.setKeys(rsaJWK("a", rsaKey()))
		j := newJWKS(t, f, jwtauth.JWKSConfig{UnknownKIDInterval: 10 * time.Second})
		a := newAuth(t, jwtauth.Config{JWKS: j})
		tokA := sign(t, jwt.SigningMethodRS256, "a", validClaims(), rsaKey())
		tokB := sign(t, jwt.SigningMethodRS256, "b", validClaims(), rsaKey2())
		pA, err := a.Authenticate(request(tokA))
		if err != nil {
			t.Fatalf("Authenticate(kid a) = %v", err)
		}

		// b appears next to a: the unknown kid fetches the set.
		f.setKeys(rsaJWK("a", rsaKey()), rsaJWK("b", rsaKey2()))
		time.Sleep(10 * time.Second)
		if _, err := a.Authenticate(request(tokB)); err != nil {
			t.Fatalf("Authenticate(new kid b) = %v; want it fetched on demand", err)
		}
		if got := f.hits.Load(); got != 2 {
			t.Errorf("fetches = %d; want 2", got)
		}
		if p, err := a.Authenticate(request(tokA)); err != nil || p != pA {
			t.Errorf("Authenticate(kid a, unchanged) = %p, %v; want the cached %p", p, err, pA)
		}

		// a leaves: its cached token is refused at once after the fetch.
		f.setKeys(rsaJWK("b", rsaKey2()))
		time.Sleep(10 * time.Second)
		if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodRS256, "c", validClaims(), rsaKey()))); !errors.Is(err, jwtauth.ErrUnknownKey) {
			t.Fatalf("Authenticate(kid c) = %v; want ErrUnknownKey", err)
		}
		if _, err := a.Authenticate(request(tokA)); !errors.Is(err, jwtauth.ErrUnknownKey) {
			t.Errorf("Authenticate(cached token of removed kid a) = %v; want ErrUnknownKey", err)
		}
		if _, err := a.Authenticate(request(tokB)); err != nil {
			t.Errorf("Authenticate(kid b) = %v; want ok", err)
		}

		// a's kid comes back with another key: a's old token is refused.
		f.setKeys(rsaJWK("b", rsaKey2()), rsaJWK("a", rsaKey2()))
		time.Sleep(10 * time.Second)
		if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodRS256, "a", validClaims(), rsaKey2()))); err != nil {
			t.Errorf("Authenticate(new key under kid a) = %v; want ok", err)
		}
		if _, err := a.Authenticate(request(tokA)); err == nil {
			t.Errorf("Authenticate(token of a's old key) = nil error; want rejection")
		}
	})
}

// TestJWKSUnknownKIDRateLimited: 100 concurrent requests with unknown kids
// cause one fetch, which they all wait for; another unknown kid soon
// after causes none.
func TestJWKSUnknownKIDRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeJWKS{}
		f.setKeys(rsaJWK("a", rsaKey()))
		j := newJWKS(t, f, jwtauth.JWKSConfig{UnknownKIDInterval: 30 * time.Second})
		a := newAuth(t, jwtauth.Config{JWKS: j})
		time.Sleep(30 * time.Second)

		gate := make(chan struct{})
		f.mu.Lock()
		f.gate = gate
		f.mu.Unlock()
		f.setKeys(rsaJWK("a", rsaKey()), rsaJWK("new", rsaKey2()))
		var wg sync.WaitGroup
		var ok, refused atomic.Int64
		for i := range 100 {
			kid := "unknown"
			if i%2 == 0 {
				kid = "new"
			}
			tok := sign(t, jwt.SigningMethodRS256, kid, validClaims(), rsaKey2())
			wg.Go(func() {
				if _, err := a.Authenticate(request(tok)); err == nil {
					ok.Add(1)
				} else if errors.Is(err, jwtauth.ErrUnknownKey) {
					refused.Add(1)
				}
			})
		}
		synctest.Wait() // all 100 wait for the one fetch
		close(gate)
		wg.Wait()
		if got := f.hits.Load(); got != 2 {
			t.Errorf("fetches = %d; want 2 (the first and one for 100 unknown kids)", got)
		}
		if ok.Load() != 50 || refused.Load() != 50 {
			t.Errorf("ok %d, refused %d; want 50 and 50", ok.Load(), refused.Load())
		}
		time.Sleep(29 * time.Second)
		if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodRS256, "other", validClaims(), rsaKey2()))); !errors.Is(err, jwtauth.ErrUnknownKey) {
			t.Errorf("Authenticate(unknown kid) = %v; want ErrUnknownKey", err)
		}
		if got := f.hits.Load(); got != 2 {
			t.Errorf("fetches = %d after an unknown kid within the interval; want still 2", got)
		}
	})
}

// TestJWKSBackgroundRefresh: the set is fetched again after max-age,
// bounded by MinRefreshInterval and MaxRefreshInterval, or after
// RefreshInterval; a failed fetch keeps the keys and is retried after
// MinRefreshInterval.
func TestJWKSBackgroundRefresh(t *testing.T) {
	for _, tc := range []struct {
		cacheControl string
		want         time.Duration
	}{
		{"public, max-age=120", 120 * time.Second},
		{"max-age=5", time.Minute},         // MinRefreshInterval
		{"max-age=999999", time.Hour},      // MaxRefreshInterval
		{"no-cache", 10 * time.Minute},     // RefreshInterval
		{"", 10 * time.Minute},             // RefreshInterval
		{`max-age="300"`, 5 * time.Minute}, // quoted, as some servers send it
	} {
		t.Run(tc.cacheControl, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeJWKS{cacheControl: tc.cacheControl}
				f.setKeys(rsaJWK("a", rsaKey()))
				newJWKS(t, f, jwtauth.JWKSConfig{RefreshInterval: 10 * time.Minute, MinRefreshInterval: time.Minute, MaxRefreshInterval: time.Hour})
				time.Sleep(tc.want - time.Second)
				synctest.Wait()
				if got := f.hits.Load(); got != 1 {
					t.Fatalf("fetches before %v = %d; want 1", tc.want, got)
				}
				time.Sleep(time.Second)
				synctest.Wait()
				if got := f.hits.Load(); got != 2 {
					t.Errorf("fetches at %v = %d; want 2", tc.want, got)
				}
			})
		})
	}
	t.Run("failure", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeJWKS{cacheControl: "max-age=600"}
			f.setKeys(rsaJWK("a", rsaKey()))
			j := newJWKS(t, f, jwtauth.JWKSConfig{MinRefreshInterval: time.Minute})
			a := newAuth(t, jwtauth.Config{JWKS: j, CacheSize: -1})
			tok := sign(t, jwt.SigningMethodRS256, "a", validClaims(), rsaKey())
			f.mu.Lock()
			f.status = http.StatusServiceUnavailable
			f.mu.Unlock()
			time.Sleep(600 * time.Second)
			synctest.Wait()
			if _, err := a.Authenticate(request(tok)); err != nil || f.hits.Load() != 2 {
				t.Fatalf("after a failed refresh: Authenticate = %v, fetches %d; want ok, 2", err, f.hits.Load())
			}
			time.Sleep(time.Minute)
			synctest.Wait()
			if got := f.hits.Load(); got != 3 {
				t.Errorf("fetches a minute after a failure = %d; want 3", got)
			}
		})
	})
}

// TestJWKSClose: Close ends the goroutine (the bubble would not end
// otherwise) and releases a request waiting for a fetch.
func TestJWKSClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeJWKS{}
		f.setKeys(rsaJWK("a", rsaKey()))
		cfg := jwtauth.JWKSConfig{URL: "https://idp.example/jwks", Client: &http.Client{Transport: f}, UnknownKIDInterval: time.Second}
		j, err := jwtauth.NewJWKS(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		a := newAuth(t, jwtauth.Config{JWKS: j})
		time.Sleep(time.Second)
		f.mu.Lock()
		f.gate = make(chan struct{}) // never opened: the fetch hangs until Close
		f.mu.Unlock()
		done := make(chan error)
		go func() {
			_, err := a.Authenticate(request(sign(t, jwt.SigningMethodRS256, "x", validClaims(), rsaKey())))
			done <- err
		}()
		synctest.Wait()
		j.Close()
		if err := <-done; !errors.Is(err, jwtauth.ErrUnknownKey) {
			t.Errorf("Authenticate waiting across Close = %v; want ErrUnknownKey", err)
		}
		if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodRS256, "a", validClaims(), rsaKey()))); err != nil {
			t.Errorf("Authenticate(known kid) after Close = %v; want the keys kept", err)
		}
	})
}

// TestJWKSRequestContext: a request that waits for a fetch gives up when
// its context ends.
func TestJWKSRequestContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeJWKS{}
		f.setKeys(rsaJWK("a", rsaKey()))
		j := newJWKS(t, f, jwtauth.JWKSConfig{UnknownKIDInterval: time.Second, Timeout: time.Minute})
		a := newAuth(t, jwtauth.Config{JWKS: j})
		time.Sleep(time.Second)
		gate := make(chan struct{})
		f.mu.Lock()
		f.gate = gate
		f.mu.Unlock()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		r := request(sign(t, jwt.SigningMethodRS256, "x", validClaims(), rsaKey())).WithContext(ctx)
		start := time.Now()
		if _, err := a.Authenticate(r); !errors.Is(err, jwtauth.ErrUnknownKey) {
			t.Errorf("Authenticate = %v; want ErrUnknownKey", err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("Authenticate waited %v; want the request's 2s", d)
		}
		close(gate)
	})
}

func TestNewJWKSErrors(t *testing.T) {
	good := &fakeJWKS{}
	good.setKeys(rsaJWK("a", rsaKey()))
	empty := &fakeJWKS{}
	empty.setKeys(map[string]any{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"})
	failing := &fakeJWKS{}
	failing.setKeys(rsaJWK("a", rsaKey()))
	failing.status = http.StatusNotFound
	for _, tc := range []struct {
		name string
		cfg  jwtauth.JWKSConfig
		want error
	}{
		{"no URL", jwtauth.JWKSConfig{}, nil},
		{"ftp URL", jwtauth.JWKSConfig{URL: "ftp://x/y"}, nil},
		{"negative timeout", jwtauth.JWKSConfig{URL: "https://x/", Timeout: -1}, nil},
		{"negative max bytes", jwtauth.JWKSConfig{URL: "https://x/", MaxBytes: -1}, nil},
		{"min above max", jwtauth.JWKSConfig{URL: "https://x/", MinRefreshInterval: time.Hour, MaxRefreshInterval: time.Minute}, nil},
		{"unknown default alg", jwtauth.JWKSConfig{URL: "https://x/", DefaultAlgs: []string{"RS257"}}, nil},
		{"status 404", jwtauth.JWKSConfig{URL: "https://x/", Client: &http.Client{Transport: failing}}, jwtauth.ErrFetch},
		{"no usable key", jwtauth.JWKSConfig{URL: "https://x/", Client: &http.Client{Transport: empty}}, jwtauth.ErrFetch},
		{"too large", jwtauth.JWKSConfig{URL: "https://x/", Client: &http.Client{Transport: good}, MaxBytes: 100}, jwtauth.ErrFetch},
	} {
		j, err := jwtauth.NewJWKS(t.Context(), tc.cfg)
		if err == nil {
			j.Close()
			t.Errorf("NewJWKS(%s) = nil error; want one", tc.name)
		} else if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("NewJWKS(%s) = %v; want %v", tc.name, err, tc.want)
		}
	}
}

// TestJWKSTimeout: a fetch that hangs ends after Timeout.
func TestJWKSTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeJWKS{gate: make(chan struct{})}
		f.setKeys(rsaJWK("a", rsaKey()))
		start := time.Now()
		_, err := jwtauth.NewJWKS(t.Context(), jwtauth.JWKSConfig{URL: "https://x/", Client: &http.Client{Transport: f}, Timeout: 3 * time.Second})
		if !errors.Is(err, jwtauth.ErrFetch) || time.Since(start) != 3*time.Second {
			t.Errorf("NewJWKS(hanging server) = %v after %v; want ErrFetch after 3s", err, time.Since(start))
		}
	})
}

// TestJWKSOverHTTP fetches from a real HTTP server.
func TestJWKSOverHTTP(t *testing.T) {
	body := must(json.Marshal(map[string]any{"keys": []any{rsaJWK("a", rsaKey())}}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept"), "json") {
			t.Errorf("Accept = %q; want JSON", r.Header.Get("Accept"))
		}
		w.Write(body)
	}))
	defer srv.Close()
	j, err := jwtauth.NewJWKS(t.Context(), jwtauth.JWKSConfig{URL: srv.URL, AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if keys := j.Keys(); len(keys) != 1 || keys[0].ID != "a" {
		t.Errorf("Keys() = %+v; want kid a", keys)
	}
	a := newAuth(t, jwtauth.Config{JWKS: j})
	if _, err := a.Authenticate(request(sign(t, jwt.SigningMethodRS256, "a", validClaims(), rsaKey()))); err != nil {
		t.Errorf("Authenticate = %v", err)
	}
}
