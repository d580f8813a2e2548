// Command llm is an AI gateway: one OpenAI-compatible API, and one
// Anthropic-compatible, over several LLM providers.
//
//	go run ./examples/llm -listen 127.0.0.1:8080
//
// It serves POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models
// and POST /v1/messages. Every model it lists is accepted by both APIs.
//
// Which provider answers depends on the environment: with OPENAI_API_KEY
// set, the gpt-* models go to OpenAI; with ANTHROPIC_API_KEY, the claude-*
// models to Anthropic; with GEMINI_API_KEY, the gemini-* models to Gemini.
// A model whose key is not set, and the model "echo", are answered by the
// built-in echo provider, which repeats the last user message: with no key
// at all the gateway still works, on a fresh machine, for trying clients
// and tests. The alias "fast" goes to the first of gpt-4o-mini,
// claude-haiku-4-5 and gemini-2.5-flash that has a key, or to echo.
//
//	curl -s localhost:8080/v1/chat/completions -d '{"model":"fast","messages":[{"role":"user","content":"hi"}]}'
//	curl -s localhost:8080/v1/messages -H 'anthropic-version: 2023-06-01' \
//	  -d '{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
	"github.com/vivremotion/gateway/llm/echo"
	"github.com/vivremotion/gateway/llm/gemini"
	"github.com/vivremotion/gateway/llm/ingress"
	"github.com/vivremotion/gateway/llm/openai"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, *listen, os.Getenv, func(addr string, routes []llm.Route) {
		fmt.Printf("OpenAI API:    http://%s/v1\nAnthropic API: http://%s\n", addr, addr)
		for _, rt := range routes {
			fmt.Printf("  model %-18s -> %s (%s)\n", rt.Model, rt.Provider.Name(), rt.UpstreamModel())
		}
	})
	if err != nil {
		log.Fatal(err)
	}
}

// families are the models served, by the environment variable whose key
// reaches their provider.
var families = []struct {
	env    string
	models []string
	embed  []string
}{
	{"OPENAI_API_KEY", []string{"gpt-4o-mini", "gpt-4o", "gpt-4.1"}, []string{"text-embedding-3-small"}},
	{"ANTHROPIC_API_KEY", []string{"claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1"}, nil},
	{"GEMINI_API_KEY", []string{"gemini-2.5-flash", "gemini-2.5-pro"}, []string{"gemini-embedding-001"}},
}

// fastChoices are the models the alias "fast" may stand for, in order.
var fastChoices = []string{"gpt-4o-mini", "claude-haiku-4-5", "gemini-2.5-flash"}

// routes builds the routes from the environment getenv reads.
func routes(getenv func(string) string) ([]llm.Route, error) {
	ech := echo.New("")
	var rs []llm.Route
	keyed := map[string]llm.Provider{}
	for _, fam := range families {
		var p llm.Provider = ech
		if key := getenv(fam.env); key != "" {
			var err error
			switch fam.env {
			case "OPENAI_API_KEY":
				p, err = openai.New(openai.Config{APIKey: key})
			case "ANTHROPIC_API_KEY":
				p, err = anthropic.New(anthropic.Config{APIKey: key})
			case "GEMINI_API_KEY":
				p, err = gemini.New(gemini.Config{APIKey: key})
			}
			if err != nil {
				return nil, err
			}
		}
		for _, m := range append(fam.models, fam.embed...) {
			rs = append(rs, llm.Route{Model: m, Provider: p})
			if p != llm.Provider(ech) {
				keyed[m] = p
			}
		}
	}
	fast := llm.Route{Model: "fast", Provider: ech, Upstream: "echo"}
	for _, m := range fastChoices {
		if p, ok := keyed[m]; ok {
			fast = llm.Route{Model: "fast", Provider: p, Upstream: m}
			break
		}
	}
	rs = append(rs, fast, llm.Route{Model: "echo", Provider: ech})
	return rs, nil
}

// run serves the gateway on addr until ctx ends; ready gets the address
// once it listens, and the routes.
func run(ctx context.Context, addr string, getenv func(string) string, ready func(string, []llm.Route)) error {
	rs, err := routes(getenv)
	if err != nil {
		return err
	}
	router, err := llm.NewRouter(rs...)
	if err != nil {
		return err
	}
	h, err := ingress.New(ingress.Config{
		Router: router,
		// Anthropic clients may use the beta features they ask for.
		ForwardHeaders: []string{"Anthropic-Beta"},
		OnUsage: func(r *http.Request, u ingress.Usage) {
			slog.Info("llm: usage", "model", u.Model, "provider", u.Provider, "input", u.InputTokens,
				"output", u.OutputTokens, "source", u.Source.String(), "passthrough", u.Passthrough, "stream", u.Stream)
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ready(ln.Addr().String(), router.Routes())
	srv := &gateway.Server{Handler: h}
	if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
