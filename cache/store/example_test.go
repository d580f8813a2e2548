package store_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/cache/store"
)

// A Proxy with an in-memory cache of 64 MiB asks its upstream once for a
// response fresh for a minute.
func ExampleNewMemory() {
	calls := 0
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello")
	}))
	defer upstream.Close()

	mem, err := store.NewMemory(store.MemoryConfig{MaxBytes: 64 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := &gateway.Proxy{Upstreams: balancer.MustPool(upstream.URL), Cache: mem}
	for range 3 {
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/greeting", nil))
		fmt.Println(w.Code, w.Body)
	}
	fmt.Println("upstream calls:", calls)
	// Output:
	// 200 hello
	// 200 hello
	// 200 hello
	// upstream calls: 1
}

// A Redis store is fail-soft: while Redis cannot be reached (here it is at
// an address where nothing listens) every Get is a miss and every Set does
// nothing. OnError hears of the first failure; for a Backoff (1 second by
// default) the calls after it skip Redis, so that an outage costs no wait.
func ExampleNewRedis() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1})
	defer client.Close()
	rs, err := store.NewRedis(store.RedisConfig{
		Client:  client,
		Prefix:  "cache:",
		Grace:   30 * time.Second,
		OnError: func(err error) { fmt.Println("OnError:", strings.Contains(err.Error(), "store: redis")) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	rs.Set(ctx, "GET example.com/a", &cache.Entry{Status: 200, Expires: time.Now().Add(time.Minute)})
	_, ok := rs.Get(ctx, "GET example.com/a")
	fmt.Println("hit:", ok)
	// Output:
	// OnError: true
	// hit: false
}

// The admin handler purges by key, prefix or tag. It checks no
// credentials: mount it behind your own authentication, never on the
// public listener.
func ExampleAdminHandler() {
	mem, _ := store.NewMemory(store.MemoryConfig{}) // tags from Cache-Tag
	ctx := context.Background()
	for i, tag := range []string{"product-7", "product-7, catalogue", "catalogue"} {
		mem.Set(ctx, fmt.Sprint("GET shop.example/items/", i), &cache.Entry{
			Status:  200,
			Header:  http.Header{"Cache-Tag": {tag}},
			Expires: time.Now().Add(time.Hour),
		})
	}
	admin := http.NewServeMux()
	admin.Handle("/cache/", http.StripPrefix("/cache", store.AdminHandler(mem, store.AdminConfig{})))
	// In a real gateway: wrap admin in your authentication middleware.

	for _, body := range []string{`{"tag":"product-7"}`, `{"prefix":"GET shop.example/"}`, `{"key":""}`} {
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/cache/purge", strings.NewReader(body)))
		fmt.Print(w.Code, " ", w.Body)
	}
	// Output:
	// 200 {"purged":2}
	// 200 {"purged":1}
	// 400 {"error":"empty key, prefix or tag"}
}
