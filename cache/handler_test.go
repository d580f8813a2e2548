package cache_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// fresh60 answers body, fresh for 60 seconds, with ETag "v1".
func fresh60(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Etag", `"v1"`)
		io.WriteString(w, body)
	}
}

// ---- 1. New ----

func TestNewErrors(t *testing.T) {
	st := newMapStore()
	for _, tc := range []struct {
		name string
		c    cache.Config
	}{
		{"nil Store", cache.Config{}},
		{"negative MaxBody", cache.Config{Store: st, MaxBody: -1}},
		{"negative BackgroundTimeout", cache.Config{Store: st, BackgroundTimeout: -time.Second}},
		{"negative MaxBackground", cache.Config{Store: st, MaxBackground: -1}},
	} {
		h, err := cache.New(tc.c)
		if err == nil || h != nil {
			t.Errorf("New(%s) = %v, %v; want nil and an error", tc.name, h, err)
		}
	}
	c := cache.Config{Store: st}
	h, err := cache.New(c)
	if err != nil || h == nil {
		t.Fatalf("New(Store only) = %v, %v; want a Handler", h, err)
	}
	h.Close()
	if c.Store != st || c.Name != "" || c.MaxBody != 0 || c.BackgroundTimeout != 0 || c.MaxBackground != 0 || c.CoalesceWait != 0 || c.Origin != nil || c.Logger != nil {
		t.Errorf("New changed its Config to %+v", c)
	}
}

func TestNewDefaultName(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"", "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60"},
		{"edge", "edge; fwd=uri-miss; fwd-status=200; stored; ttl=60"},
	} {
		synctest.Test(t, func(t *testing.T) {
			h := newHandler(t, cache.Config{Store: newMapStore(), Name: tc.name}).Middleware(fresh60("a"))
			check(t, fmt.Sprintf("Name %q: GET", tc.name), serve(h, get()), 200, "a", tc.want)
		})
	}
}

func TestNewDefaultMaxBody(t *testing.T) {
	for _, tc := range []struct {
		size   int
		stored bool
	}{{1 << 20, true}, {1<<20 + 1, false}} {
		st := newMapStore()
		body := strings.Repeat("x", tc.size)
		h := newHandler(t, cache.Config{Store: st}).Middleware(fresh60(body))
		serve(h, get())
		if got := st.has("GET http://example.com/r"); got != tc.stored {
			t.Errorf("a %d-byte body, MaxBody 0: stored = %v; want %v", tc.size, got, tc.stored)
		}
	}
}

// staleSWR answers body with ETag "v1", fresh for 10 s and then served
// stale while revalidated for 60 s; a conditional request gets 304.
func staleSWR(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=60")
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, body)
	}
}

func TestNewDefaultBackgroundTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var deadline time.Time
		var started time.Time
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-None-Match") != "" {
				deadline, _ = r.Context().Deadline()
				started = time.Now()
			}
			staleSWR("a")(w, r)
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		serve(h, get())
		time.Sleep(11 * time.Second)
		serve(h, get())
		synctest.Wait()
		if got := deadline.Sub(started); got != 30*time.Second {
			t.Errorf("background revalidation deadline = start+%v; want start+30s", got)
		}
	})
}

func TestNewDefaultMaxBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var background atomic.Int32
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-None-Match") != "" {
				background.Add(1)
				<-release
			}
			staleSWR("a")(w, r)
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		const keys = 65
		for i := range keys {
			serve(h, getURL(fmt.Sprintf("http://example.com/%d", i)))
		}
		time.Sleep(11 * time.Second)
		for i := range keys {
			serve(h, getURL(fmt.Sprintf("http://example.com/%d", i)))
		}
		synctest.Wait()
		if got := background.Load(); got != 64 {
			t.Errorf("background revalidations of %d stale keys, MaxBackground 0 = %d; want 64", keys, got)
		}
		close(release)
	})
}

// ---- 2. Coalescing ----

func TestCoalesceMisses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		origin, calls := counted(func(w http.ResponseWriter, r *http.Request) {
			<-release
			fresh60("shared")(w, r)
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		const n = 8
		recs := make([]*httptest.ResponseRecorder, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { recs[i] = serve(h, get()) })
		}
		synctest.Wait() // all n in: one at the origin, the others waiting
		close(release)
		wg.Wait()
		if got := calls.Load(); got != 1 {
			t.Errorf("origin calls for %d concurrent misses = %d; want 1", n, got)
		}
		collapsed := 0
		for i, rec := range recs {
			if rec.Code != 200 || rec.Body.String() != "shared" {
				t.Errorf("response %d = %d %q; want 200 \"shared\"", i, rec.Code, rec.Body.String())
			}
			switch cs := cacheStatus(rec); cs {
			case "gateway; fwd=uri-miss; fwd-status=200; collapsed":
				collapsed++
			case "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60":
			default:
				t.Errorf("response %d Cache-Status = %q", i, cs)
			}
		}
		if collapsed != n-1 {
			t.Errorf("collapsed responses = %d; want %d", collapsed, n-1)
		}
	})
}

// leaderHold runs the leader of a flight through h in the background: its
// origin writes the head, flushes and blocks until the returned release
// is called. The caller's origin tells the leader by the header
// "X-Leader" of its request.
func leaderHold(t *testing.T, h http.Handler) (done <-chan *httptest.ResponseRecorder) {
	t.Helper()
	ch := make(chan *httptest.ResponseRecorder, 1)
	go func() { ch <- serve(h, get("X-Leader", "1")) }()
	synctest.Wait()
	return ch
}

func TestCoalesceUnstorableLeaderReleasesFollowersAtHead(t *testing.T) {
	for _, tc := range []struct {
		name string
		head func(w http.ResponseWriter)
	}{
		{"no-store", func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
		}},
		{"body over MaxBody", func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "0123456789abcdef") // 16 bytes, MaxBody 8
			w.(http.Flusher).Flush()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				origin, calls := counted(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("X-Leader") == "" {
						io.WriteString(w, "follower")
						return
					}
					tc.head(w)
					<-release
				})
				h := newHandler(t, cache.Config{Store: newMapStore(), MaxBody: 8}).Middleware(origin)
				leader := leaderHold(t, h)
				const n = 4
				var followers atomic.Int32
				for range n {
					go func() { serve(h, get()); followers.Add(1) }()
				}
				synctest.Wait()
				if got, c := followers.Load(), calls.Load(); got != n || c != n+1 {
					t.Errorf("while the leader's body streams: %d of %d followers answered, origin calls %d; want %d, %d", got, n, c, n, n+1)
				}
				close(release)
				<-leader
			})
		})
	}
}

func TestCoalesceLeaderPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		origin, calls := counted(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Leader") != "" {
				<-release
				panic("origin broke")
			}
			fresh60("follower")(w, r)
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		var recovered any
		leaderDone := make(chan struct{})
		go func() {
			defer close(leaderDone)
			defer func() { recovered = recover() }()
			serve(h, get("X-Leader", "1"))
		}()
		synctest.Wait()
		recs := make([]*httptest.ResponseRecorder, 3)
		var wg sync.WaitGroup
		for i := range recs {
			wg.Go(func() { recs[i] = serve(h, get()) })
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		<-leaderDone
		if recovered != "origin broke" {
			t.Errorf("leader's panic = %v; want it to reach the leader's caller", recovered)
		}
		for i, rec := range recs {
			if rec.Code != 200 || rec.Body.String() != "follower" {
				t.Errorf("follower %d = %d %q; want 200 \"follower\"", i, rec.Code, rec.Body.String())
			}
		}
		if got := calls.Load(); got < 2 {
			t.Errorf("origin calls = %d; want the followers to go forward", got)
		}
	})
}

func TestCoalesceFollowerClientGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		origin, calls := counted(func(w http.ResponseWriter, r *http.Request) {
			<-release
			fresh60("a")(w, r)
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		leader := leaderHold(t, h)
		ctx, cancel := context.WithCancel(context.Background())
		followerDone := make(chan struct{})
		go func() { serve(h, get().WithContext(ctx)); close(followerDone) }()
		synctest.Wait()
		cancel()
		synctest.Wait()
		select {
		case <-followerDone:
		default:
			t.Error("a follower whose client went away still waits for the leader")
		}
		if got := calls.Load(); got != 1 {
			t.Errorf("origin calls = %d; want 1 (the gone follower does not go forward)", got)
		}
		close(release)
		<-leader
	})
}

func TestCoalesceVaryMismatchGoesForward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		origin, calls := counted(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Leader") != "" {
				<-release
			}
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Vary", "Accept-Encoding")
			io.WriteString(w, "enc="+r.Header.Get("Accept-Encoding"))
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		leader := make(chan *httptest.ResponseRecorder, 1)
		go func() { leader <- serve(h, get("X-Leader", "1", "Accept-Encoding", "gzip")) }()
		synctest.Wait()
		var same, other *httptest.ResponseRecorder
		var wg sync.WaitGroup
		wg.Go(func() { same = serve(h, get("Accept-Encoding", "gzip")) })
		wg.Go(func() { other = serve(h, get("Accept-Encoding", "br")) })
		synctest.Wait()
		close(release)
		wg.Wait()
		<-leader
		check(t, "follower with the leader's Accept-Encoding", same, 200, "enc=gzip", "gateway; fwd=uri-miss; fwd-status=200; collapsed")
		check(t, "follower with another Accept-Encoding", other, 200, "enc=br", "")
		if got := calls.Load(); got != 2 {
			t.Errorf("origin calls = %d; want 2 (leader, and the follower of another variant)", got)
		}
	})
}

func TestCoalesceConditionalAndRangeNeverLead(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
	}{
		{"If-None-Match", []string{"If-None-Match", `"x"`}},
		{"If-Modified-Since", []string{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}},
		{"Range", []string{"Range", "bytes=0-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				origin, calls := counted(func(w http.ResponseWriter, r *http.Request) {
					<-release
					fresh60("a")(w, r)
				})
				h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
				var wg sync.WaitGroup
				// The special request first: it must not lead the plain one.
				wg.Go(func() { serve(h, get(tc.kv...)) })
				synctest.Wait()
				wg.Go(func() { serve(h, get()) })
				synctest.Wait()
				if got := calls.Load(); got != 2 {
					t.Errorf("origin calls with a %s request in flight, then a plain GET = %d; want 2", tc.name, got)
				}
				// And the other way round: it must not follow a plain one.
				wg.Go(func() { serve(h, getURL("http://example.com/other")) })
				synctest.Wait()
				wg.Go(func() { serve(h, getURL("http://example.com/other", tc.kv...)) })
				synctest.Wait()
				if got := calls.Load(); got != 4 {
					t.Errorf("origin calls with a plain GET in flight, then a %s request = %d; want 4", tc.name, got)
				}
				close(release)
				wg.Wait()
			})
		})
	}
}

// ---- 3. Validation ----

// validating is an origin for validation tests: a plain request gets
// "v1 body" with ETag "v1", fresh for 10 s; a request conditional on "v1"
// gets what answer304 writes. It records the If-None-Match of each call.
type validating struct {
	mu        sync.Mutex
	inm       []string // If-None-Match of each call, "-" when absent
	answer304 func(w http.ResponseWriter)
}

func (v *validating) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	inm := r.Header.Get("If-None-Match")
	if len(r.Header["If-None-Match"]) == 0 {
		inm = "-"
	}
	v.inm = append(v.inm, inm)
	v.mu.Unlock()
	if inm == `"v1"` && v.answer304 != nil {
		v.answer304(w)
		return
	}
	w.Header().Set("Cache-Control", "max-age=10")
	w.Header().Set("Etag", `"v1"`)
	w.Header().Set("X-Version", "1")
	io.WriteString(w, "v1 body")
}

func (v *validating) calls() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.inm...)
}

