package anthropic_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

// TestProviderStreamErrorNamed: an error the provider sends mid-stream
// names it, as the errors of its other calls do.
func TestProviderStreamErrorNamed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"c\",\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n")
		io.WriteString(w, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n")
	}))
	defer srv.Close()
	p := newProvider(t, srv.URL)
	st, err := p.Stream(context.Background(), &llm.Request{Model: "c", MaxTokens: 5, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "x"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		ev, err := st.Next()
		if ev.Type == llm.EventError {
			if ev.Err == nil || ev.Err.Provider != p.Name() || ev.Err.Kind != llm.ErrOverloaded {
				t.Errorf("EventError = %+v; want overloaded, from %s", ev.Err, p.Name())
			}
			return
		}
		if err != nil {
			t.Fatalf("stream ended (%v) without an EventError", err)
		}
	}
}

// TestProviderClientBetas: the anthropic-beta values a client asked for,
// passed on by the ingress in the context, are sent beside the
// configuration's own.
func TestProviderClientBetas(t *testing.T) {
	got := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Values("Anthropic-Beta")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`)
	}))
	defer srv.Close()
	p, err := anthropic.New(anthropic.Config{APIKey: "k", BaseURL: srv.URL, Header: http.Header{"Anthropic-Beta": {"configured-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := llm.WithClientHeader(context.Background(), http.Header{"Anthropic-Beta": {"client-2"}, "X-Other": {"no"}})
	if _, err := p.Chat(ctx, &llm.Request{Model: "c", MaxTokens: 5, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "x"}}}}}); err != nil {
		t.Fatal(err)
	}
	if b := <-got; len(b) != 2 || b[0] != "configured-1" || b[1] != "client-2" {
		t.Errorf("anthropic-beta sent = %q; want the configured and the client's", b)
	}
}
