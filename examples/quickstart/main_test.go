package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestQuickstart sends the requests that the usage text suggests through
// the assembled gateway and checks what each reached.
func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := startBackends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gw, key, err := newGateway(b, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()

	get := func(path string, header ...string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("GET %s: body %q is not JSON: %v", path, body, err)
		}
		return res.StatusCode, m
	}

	seen := map[any]bool{}
	for range 4 {
		status, m := get("/v1/users/42")
		if status != 200 || m["path"] != "/v1/users/42" {
			t.Fatalf("GET /v1/users/42 = %d %v; want 200 from a users backend", status, m)
		}
		seen[m["backend"]] = true
	}
	if !seen["users-1"] || !seen["users-2"] {
		t.Errorf("users backends reached = %v; want both users-1 and users-2", seen)
	}
	if status, m := get("/v1/orders/7"); status != 200 || m["backend"] != "orders" {
		t.Errorf("GET /v1/orders/7 = %d %v; want 200 from orders", status, m)
	}
	if status, m := get("/v1/greeting", "X-Variant", "canary"); status != 200 || m["backend"] != "greeting-canary" {
		t.Errorf("GET /v1/greeting with X-Variant: canary = %d %v; want greeting-canary", status, m)
	}
	if status, m := get("/healthz"); status != 200 || m["status"] != "ok" {
		t.Errorf("GET /healthz = %d %v; want 200 ok", status, m)
	}
	if status, m := get("/nope"); status != 404 || m["error"] == nil {
		t.Errorf("GET /nope = %d %v; want a 404 JSON error", status, m)
	}
	if status, m := get("/v1/account"); status != 401 || m["error"] == nil {
		t.Errorf("GET /v1/account without a key = %d %v; want a 401 JSON error", status, m)
	}
	if status, _ := get("/v1/account", "Authorization", "Bearer "+key+"x"); status != 401 {
		t.Errorf("GET /v1/account with a wrong key = %d; want 401", status)
	}
	for i := range 6 {
		status, m := get("/v1/account", "Authorization", "Bearer "+key)
		switch {
		case i < 5 && (status != 200 || m["tenant"] != "demo" || m["plan"] != "free"):
			t.Errorf("GET /v1/account #%d with the demo key = %d %v; want 200 for tenant demo on plan free", i+1, status, m)
		case i == 5 && status != 429:
			t.Errorf("GET /v1/account #6 = %d %v; want 429: the free plan allows 5 a minute", status, m)
		}
	}
}
