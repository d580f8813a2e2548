package cache_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vivremotion/gateway/cache"
	cachestore "github.com/vivremotion/gateway/cache/store"
)

// mapStore is a Store in a map that counts its calls and never drops an
// entry on its own, with a Purge.
type mapStore struct {
	mu                 sync.Mutex
	m                  map[string]*cache.Entry
	gets, sets, purges int
	purged             []string
}

func newMapStore() *mapStore { return &mapStore{m: make(map[string]*cache.Entry)} }

func (s *mapStore) Get(_ context.Context, key string) (*cache.Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	e, ok := s.m[key]
	return e, ok
}

func (s *mapStore) Set(_ context.Context, key string, e *cache.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sets++
	s.m[key] = e
}

func (s *mapStore) Purge(_ context.Context, key string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purges++
	s.purged = append(s.purged, key)
	if _, ok := s.m[key]; ok {
		delete(s.m, key)
		return 1, nil
	}
	return 0, nil
}

// counts returns how many times Get, Set and Purge were called.
func (s *mapStore) counts() (gets, sets, purges int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets, s.sets, s.purges
}

// has reports whether an entry is stored under key.
func (s *mapStore) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[key]
	return ok
}

// noPurgeStore is a Store without Purge.
type noPurgeStore struct{ s *mapStore }

func (n noPurgeStore) Get(ctx context.Context, key string) (*cache.Entry, bool) {
	return n.s.Get(ctx, key)
}
func (n noPurgeStore) Set(ctx context.Context, key string, e *cache.Entry) { n.s.Set(ctx, key, e) }

// newHandler returns a Handler built from c, closed when t ends.
func newHandler(t testing.TB, c cache.Config) *cache.Handler {
	t.Helper()
	h, err := cache.New(c)
	if err != nil {
		t.Fatalf("New(%+v) = %v", c, err)
	}
	t.Cleanup(h.Close)
	return h
}

// newMemory returns a Memory store with the default config.
func newMemory(t testing.TB) *cachestore.Memory {
	t.Helper()
	m, err := cachestore.NewMemory(cachestore.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// counted wraps fn as a handler that counts its calls.
func counted(fn http.HandlerFunc) (http.Handler, *atomic.Int32) {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		fn(w, r)
	}), &n
}

// getURL returns a GET for target with the given fields.
func getURL(target string, kv ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header = hdr(kv...)
	return r
}

// serve runs r through h and returns the recorded response.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// cacheStatus returns the Cache-Status lines of the recorded response
// head, joined with ", ".
func cacheStatus(rec *httptest.ResponseRecorder) string {
	return strings.Join(rec.Result().Header.Values("Cache-Status"), ", ")
}

// check fails t when the recorded response's status, body or
// Cache-Status (when wantCS is not "") are not the wanted ones.
func check(t *testing.T, what string, rec *httptest.ResponseRecorder, wantCode int, wantBody, wantCS string) {
	t.Helper()
	if rec.Code != wantCode || rec.Body.String() != wantBody {
		t.Errorf("%s = %d %q; want %d %q", what, rec.Code, rec.Body.String(), wantCode, wantBody)
	}
	if got := cacheStatus(rec); wantCS != "" && got != wantCS {
		t.Errorf("%s Cache-Status = %q; want %q", what, got, wantCS)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers (loggers).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