func TestValidate304(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &validating{answer304: func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "max-age=20")
			w.Header().Set("Etag", `"v1"`)
			w.Header().Set("X-Version", "2")
			w.WriteHeader(http.StatusNotModified)
		}}
		st := newMapStore()
		h := newHandler(t, cache.Config{Store: st}).Middleware(o)
		serve(h, get())
		time.Sleep(11 * time.Second)

		rec := serve(h, get("If-None-Match", `"client-own"`))
		check(t, "stale GET, origin 304", rec, 200, "v1 body", "gateway; fwd=stale; fwd-status=304; stored; ttl=20")
		if got := rec.Result().Header.Get("X-Version"); got != "2" {
			t.Errorf("stale GET, origin 304: X-Version = %q; want the 304's \"2\"", got)
		}
		if got, want := o.calls(), []string{"-", `"v1"`}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("origin's If-None-Match per call = %q; want %q (the client's own replaced)", got, want)
		}

		time.Sleep(15 * time.Second) // stale by the old max-age=10, fresh by the 304's 20
		rec = serve(h, get())
		check(t, "GET after the refresh", rec, 200, "v1 body", "gateway; hit")
		if got := rec.Result().Header.Get("X-Version"); got != "2" {
			t.Errorf("GET after the refresh: X-Version = %q; want \"2\"", got)
		}
		rec = serve(h, get("If-None-Match", `"v1"`))
		check(t, "GET conditional on the refreshed entry", rec, http.StatusNotModified, "", "gateway; hit")
		if got := len(o.calls()); got != 2 {
			t.Errorf("origin calls = %d; want 2", got)
		}
	})
}

func TestValidate304ClientConditionalMatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &validating{answer304: func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "max-age=20")
			w.Header().Set("Etag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		}}
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(o)
		serve(h, get())
		time.Sleep(11 * time.Second)
		rec := serve(h, get("If-None-Match", `"v1"`))
		check(t, "stale GET conditional on the entry, origin 304", rec, http.StatusNotModified, "",
			"gateway; fwd=stale; fwd-status=304; stored; ttl=20")
	})
}

func TestValidate304NoStorePurges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &validating{answer304: func(w http.ResponseWriter) {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Etag", `"v1"`)
			w.WriteHeader(http.StatusNotModified)
		}}
		st := newMapStore()
		h := newHandler(t, cache.Config{Store: st}).Middleware(o)
		serve(h, get())
		time.Sleep(11 * time.Second)
		rec := serve(h, get())
		check(t, "stale GET, origin 304 no-store", rec, 200, "v1 body", "gateway; fwd=stale; fwd-status=304")
		if st.has("GET http://example.com/r") {
			t.Error("the entry a 304 with no-store refreshed is still stored")
		}
		rec = serve(h, get())
		check(t, "next GET", rec, 200, "v1 body", "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=10")
	})
}

func TestValidate304OtherETagForwardsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		var second http.Header
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch calls.Add(1) {
			case 1:
				w.Header().Set("Cache-Control", "max-age=10")
				w.Header().Set("Etag", `"v1"`)
				io.WriteString(w, "v1 body")
			case 2:
				w.Header().Set("Etag", `"v2"`) // selects nothing stored
				w.WriteHeader(http.StatusNotModified)
			default:
				second = r.Header.Clone()
				w.Header().Set("Cache-Control", "max-age=10")
				w.Header().Set("Etag", `"v2"`)
				io.WriteString(w, "v2 body")
			}
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		serve(h, get())
		time.Sleep(11 * time.Second)
		rec := serve(h, get("X-Client", "1"))
		check(t, "stale GET, origin 304 with another strong ETag", rec, 200, "v2 body", "")
		if calls.Load() != 3 {
			t.Fatalf("origin calls = %d; want 3", calls.Load())
		}
		if second.Get("If-None-Match") != "" || second.Get("X-Client") != "1" {
			t.Errorf("request forwarded again: If-None-Match %q, X-Client %q; want none, \"1\"",
				second.Get("If-None-Match"), second.Get("X-Client"))
		}
		check(t, "next GET", serve(h, get()), 200, "v2 body", "gateway; hit")
	})
}

func TestValidate200Replaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := calls.Add(1)
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("Etag", fmt.Sprintf(`"v%d"`, n))
			fmt.Fprintf(w, "v%d body", n)
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		serve(h, get())
		time.Sleep(11 * time.Second)
		check(t, "stale GET, origin 200", serve(h, get()), 200, "v2 body", "gateway; fwd=stale; fwd-status=200; stored; ttl=10")
		check(t, "next GET", serve(h, get()), 200, "v2 body", "gateway; hit")
		check(t, "GET conditional on the new entry", serve(h, get("If-None-Match", `"v2"`)), 304, "", "gateway; hit")
	})
}

// ---- 4. stale-if-error ----

func TestStaleIfError(t *testing.T) {
	for _, tc := range []struct {
		cc       string // the stored response's Cache-Control
		status   int    // what the origin answers the validation
		wantCode int
		wantBody string
		wantCS   string
	}{
		{"max-age=10, stale-if-error=60", 500, 200, "good", "gateway; fwd=stale; fwd-status=500; ttl=-1"},
		{"max-age=10, stale-if-error=60", 502, 200, "good", "gateway; fwd=stale; fwd-status=502; ttl=-1"},
		{"max-age=10, stale-if-error=60", 503, 200, "good", "gateway; fwd=stale; fwd-status=503; ttl=-1"},
		{"max-age=10, stale-if-error=60", 504, 200, "good", "gateway; fwd=stale; fwd-status=504; ttl=-1"},
		{"max-age=10, stale-if-error=60", 404, 404, "error body", "gateway; fwd=stale; fwd-status=404"},
		{"max-age=10, stale-if-error=60", 501, 501, "error body", "gateway; fwd=stale; fwd-status=501"},
		{"max-age=10", 503, 503, "error body", "gateway; fwd=stale; fwd-status=503"},
	} {
		synctest.Test(t, func(t *testing.T) {
			var calls atomic.Int32
			origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Cache-Control", tc.cc)
					w.Header().Set("Etag", `"v1"`)
					io.WriteString(w, "good")
					return
				}
				w.Header().Set("X-Error", "yes")
				w.WriteHeader(tc.status)
				io.WriteString(w, "error body")
			})
			h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
			serve(h, get())
			time.Sleep(11 * time.Second)
			rec := serve(h, get())
			check(t, fmt.Sprintf("%s, origin %d", tc.cc, tc.status), rec, tc.wantCode, tc.wantBody, tc.wantCS)
			if got := rec.Result().Header.Get("X-Error"); tc.wantBody == "good" && got != "" {
				t.Errorf("%s, origin %d: the error's X-Error leaked into the stale response", tc.cc, tc.status)
			}
		})
	}
}

// ---- 5. stale-while-revalidate ----

