package ingress_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
)

// A passed-through stream reaches the client byte for byte, whatever the
// size of one event: the usage parser giving up (sse.ErrTooLarge past 1
// MiB) must not stop the copy.
func TestPassthroughStreamLargeEvent(t *testing.T) {
	big := strings.Repeat("a", 2<<20)
	upstream := "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + big + "\"}}]}\n\n" +
		"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: [DONE]\n\n"
	p := &rawProvider{staticProvider: staticProvider{name: "up"}, format: llm.FormatOpenAI, status: http.StatusOK, body: []byte(upstream)}
	h, _ := newIngress(t, llm.Route{Model: "m", Provider: p})
	w := post(h, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if got := w.Body.Len(); got != len(upstream) || !bytes.Equal(w.Body.Bytes(), []byte(upstream)) {
		t.Fatalf("client got %d bytes (ends %q); want the upstream's %d bytes unchanged", got, tail(w.Body.Bytes()), len(upstream))
	}
}

func tail(b []byte) []byte {
	if len(b) > 40 {
		return b[len(b)-40:]
	}
	return b
}

// The model the gateway routes on must be the model the provider gets. A
// body naming "model" twice is routed on the last one (encoding/json);
// passed through untouched, an upstream that reads the first one serves a
// model the route never allowed.
func TestPassthroughDuplicateModel(t *testing.T) {
	p := &rawProvider{staticProvider: staticProvider{name: "up"}, format: llm.FormatOpenAI, status: http.StatusOK,
		body: []byte(`{"id":"c","object":"chat.completion","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)}
	h, _ := newIngress(t, llm.Route{Model: "gpt-4o-mini", Provider: p})
	w := post(h, "/v1/chat/completions", `{"model":"o1-pro","messages":[{"role":"user","content":"hi"}],"model":"gpt-4o-mini"}`)
	if w.Code == http.StatusOK {
		p.mu2.Lock()
		defer p.mu2.Unlock()
		if len(p.forwarded) == 1 && bytes.Contains(p.forwarded[0], []byte(`"o1-pro"`)) {
			t.Fatalf("forwarded %s; want only the routed model (or a 400 for the duplicate key)", p.forwarded[0])
		}
	}
}
