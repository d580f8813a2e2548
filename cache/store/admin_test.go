package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache/store"
)

// failing is a Purger whose every call fails, as a Redis store's does
// while Redis is down.
type failing struct{}

func (failing) Purge(context.Context, string) (int, error)       { return 0, errors.New("down") }
func (failing) PurgePrefix(context.Context, string) (int, error) { return 0, errors.New("down") }
func (failing) PurgeTag(context.Context, string) (int, error)    { return 0, errors.New("down") }

func TestAdminHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path, body string
		wantCode                 int
		wantBody                 string // a substring of the answer
	}{
		{"key", "POST", "/purge", `{"key":"GET a.example/x/2"}`, 200, `{"purged":1}`},
		{"key absent", "POST", "/purge", `{"key":"GET nowhere/"}`, 200, `{"purged":0}`},
		{"prefix", "POST", "/purge", `{"prefix":"GET a.example/"}`, 200, `{"purged":2}`},
		{"tag", "POST", "/purge", `{"tag":"red"}`, 200, `{"purged":1}`},
		{"none", "POST", "/purge", `{}`, 400, `exactly one`},
		{"two", "POST", "/purge", `{"key":"a","tag":"b"}`, 400, `exactly one`},
		{"empty", "POST", "/purge", `{"prefix":""}`, 400, `empty`},
		{"unknown field", "POST", "/purge", `{"keys":"a"}`, 400, `unknown field`},
		{"not JSON", "POST", "/purge", `key=a`, 400, `bad JSON`},
		{"trailing", "POST", "/purge", `{"key":"a"} {"key":"b"}`, 400, `after the object`},
		{"wrong type", "POST", "/purge", `{"key":1}`, 400, `bad JSON`},
		{"too big", "POST", "/purge", `{"key":"` + strings.Repeat("a", 100<<10) + `"}`, 400, `bad JSON`},
		{"GET", "GET", "/purge", ``, 405, `use POST`},
		{"other path", "POST", "/flush", `{"key":"a"}`, 404, `not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemory(t, store.MemoryConfig{})
			ctx := context.Background()
			m.Set(ctx, "GET a.example/x/1", entry(time.Hour, 1, "red"))
			m.Set(ctx, "GET a.example/x/2", entry(time.Hour, 1))
			w := httptest.NewRecorder()
			store.AdminHandler(m, store.AdminConfig{}).ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if w.Code != tt.wantCode || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("%s %s %.40s = %d %s; want %d with %s", tt.method, tt.path, tt.body, w.Code, w.Body, tt.wantCode, tt.wantBody)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
			var v map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
				t.Errorf("answer %q is not JSON: %v", w.Body, err)
			}
		})
	}
}

func TestAdminHandlerPurgerError(t *testing.T) {
	t.Parallel()
	var got error
	w := httptest.NewRecorder()
	h := store.AdminHandler(failing{}, store.AdminConfig{OnError: func(err error) { got = err }})
	h.ServeHTTP(w, httptest.NewRequest("POST", "/purge", strings.NewReader(`{"tag":"a"}`)))
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "down") || !strings.Contains(w.Body.String(), `"purge failed"`) {
		t.Errorf("purge failing = %d %s; want 503 with a fixed message, not the error", w.Code, w.Body)
	}
	if got == nil || !strings.Contains(got.Error(), "down") {
		t.Errorf("OnError got %v; want the Purger's error", got)
	}
	// Without OnError the answer is the same.
	w = httptest.NewRecorder()
	store.AdminHandler(failing{}, store.AdminConfig{}).ServeHTTP(w, httptest.NewRequest("POST", "/purge", strings.NewReader(`{"key":"a"}`)))
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "down") {
		t.Errorf("purge failing, no OnError = %d %s; want 503 without the error", w.Code, w.Body)
	}
}