// swrOrigin is staleSWR whose conditional requests (the background
// revalidations) are counted and, while hold is set, wait for release;
// it remembers the context of the last one.
type swrOrigin struct {
	plain, conditional atomic.Int32
	hold, panicOn      atomic.Bool
	release            chan struct{}
	mu                 sync.Mutex
	ctx                context.Context
	method             string
}

func newSWROrigin(hold bool) *swrOrigin {
	o := &swrOrigin{release: make(chan struct{})}
	o.hold.Store(hold)
	return o
}

func (o *swrOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("If-None-Match") == "" {
		o.plain.Add(1)
		staleSWR("a")(w, r)
		return
	}
	o.conditional.Add(1)
	o.mu.Lock()
	o.ctx, o.method = r.Context(), r.Method
	o.mu.Unlock()
	if o.panicOn.Load() {
		panic("background origin broke")
	}
	if o.hold.Load() {
		select {
		case <-o.release:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=60")
	w.Header().Set("Etag", `"v1"`)
	w.WriteHeader(http.StatusNotModified)
}

func (o *swrOrigin) last() (context.Context, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ctx, o.method
}

func TestSWRServesStaleAndRevalidatesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newSWROrigin(true)
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(o)
		serve(h, get())
		time.Sleep(11 * time.Second)
		check(t, "stale GET", serve(h, get()), 200, "a", "gateway; hit; ttl=-1")
		synctest.Wait()
		check(t, "stale GET during the revalidation", serve(h, get()), 200, "a", "gateway; hit; ttl=-1")
		synctest.Wait()
		if got := o.conditional.Load(); got != 1 {
			t.Errorf("background revalidations after two stale hits = %d; want 1", got)
		}
		close(o.release)
		synctest.Wait()
		check(t, "GET after the revalidation", serve(h, get()), 200, "a", "gateway; hit")
		if got := o.plain.Load(); got != 1 {
			t.Errorf("plain origin calls = %d; want 1", got)
		}
	})
}

func TestSWRMaxBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newSWROrigin(true)
		h := newHandler(t, cache.Config{Store: newMapStore(), MaxBackground: 1}).Middleware(o)
		a, b := "http://example.com/a", "http://example.com/b"
		serve(h, getURL(a))
		serve(h, getURL(b))
		time.Sleep(11 * time.Second)
		serve(h, getURL(a))
		synctest.Wait()
		check(t, "stale GET b beyond MaxBackground", serve(h, getURL(b)), 200, "a", "gateway; hit; ttl=-1")
		synctest.Wait()
		if got := o.conditional.Load(); got != 1 {
			t.Fatalf("background revalidations with MaxBackground 1 = %d; want 1", got)
		}
		close(o.release)
		synctest.Wait()
		o.hold.Store(false)
		serve(h, getURL(b))
		synctest.Wait()
		if got := o.conditional.Load(); got != 2 {
			t.Errorf("background revalidations once the slot is free = %d; want 2", got)
		}
	})
}

func TestSWRClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newSWROrigin(true)
		c := newHandler(t, cache.Config{Store: newMapStore()})
		h := c.Middleware(o)
		serve(h, get())
		time.Sleep(11 * time.Second)
		serve(h, get())
		synctest.Wait()
		closed := make(chan struct{})
		go func() { c.Close(); close(closed) }()
		synctest.Wait()
		select {
		case <-closed:
		default:
			t.Fatal("Close did not return once the revalidation was canceled")
		}
		if ctx, _ := o.last(); ctx == nil || ctx.Err() != context.Canceled {
			t.Errorf("revalidation context after Close: %v; want canceled", ctx)
		}
		check(t, "stale GET after Close", serve(h, get()), 200, "a", "gateway; hit; ttl=-1")
		synctest.Wait()
		if got := o.conditional.Load(); got != 1 {
			t.Errorf("background revalidations after Close = %d; want none started (1 in all)", got)
		}
	})
}

func TestSWRSurvivesClientCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newSWROrigin(true)
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(o)
		serve(h, get())
		time.Sleep(11 * time.Second)
		type key struct{}
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
		serve(h, get().WithContext(ctx))
		cancel()
		synctest.Wait()
		bg, _ := o.last()
		if bg == nil || bg.Err() != nil || bg.Value(key{}) != "v" {
			t.Fatalf("revalidation context after the client's is canceled: %v; want live, with the client's values", bg)
		}
		close(o.release)
		synctest.Wait()
		check(t, "GET after the revalidation", serve(h, get()), 200, "a", "gateway; hit")
	})
}

func TestSWRPanicRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newSWROrigin(false)
		o.panicOn.Store(true)
		var logs lockedBuffer
		c := newHandler(t, cache.Config{Store: newMapStore(), MaxBackground: 1,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		h := c.Middleware(o)
		serve(h, get())
		time.Sleep(11 * time.Second)
		serve(h, get())
		synctest.Wait()
		if !strings.Contains(logs.String(), "panicked") {
			t.Errorf("log after a panicking revalidation = %q; want a record of it", logs.String())
		}
		o.panicOn.Store(false)
		serve(h, get())
		synctest.Wait()
		if got := o.conditional.Load(); got != 2 {
			t.Errorf("revalidations after a panicking one = %d in all; want 2 (its key and slot freed)", got)
		}
		check(t, "GET after the revalidation", serve(h, get()), 200, "a", "gateway; hit")
	})
}

func TestSWRBackgroundTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newSWROrigin(true)
		h := newHandler(t, cache.Config{Store: newMapStore(), BackgroundTimeout: 5 * time.Second}).Middleware(o)
		serve(h, get())
		time.Sleep(11 * time.Second)
		serve(h, get())
		synctest.Wait()
		start := time.Now()
		bg, _ := o.last()
		<-bg.Done()
		if got := time.Since(start); got != 5*time.Second || bg.Err() != context.DeadlineExceeded {
			t.Errorf("revalidation ended after %v with %v; want 5s, deadline exceeded", got, bg.Err())
		}
		synctest.Wait()
		serve(h, get()) // the key is free again
		synctest.Wait()
		if got := o.conditional.Load(); got != 2 {
			t.Errorf("revalidations after a timed out one = %d in all; want 2", got)
		}
	})
}

