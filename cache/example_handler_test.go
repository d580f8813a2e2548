package cache_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/vivremotion/gateway/cache"
	cachestore "github.com/vivremotion/gateway/cache/store"
)

// ExampleNew puts a shared cache in memory in front of a handler: the
// second GET is answered from the cache, the POST invalidates it, and the
// third GET goes to the handler again.
func ExampleNew() {
	m, err := cachestore.NewMemory(cachestore.MemoryConfig{MaxBytes: 64 << 20})
	if err != nil {
		panic(err)
	}
	c, err := cache.New(cache.Config{Store: m})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	version := 1
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			version++
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprintf(w, "v%d", version)
	})
	h := c.Middleware(api)

	for _, method := range []string{"GET", "GET", "POST", "GET"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, "http://example.com/doc", nil))
		body, _ := io.ReadAll(w.Body)
		fmt.Printf("%-4s %d %-2s %s\n", method, w.Code, body, w.Header().Get("Cache-Status"))
	}
	// Output:
	// GET  200 v1 gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60
	// GET  200 v1 gateway; hit
	// POST 204    gateway; fwd=method; fwd-status=204
	// GET  200 v2 gateway; fwd=uri-miss; fwd-status=200; stored; ttl=60
}
