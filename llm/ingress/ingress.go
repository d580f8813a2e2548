package ingress

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vivremotion/gateway/llm"
)

// Config configures a [Handler]. Only Router is required.
type Config struct {
	// Router maps the model names clients ask for to providers. Required.
	Router *llm.Router
	// MaxBody bounds a request's body, in bytes; a larger one is answered
	// 413. Zero means 8 MiB. Negative is an error.
	MaxBody int64
	// MaxResponse bounds a provider's whole (not streamed) response body,
	// in bytes, when it is passed through; a larger one fails with 502.
	// Zero means 32 MiB. Negative is an error.
	MaxResponse int64
	// ForwardHeaders names fields of the client's request that are passed
	// to the providers ([llm.WithClientHeader]), which send those they
	// know to their APIs: "Anthropic-Beta" lets Anthropic clients use the
	// beta features they ask for. The providers' credentials are the
	// gateway's: a field passed on can change what a request costs. Nil
	// passes none. Authorization, X-Api-Key, Cookie and the fields of the
	// connection are refused.
	ForwardHeaders []string
	// OnUsage, when not nil, is called once per request that reached a
	// provider, after the response, with what it used. It runs on the
	// request's goroutine.
	OnUsage func(r *http.Request, u Usage)
	// Logger receives a record for each request a provider failed, and
	// each translation loss at Debug. Nil means [slog.Default].
	Logger *slog.Logger
}

// Usage is what one request used, for [Config.OnUsage].
type Usage struct {
	// Model is the model the client asked for; Upstream the provider's
	// name for it; Provider the provider's Name.
	Model, Upstream, Provider string
	// Usage is the provider's figures, normalized.
	llm.Usage
	// Passthrough says the bytes went through unchanged (the client's
	// format was the provider's).
	Passthrough bool
	// Stream says the response was streamed.
	Stream bool
}

// Defaults of [Config].
const (
	defaultMaxBody     = 8 << 20
	defaultMaxResponse = 32 << 20
)

// Handler serves the OpenAI and Anthropic APIs over a [llm.Router]:
//
//	POST /v1/chat/completions  OpenAI chat completions, streamed or not
//	POST /v1/embeddings        OpenAI embeddings
//	GET  /v1/models            the routed models (Anthropic's shape for a
//	                           client that sends anthropic-version)
//	GET  /v1/models/{model}    one of them
//	POST /v1/messages          Anthropic messages, streamed or not
//
// Every routed model is accepted by every API: a request in one format for
// a provider of another is translated through the model, and what the
// translation cannot carry is named in the Gateway-Loss response header.
// A request in the provider's own format passes through as it came (with
// the model renamed when the route says so), and only its usage is read.
// An unknown model is answered 404 in the client's format; so is every
// error, provider errors included, with Retry-After when the provider
// gave one. A client that goes away cancels the provider's call.
type Handler struct {
	router      *llm.Router
	maxBody     int64
	maxResponse int64
	onUsage     func(*http.Request, Usage)
	logger      *slog.Logger
	mux         *http.ServeMux
	created     int64    // what the models list says, Unix seconds
	forward     []string // ForwardHeaders, canonical
}