func TestSWRHeadRevalidatesWithGet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newSWROrigin(false)
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(o)
		serve(h, get())
		time.Sleep(11 * time.Second)
		check(t, "stale HEAD", serve(h, req(http.MethodHead)), 200, "", "gateway; hit; ttl=-1")
		synctest.Wait()
		if _, m := o.last(); m != http.MethodGet {
			t.Errorf("a stale HEAD's revalidation method = %q; want GET", m)
		}
		check(t, "GET after the revalidation", serve(h, get()), 200, "a", "gateway; hit")
	})
}

// ---- 6. Variants ----

// byEncoding answers "enc=" and the request's Accept-Encoding, fresh for
// 60 s, varying on Accept-Encoding.
func byEncoding() (http.Handler, *atomic.Int32) {
	return counted(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Encoding")
		io.WriteString(w, "enc="+r.Header.Get("Accept-Encoding"))
	})
}

func TestVariantsSideBySide(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		origin, calls := byEncoding()
		h := newHandler(t, cache.Config{Store: newMemory(t)}).Middleware(origin)
		for _, s := range []struct {
			enc, wantCS string
		}{
			{"gzip", "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60"},
			{"br", "gateway; fwd=vary-miss; fwd-status=200; stored; ttl=60"},
			{"gzip", "gateway; hit"},
			{"br", "gateway; hit"},
			{"zstd", "gateway; fwd=vary-miss; fwd-status=200; stored; ttl=60"},
			{"gzip", "gateway; hit"},
		} {
			check(t, "GET Accept-Encoding: "+s.enc, serve(h, get("Accept-Encoding", s.enc)), 200, "enc="+s.enc, s.wantCS)
		}
		if got := calls.Load(); got != 3 {
			t.Errorf("origin calls = %d; want 3", got)
		}
	})
}

func TestVaryStarNotStored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=10")
			if calls.Add(1) > 1 {
				w.Header().Set("Vary", "*")
			}
			fmt.Fprintf(w, "v%d", calls.Load())
		})
		st := newMapStore()
		h := newHandler(t, cache.Config{Store: st}).Middleware(origin)
		serve(h, get())
		time.Sleep(11 * time.Second)
		for _, s := range []struct{ body, cs string }{
			{"v2", "gateway; fwd=stale; fwd-status=200"},
			{"v3", "gateway; fwd=uri-miss; fwd-status=200"},
			{"v4", "gateway; fwd=uri-miss; fwd-status=200"},
		} {
			rec := serve(h, get())
			if rec.Body.String() != s.body {
				t.Errorf("GET, origin Vary: * = %q; want %q", rec.Body.String(), s.body)
			}
			if st.has("GET http://example.com/r") {
				t.Errorf("after the GET answered %q with Vary: *, an entry is stored", s.body)
			}
			if got := cacheStatus(rec); got != s.cs {
				t.Errorf("GET answered %q with Vary: *: Cache-Status = %q; want %q", s.body, got, s.cs)
			}
		}
	})
}

func TestVariantsPurgedStayGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		origin, calls := byEncoding()
		m := newMemory(t)
		h := newHandler(t, cache.Config{Store: m}).Middleware(origin)
		serve(h, get("Accept-Encoding", "gzip"))
		serve(h, get("Accept-Encoding", "br"))
		if n, err := m.Purge(context.Background(), "GET http://example.com/r"); n != 1 || err != nil {
			t.Fatalf("Purge(primary) = %d, %v; want 1, nil", n, err)
		}
		check(t, "GET gzip after the purge", serve(h, get("Accept-Encoding", "gzip")), 200, "enc=gzip",
			"gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60")
		check(t, "GET br after the purge and a new gzip", serve(h, get("Accept-Encoding", "br")), 200, "enc=br",
			"gateway; fwd=vary-miss; fwd-status=200; stored; ttl=60")
		if got := calls.Load(); got != 4 {
			t.Errorf("origin calls = %d; want 4", got)
		}
	})
}

// ---- 7. Invalidation ----

func TestInvalidateUnsafeMethods(t *testing.T) {
	const primary = "GET http://example.com/r"
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, tc := range []struct {
			status int
			purged bool
		}{{200, true}, {201, true}, {204, true}, {303, true}, {400, false}, {404, false}, {500, false}} {
			st := newMapStore()
			h := newHandler(t, cache.Config{Store: st}).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					fresh60("a")(w, r)
					return
				}
				w.WriteHeader(tc.status)
			}))
			serve(h, get())
			rec := serve(h, req(method))
			if want := fmt.Sprintf("gateway; fwd=method; fwd-status=%d", tc.status); cacheStatus(rec) != want {
				t.Errorf("%s answered %d: Cache-Status = %q; want %q", method, tc.status, cacheStatus(rec), want)
			}
			if got := !st.has(primary); got != tc.purged {
				t.Errorf("%s answered %d: GET entry purged = %v; want %v", method, tc.status, got, tc.purged)
			}
		}
	}
}

func TestInvalidateLocation(t *testing.T) {
	const same, other, secure = "http://example.com/other", "http://elsewhere.example/other", "https://example.com/other"
	for _, tc := range []struct {
		field, value string
		purged       string // which of same and other is purged, "" for neither
	}{
		{"Location", "/other", same},
		{"Location", "http://example.com/other", same},
		{"Content-Location", "/other", same},
		{"Location", other, ""},
		{"Content-Location", other, ""},
		{"Content-Location", secure, ""},
	} {
		st := newMapStore()
		h := newHandler(t, cache.Config{Store: st}).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				fresh60("a")(w, r)
				return
			}
			w.Header().Set(tc.field, tc.value)
			w.WriteHeader(http.StatusCreated)
		}))
		serve(h, getURL(same))
		serve(h, getURL(other))
		serve(h, getURL(secure))
		serve(h, req(http.MethodPost))
		for _, u := range []string{same, other, secure} {
			if got, want := !st.has("GET "+u), u == tc.purged; got != want {
				t.Errorf("POST answered 201 %s: %s: %s purged = %v; want %v", tc.field, tc.value, u, got, want)
			}
		}
	}
}

