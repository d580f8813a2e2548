package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/vivremotion/gateway"
)

// get sends one request through h and prints the status and the body.
func get(h http.Handler, method, target string, header ...string) {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	line := fmt.Sprintf("%s %s: %d %s", method, target, w.Code, strings.TrimSpace(w.Body.String()))
	if a := w.Header().Get("Allow"); a != "" {
		line += " (Allow: " + a + ")"
	}
	fmt.Println(line)
}

func ExampleNew() {
	// The zero Config is the safe choice: slog.Default for logs and
	// gateway.WriteError for 404, 405 and 400, as JSON.
	gw := gateway.New(gateway.Config{})
	gw.HandleFunc("GET /v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user %s", r.PathValue("id"))
	})

	get(gw, "GET", "/v1/users/42")
	get(gw, "GET", "/v1/teams/7")
	get(gw, "DELETE", "/v1/users/42")
	// Output:
	// GET /v1/users/42: 200 user 42
	// GET /v1/teams/7: 404 {"error":{"type":"not_found","message":"not found"}}
	// DELETE /v1/users/42: 405 {"error":{"type":"method_not_allowed","message":"method not allowed"}} (Allow: GET, HEAD)
}

func ExampleGateway_Handle() {
	gw := gateway.New(gateway.Config{})
	say := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, s, r.PathValue("path"))
		})
	}
	// Exact paths first: the safest routes match one path and one method.
	gw.Handle("GET /files/readme", say("the readme"))
	// A wildcard route serves the rest; the more specific route above
	// wins whatever the order they were added in.
	gw.Handle("GET /files/{path...}", say("file "))
	// Middleware given to Handle wraps that route alone.
	noStore := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			next.ServeHTTP(w, r)
		})
	}
	gw.Handle("POST /files/{path...}", say("stored "), noStore)

	get(gw, "GET", "/files/readme")
	get(gw, "GET", "/files/docs/a%2Fb.txt")
	get(gw, "POST", "/files/new.txt")
	get(gw, "GET", "/files/../etc/passwd")
	// Output:
	// GET /files/readme: 200 the readme
	// GET /files/docs/a%2Fb.txt: 200 file docs/a/b.txt
	// POST /files/new.txt: 200 stored new.txt
	// GET /files/../etc/passwd: 308
}

func ExampleGateway_Route() {
	stable := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "stable") })
	canary := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "canary") })

	gw := gateway.New(gateway.Config{})
	// The safe first step of a canary release: the canary takes no
	// share of the traffic, and only requests that ask for it by name
	// reach it. Raise its Weight once it holds up.
	err := gw.Route(gateway.Route{
		Pattern: "POST /v1/chat/completions",
		Variants: []gateway.Variant{
			{Name: "stable", Weight: 100, Handler: stable},
			{Name: "canary", Weight: 0, Handler: canary},
		},
		Sticky: gateway.Sticky{Header: "X-Variant", Cookie: "variant"},
	})
	if err != nil {
		fmt.Println(err)
	}
	// Route reports a route that could not be told apart from another
	// instead of panicking.
	err = gw.Route(gateway.Route{Pattern: "POST /v1/{api}/completions", Handler: stable})
	fmt.Println("no conflict:", err == nil)
	err = gw.Route(gateway.Route{Pattern: "POST /{version}/chat/{op}", Handler: stable})
	fmt.Println(err)

	get(gw, "POST", "/v1/chat/completions")
	get(gw, "POST", "/v1/chat/completions", "X-Variant", "canary")
	// Output:
	// no conflict: true
	// gateway: route "POST /{version}/chat/{op}" conflicts with "POST /v1/{api}/completions": both match /v1/chat/completions and neither is more specific; change one or set Priority
	// POST /v1/chat/completions: 200 stable
	// POST /v1/chat/completions: 200 canary
}

func ExampleChain() {
	tag := func(s string) gateway.Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Print(s, " ")
				next.ServeHTTP(w, r)
			})
		}
	}
	h := gateway.Chain(tag("first"), tag("second"))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		fmt.Println("handler")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output:
	// first second handler
}

func ExampleGateway_Use() {
	gw := gateway.New(gateway.Config{})
	// Global middleware sees every request, also those no route takes.
	gw.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Println("saw", r.Method, r.URL.Path)
			next.ServeHTTP(w, r)
		})
	})
	gw.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })

	get(gw, "GET", "/health")
	get(gw, "GET", "/missing")
	// Output:
	// saw GET /health
	// GET /health: 200 ok
	// saw GET /missing
	// GET /missing: 404 {"error":{"type":"not_found","message":"not found"}}
}
