// Package ingress serves the OpenAI and Anthropic APIs in front of LLM
// providers, so that their official clients work unchanged against the
// gateway: one OpenAI-compatible API (and one Anthropic-compatible) over
// every provider a [llm.Router] knows.
//
// # Quickstart
//
//	oa, err := openai.New(openai.Config{APIKey: os.Getenv("OPENAI_API_KEY")})
//	if err != nil { ... }
//	an, err := anthropic.New(anthropic.Config{APIKey: os.Getenv("ANTHROPIC_API_KEY")})
//	if err != nil { ... }
//	router, err := llm.NewRouter(
//		llm.Route{Model: "gpt-4o-mini", Provider: oa},
//		llm.Route{Model: "claude", Provider: an, Upstream: "claude-sonnet-4-5"},
//	)
//	if err != nil { ... }
//	h, err := ingress.New(ingress.Config{Router: router})
//	if err != nil { ... }
//	http.ListenAndServe(":8080", h)
//
// An OpenAI client then asks for "claude" at http://localhost:8080/v1, and
// an Anthropic client for "gpt-4o-mini" at http://localhost:8080: each
// request is translated through the normalized model of package llm, the
// response (or stream) back into the client's format, and what could not
// be carried is named in the Gateway-Loss response header. When the
// client's format is the provider's, the bytes pass through unchanged but
// for the model's name, and only the usage is read from the answer.
//
// Credentials: the Handler checks none. The providers hold the gateway's
// API keys; put your own authentication (package auth) and limits
// (package ratelimit) in front of it.
//
// # Performance
//
// A passed-through stream is copied as it arrives, each read flushed to
// the client at once, and parsed on the side for its usage. A translated
// stream costs one decode of each provider event and one encode of each
// client event; BenchmarkChat and BenchmarkStream in this package measure
// both paths, per request and per chunk.
package ingress