// inFlightInvalidation runs a GET whose origin calls during(w) and then
// waits, a POST to the same target while it waits, and the rest of the
// GET; it returns the response to a GET made after both.
func inFlightInvalidation(t *testing.T, during func(w http.ResponseWriter)) *httptest.ResponseRecorder {
	t.Helper()
	release := make(chan struct{})
	var calls atomic.Int32
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		n := calls.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		if n == 1 {
			during(w)
			<-release
		}
		fmt.Fprintf(w, "v%d", n)
	})
	h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
	done := make(chan struct{})
	go func() { serve(h, get()); close(done) }()
	synctest.Wait()
	serve(h, req(http.MethodPost))
	close(release)
	<-done
	return serve(h, get())
}

func TestInvalidateInFlightGetBeforeHead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := inFlightInvalidation(t, func(http.ResponseWriter) {})
		check(t, "GET after a POST that overtook a GET", rec, 200, "v2", "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60")
	})
}

func TestInvalidateInFlightGetDuringBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := inFlightInvalidation(t, func(w http.ResponseWriter) {
			io.WriteString(w, "old ")
			w.(http.Flusher).Flush()
		})
		check(t, "GET after a POST during a GET's body", rec, 200, "v2", "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60")
	})
}

func TestInvalidateDuringBackgroundRevalidation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newSWROrigin(true)
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			o.ServeHTTP(w, r)
		}))
		serve(h, get())
		time.Sleep(11 * time.Second)
		serve(h, get()) // stale: revalidation starts, held
		synctest.Wait()
		serve(h, req(http.MethodPost))
		close(o.release)
		synctest.Wait()
		check(t, "GET after a POST during a background revalidation", serve(h, get()), 200, "a",
			"gateway; fwd=uri-miss; fwd-status=200; stored; ttl=10")
	})
}

func TestInvalidateWithoutPurge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMapStore()
		h := newHandler(t, cache.Config{Store: noPurgeStore{st}}).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				fresh60("a")(w, r)
				return
			}
			w.Header().Set("Location", "/r")
			w.WriteHeader(http.StatusOK)
		}))
		serve(h, get())
		check(t, "POST", serve(h, req(http.MethodPost)), 200, "", "gateway; fwd=method; fwd-status=200")
		check(t, "GET after the POST", serve(h, get()), 200, "a", "gateway; hit")
		if _, _, purges := st.counts(); purges != 0 {
			t.Errorf("Purge calls through a store without Purge = %d", purges)
		}
	})
}

func TestInvalidateSilentHandler(t *testing.T) {
	st := newMapStore()
	h := newHandler(t, cache.Config{Store: st}).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			fresh60("a")(w, r)
		}
	}))
	serve(h, get())
	check(t, "DELETE, silent handler", serve(h, req(http.MethodDelete)), 200, "", "gateway; fwd=method; fwd-status=200")
	if st.has("GET http://example.com/r") {
		t.Error("a silent handler's DELETE (net/http sends 200) did not purge the GET entry")
	}
}

// ---- 8. Streaming and the writer ----

// primeStale makes the next GET of srv's /r a validation: the origin's
// first answer is stored stale on arrival (max-age=0) with ETag "v1".
func primeStale(t *testing.T, url string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if cs := res.Header.Get("Cache-Status"); !strings.Contains(cs, "stored") {
		t.Fatalf("priming GET Cache-Status = %q; want stored", cs)
	}
}

// twoStage is an origin whose plain requests prime a stale entry and
// whose conditional ones (validations) are answered by then.
func twoStage(then http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == "" && r.URL.Query().Get("miss") == "" {
			w.Header().Set("Cache-Control", "max-age=0")
			w.Header().Set("Etag", `"v1"`)
			io.WriteString(w, "primed")
			return
		}
		then(w, r)
	}
}

// forwards lists the kinds of forwarded requests the writer tests run:
// a plain miss, where next writes to the client's writer, and a
// validation answered 200, where it writes to the Handler's own.
var forwards = []struct {
	name, path string
	prime      bool
}{
	{"miss", "/r?miss=1", false},
	{"validated", "/r", true},
}

func TestFlushReachesClient(t *testing.T) {
	for _, fw := range forwards {
		for _, cc := range []string{"no-cache", "max-age=60"} {
			t.Run(fw.name+" "+cc, func(t *testing.T) {
				release := make(chan struct{})
				c := newHandler(t, cache.Config{Store: newMapStore()})
				srv := httptest.NewServer(c.Middleware(twoStage(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/event-stream")
					w.Header().Set("Cache-Control", cc)
					io.WriteString(w, "data: 1\n\n")
					w.(http.Flusher).Flush()
					<-release
					io.WriteString(w, "data: 2\n\n")
				})))
				defer srv.Close()
				defer close(release)
				if fw.prime {
					primeStale(t, srv.URL+fw.path)
				}
				res, err := http.Get(srv.URL + fw.path)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				line, err := bufio.NewReader(res.Body).ReadString('\n')
				if line != "data: 1\n" || err != nil {
					t.Errorf("first line before the body ends = %q, %v; want \"data: 1\\n\"", line, err)
				}
			})
		}
	}
}

func TestTrailersReachClient(t *testing.T) {
	for _, fw := range forwards {
		t.Run(fw.name, func(t *testing.T) {
			c := newHandler(t, cache.Config{Store: newMapStore()})
			srv := httptest.NewServer(c.Middleware(twoStage(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Trailer", "X-Sum")
				w.Header().Set("Cache-Control", "max-age=60")
				w.WriteHeader(200)
				io.WriteString(w, "body")
				w.Header().Set("X-Sum", "abc")
				w.Header().Set(http.TrailerPrefix+"X-Late", "z")
			})))
			defer srv.Close()
			if fw.prime {
				primeStale(t, srv.URL+fw.path)
			}
			res, err := http.Get(srv.URL + fw.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(b) != "body" || res.Trailer.Get("X-Sum") != "abc" || res.Trailer.Get("X-Late") != "z" {
				t.Errorf("response %q, trailers %v; want \"body\", X-Sum: abc, X-Late: z", b, res.Trailer)
			}
		})
	}
}

func TestEarlyHintsOnMiss(t *testing.T) {
	c := newHandler(t, cache.Config{Store: newMapStore()})
	srv := httptest.NewServer(c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "page")
	})))
	defer srv.Close()
	var mu sync.Mutex
	var got []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textprotoHeader) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%d %s", code, h.Get("Link")))
		return nil
	}}
	r, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, srv.URL, nil)
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if want := "103 </style.css>; rel=preload"; len(got) != 1 || got[0] != want || res.StatusCode != 200 {
		t.Errorf("1xx seen by the client = %q, then %d; want [%q], then 200", got, res.StatusCode, want)
	}
}