// New returns a Handler configured by c. It fails without a Router and on
// a negative bound.
func New(c Config) (*Handler, error) {
	switch {
	case c.Router == nil:
		return nil, errors.New("ingress: Config.Router is nil")
	case c.MaxBody < 0:
		return nil, errors.New("ingress: negative MaxBody")
	case c.MaxResponse < 0:
		return nil, errors.New("ingress: negative MaxResponse")
	}
	var forward []string
	for _, f := range c.ForwardHeaders {
		k := http.CanonicalHeaderKey(strings.TrimSpace(f))
		switch k {
		case "", "Authorization", "Proxy-Authorization", "X-Api-Key", "X-Goog-Api-Key", "Api-Key", "Cookie", "Host",
			"Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Content-Type":
			return nil, fmt.Errorf("ingress: ForwardHeaders: %q cannot be passed to providers", f)
		}
		forward = append(forward, k)
	}
	h := &Handler{
		router:      c.Router,
		maxBody:     c.MaxBody,
		maxResponse: c.MaxResponse,
		onUsage:     c.OnUsage,
		logger:      c.Logger,
		created:     time.Now().Unix(),
		forward:     forward,
	}
	if h.maxBody == 0 {
		h.maxBody = defaultMaxBody
	}
	if h.maxResponse == 0 {
		h.maxResponse = defaultMaxResponse
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { h.chat(w, r, openaiFormat{}) })
	h.mux.HandleFunc("POST /v1/messages", func(w http.ResponseWriter, r *http.Request) { h.chat(w, r, anthropicFormat{}) })
	h.mux.HandleFunc("POST /v1/embeddings", h.embeddings)
	h.mux.HandleFunc("GET /v1/models", h.models)
	h.mux.HandleFunc("GET /v1/models/{model...}", h.model)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, formatOf(r), &llm.Error{Kind: llm.ErrNotFound, Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return h, nil
}

// ServeHTTP serves the APIs listed on [Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(h.forward) > 0 {
		var fwd http.Header
		for _, k := range h.forward {
			if vs := r.Header[k]; len(vs) > 0 {
				if fwd == nil {
					fwd = make(http.Header, len(h.forward))
				}
				fwd[k] = vs
			}
		}
		if fwd != nil {
			r = r.WithContext(llm.WithClientHeader(r.Context(), fwd))
		}
	}
	h.mux.ServeHTTP(w, r)
}

// formatOf returns the format a request's client speaks, for the answers
// of endpoints both APIs share: Anthropic's clients send
// anthropic-version.
func formatOf(r *http.Request) clientFormat {
	if r.Header.Get("Anthropic-Version") != "" {
		return anthropicFormat{}
	}
	return openaiFormat{}
}

// models lists the routed models, in the client's shape.
func (h *Handler) models(w http.ResponseWriter, r *http.Request) {
	routes := h.router.Routes()
	if _, ok := formatOf(r).(anthropicFormat); ok {
		type model struct {
			Type        string `json:"type"`
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
			CreatedAt   string `json:"created_at"`
		}
		list := struct {
			Data    []model `json:"data"`
			HasMore bool    `json:"has_more"`
			FirstID *string `json:"first_id"`
			LastID  *string `json:"last_id"`
		}{Data: make([]model, 0, len(routes))}
		created := time.Unix(h.created, 0).UTC().Format(time.RFC3339)
		for _, rt := range routes {
			list.Data = append(list.Data, model{Type: "model", ID: rt.Model, DisplayName: rt.Model, CreatedAt: created})
		}
		if n := len(list.Data); n > 0 {
			list.FirstID, list.LastID = &list.Data[0].ID, &list.Data[n-1].ID
		}
		writeJSON(w, http.StatusOK, list)
		return
	}
	list := struct {
		Object string        `json:"object"`
		Data   []openaiModel `json:"data"`
	}{Object: "list", Data: make([]openaiModel, 0, len(routes))}
	for _, rt := range routes {
		list.Data = append(list.Data, openaiModel{ID: rt.Model, Object: "model", Created: h.created, OwnedBy: rt.OwnedBy})
	}
	writeJSON(w, http.StatusOK, list)
}

type openaiModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// model describes one routed model.
func (h *Handler) model(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	rt, ok := h.router.Route(name)
	if !ok {
		h.fail(w, r, formatOf(r), unknownModel(name))
		return
	}
	if _, ok := formatOf(r).(anthropicFormat); ok {
		writeJSON(w, http.StatusOK, map[string]string{
			"type": "model", "id": rt.Model, "display_name": rt.Model,
			"created_at": time.Unix(h.created, 0).UTC().Format(time.RFC3339),
		})
		return
	}
	writeJSON(w, http.StatusOK, openaiModel{ID: rt.Model, Object: "model", Created: h.created, OwnedBy: rt.OwnedBy})
}

// unknownModel is the error of a request for a model no route serves.
func unknownModel(name string) *llm.Error {
	return &llm.Error{Kind: llm.ErrNotFound, Code: "model_not_found", Param: "model",
		Message: "the model " + strconv.Quote(name) + " does not exist or is not served by this gateway"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
