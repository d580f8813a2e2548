package openai_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

// TestAzureRedirectKeepsKey: Go's http.Client copies api-key (not
// a field it knows as sensitive) to a redirect's target on any host; the
// Azure key must never reach another server.
func TestAzureRedirectKeepsKey(t *testing.T) {
	var leaked string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Api-Key")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"x","object":"chat.completion","choices":[]}`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	p, err := openai.NewAzure(openai.AzureConfig{Endpoint: api.URL, APIKey: "azure-secret"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Forward(context.Background(), llm.OpChat, "dep", []byte(`{"messages":[{"role":"user","content":"hi"}]}`), false)
	if err == nil {
		resp.Body.Close()
	}
	if leaked != "" {
		t.Errorf("the redirect's target got api-key %q; want no key sent after a redirect", leaked)
	}
}