func TestResponseControllerThroughHandler(t *testing.T) {
	for _, path := range []string{"/r?miss=1", "/r", "/post?miss=1"} {
		t.Run(path, func(t *testing.T) {
			errs := make(chan error, 3)
			c := newHandler(t, cache.Config{Store: newMapStore()})
			srv := httptest.NewServer(c.Middleware(twoStage(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				errs <- rc.SetWriteDeadline(time.Now().Add(time.Minute))
				errs <- rc.SetReadDeadline(time.Now().Add(time.Minute))
				errs <- rc.EnableFullDuplex()
				io.Copy(io.Discard, r.Body) // net/http panics on a full-duplex body left unread after WriteHeader
				io.WriteString(w, "ok")
			})))
			defer srv.Close()
			var res *http.Response
			var err error
			if strings.HasPrefix(path, "/post") {
				res, err = http.Post(srv.URL+path, "text/plain", strings.NewReader("x"))
			} else {
				if path == "/r" {
					primeStale(t, srv.URL+path)
				}
				res, err = http.Get(srv.URL + path)
			}
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if len(errs) != 3 {
				t.Fatalf("the handler behind the cache was not reached")
			}
			for _, what := range []string{"SetWriteDeadline", "SetReadDeadline", "EnableFullDuplex"} {
				if err := <-errs; err != nil {
					t.Errorf("%s through the Handler's writer = %v", what, err)
				}
			}
		})
	}
}

func TestSilentHandlerGets200(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/silent" && r.Header.Get("Cache-Control") != "no-cache" {
				fresh60("a")(w, r)
			}
		}))
		check(t, "miss, silent handler", serve(h, getURL("http://example.com/silent")), 200, "", "gateway; fwd=uri-miss; fwd-status=200")
		serve(h, get())
		check(t, "validation, silent handler", serve(h, get("Cache-Control", "no-cache")), 200, "", "gateway; fwd=request; fwd-status=200")
	})
}

func TestHijackNoSuperfluousWriteHeader(t *testing.T) {
	for _, tc := range []struct {
		name, method string
		kv           []string
	}{
		{"GET Upgrade", http.MethodGet, []string{"Upgrade", "websocket", "Connection", "Upgrade"}},
		{"GET", http.MethodGet, nil},
		{"POST", http.MethodPost, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			c := newHandler(t, cache.Config{Store: newMapStore()})
			mw := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Errorf("Hijack through the Handler = %v", err)
					return
				}
				defer conn.Close()
				brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				brw.Flush()
			}))
			done := make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				mw.ServeHTTP(w, r)
			}))
			srv.Config.ErrorLog = log.New(&logs, "", 0)
			srv.Start()
			defer srv.Close()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			r, _ := http.NewRequest(tc.method, srv.URL+"/ws", nil)
			for i := 0; i+1 < len(tc.kv); i += 2 {
				r.Header.Set(tc.kv[i], tc.kv[i+1])
			}
			r.Write(conn)
			res, err := http.ReadResponse(bufio.NewReader(conn), r)
			if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("response to the hijacked %s = %v, %v; want 101", tc.name, res, err)
			}
			<-done
			if s := logs.String(); s != "" {
				t.Errorf("server log after a hijacked %s: %q; want none", tc.name, s)
			}
		})
	}
}

// ---- 9. Truncation ----

func TestTruncatedBodyNotStored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMapStore()
		var calls atomic.Int32
		h := newHandler(t, cache.Config{Store: st}).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			if calls.Add(1) == 1 {
				w.Header().Set("Content-Length", "10")
				io.WriteString(w, "abcd") // and gives up
				return
			}
			io.WriteString(w, "whole")
		}))
		serve(h, get())
		if _, sets, _ := st.counts(); sets != 0 {
			t.Errorf("Set calls after a body short of its Content-Length = %d; want 0", sets)
		}
		check(t, "next GET", serve(h, get()), 200, "whole", "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60")
	})
}

// ---- 10. Range ----

func TestRangeOnFreshHit(t *testing.T) {
	for _, tc := range []struct {
		name        string
		contentType string // stored; "" for none
		kv          []string
		code        int
		body        string
		contentRng  string
	}{
		{"one range", "text/plain", []string{"Range", "bytes=2-5"}, 206, "2345", "bytes 2-5/10"},
		{"suffix", "text/plain", []string{"Range", "bytes=-3"}, 206, "789", "bytes 7-9/10"},
		{"If-Range matches", "text/plain", []string{"Range", "bytes=2-5", "If-Range", `"v1"`}, 206, "2345", "bytes 2-5/10"},
		{"If-Range differs", "text/plain", []string{"Range", "bytes=2-5", "If-Range", `"v0"`}, 200, "0123456789", ""},
		{"unsatisfiable", "text/plain", []string{"Range", "bytes=20-30"}, 416, "", "bytes */10"},
		{"no Content-Type stored", "", []string{"Range", "bytes=0-3"}, 206, "0123", "bytes 0-3/10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				origin, calls := counted(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", "max-age=60")
					w.Header().Set("Etag", `"v1"`)
					if tc.contentType != "" {
						w.Header().Set("Content-Type", tc.contentType)
					}
					io.WriteString(w, "0123456789")
				})
				h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
				serve(h, get())
				rec := serve(h, get(tc.kv...))
				res := rec.Result()
				body := rec.Body.String()
				if tc.code == 416 {
					body = "" // http.Error's text
				}
				if rec.Code != tc.code || body != tc.body || res.Header.Get("Content-Range") != tc.contentRng {
					t.Errorf("GET %v = %d %q Content-Range %q; want %d %q %q", tc.kv, rec.Code, body,
						res.Header.Get("Content-Range"), tc.code, tc.body, tc.contentRng)
				}
				if got := res.Header.Get("Content-Type"); tc.contentType == "" && got != "" {
					t.Errorf("GET %v of an entry without Content-Type: Content-Type %q; want none", tc.kv, got)
				}
				if cs := cacheStatus(rec); cs != "gateway; hit" || calls.Load() != 1 {
					t.Errorf("GET %v: Cache-Status %q, origin calls %d; want a hit, 1", tc.kv, cs, calls.Load())
				}
			})
		})
	}
}

// ---- 11. Cache-Status ----

func TestCacheStatusForms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Cache-Control", "max-age=10, stale-if-error=60")
			w.Header().Set("Etag", `"v1"`)
			if r.URL.Query().Get("fail") != "" && r.Header.Get("If-None-Match") != "" {
				w.WriteHeader(503)
				return
			}
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(304)
				return
			}
			io.WriteString(w, "a")
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		const u, fail = "http://example.com/r", "http://example.com/r?fail=1"
		for _, s := range []struct {
			wait time.Duration
			r    *http.Request
			code int
			want string
		}{
			{0, getURL(u, "Cache-Control", "only-if-cached"), 504, "gateway; detail=only-if-cached"},
			{0, getURL(u), 200, "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=10"},
			{0, getURL(fail), 200, "gateway; fwd=uri-miss; fwd-status=200; stored; ttl=10"},
			{0, req(http.MethodHead), 200, "gateway; hit"},
			{3 * time.Second, getURL(u), 200, "gateway; hit"},
			{0, getURL(u, "Cache-Control", "no-cache"), 200, "gateway; fwd=request; fwd-status=304; stored; ttl=10"},
			{0, getURL(u, "Authorization", "Bearer x"), 200, "gateway; fwd=bypass; fwd-status=200"},
			{0, httptest.NewRequest(http.MethodPost, "http://example.com/other", nil), 200, "gateway; fwd=method; fwd-status=200"},
			{11 * time.Second, getURL(u, "Cache-Control", "only-if-cached"), 504, "gateway; detail=only-if-cached"},
			{0, getURL(u, "Cache-Control", "max-stale=5"), 200, "gateway; hit; ttl=-1"},
			{0, getURL(fail), 200, "gateway; fwd=stale; fwd-status=503; ttl=-4"},
		} {
			time.Sleep(s.wait)
			rec := serve(h, s.r)
			if got := cacheStatus(rec); rec.Code != s.code || got != s.want {
				t.Errorf("%s %s %v = %d %q; want %d %q", s.r.Method, s.r.URL, s.r.Header, rec.Code, got, s.code, s.want)
			}
		}
	})
}

func TestCacheStatusKeepsUpstreamMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Cache-Status", "origin-cache; hit")
			w.Header().Set("Cache-Control", "max-age=0")
			w.Header().Set("Etag", `"v2"`)
			io.WriteString(w, "a")
		})
		h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
		for _, s := range []struct {
			what string
			r    *http.Request
			want string
		}{
			{"miss", get(), "origin-cache; hit, gateway; fwd=uri-miss; fwd-status=200; stored; ttl=0"},
			{"validation answered 200", get(), "origin-cache; hit, gateway; fwd=stale; fwd-status=200; stored; ttl=0"},
			{"POST", req(http.MethodPost), "origin-cache; hit, gateway; fwd=method; fwd-status=200"},
		} {
			if got := cacheStatus(serve(h, s.r)); got != s.want {
				t.Errorf("%s: Cache-Status = %q; want %q", s.what, got, s.want)
			}
		}
	})
}

// TestCacheStatusStoredAtHead: "stored" is written with the head. A body
// whose Content-Length is over MaxBody is known not to be stored, and is
// not said to be; one of unknown length is said to be stored when its head
// goes out (as documented on Handler), and is not stored once it passes
// MaxBody.
func TestCacheStatusStoredAtHead(t *testing.T) {
	for _, known := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			st := newMapStore()
			h := newHandler(t, cache.Config{Store: st, MaxBody: 8}).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				if known {
					w.Header().Set("Content-Length", "10")
				}
				io.WriteString(w, "01234")
				w.(http.Flusher).Flush() // the head goes out before the body passes MaxBody
				io.WriteString(w, "56789")
			}))
			rec := serve(h, get())
			if _, sets, _ := st.counts(); sets != 0 {
				t.Fatalf("known length %v: Set calls for a body over MaxBody = %d; want 0", known, sets)
			}
			if got := cacheStatus(rec); strings.Contains(got, "stored") == known {
				t.Errorf("known length %v: Cache-Status = %q; want stored said only for the unknown length", known, got)
			}
		})
	}
}

// ---- 12. Authorization and Upgrade ----

func TestAuthorizationAndUpgradeNotLookedUp(t *testing.T) {
	for _, tc := range []struct {
		kv []string
		cs string
	}{
		{[]string{"Authorization", "Bearer x"}, "gateway; fwd=bypass; fwd-status=200"}, // max-age alone: not stored
		{[]string{"Upgrade", "websocket", "Connection", "Upgrade"}, "gateway; fwd=bypass; fwd-status=200; stored; ttl=60"},
	} {
		synctest.Test(t, func(t *testing.T) {
			st := newMapStore()
			h := newHandler(t, cache.Config{Store: st}).Middleware(fresh60("a"))
			serve(h, get()) // stored: a lookup would hit
			g0, _, _ := st.counts()
			check(t, fmt.Sprint("GET ", tc.kv), serve(h, get(tc.kv...)), 200, "a", tc.cs)
			if g, _, _ := st.counts(); g != g0 {
				t.Errorf("GET %v: Store.Get calls = %d; want none", tc.kv, g-g0)
			}
		})
	}
}

func TestAuthorizationStoredWhenPublic(t *testing.T) {
	for _, tc := range []struct {
		cc     string
		stored bool
	}{{"public, max-age=60", true}, {"max-age=60", false}, {"s-maxage=60", true}} {
		synctest.Test(t, func(t *testing.T) {
			origin, calls := counted(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", tc.cc)
				io.WriteString(w, "a")
			})
			h := newHandler(t, cache.Config{Store: newMapStore()}).Middleware(origin)
			serve(h, get("Authorization", "Bearer x"))
			serve(h, get())
			if got := calls.Load() == 1; got != tc.stored {
				t.Errorf("%s to a request with Authorization: later GET a hit = %v; want %v", tc.cc, got, tc.stored)
			}
		})
	}
}

// textprotoHeader is the header type of httptrace's Got1xxResponse.
type textprotoHeader = textproto.MIMEHeader
