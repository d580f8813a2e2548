// Package llm is the normalized model of large-language-model traffic that
// every wire format converts to and from, and the interfaces of the
// providers behind it.
//
// A client's request in one format (OpenAI chat completions, Anthropic
// messages) is decoded into a [Request]; a [Provider] encodes it into its
// own format (OpenAI, Azure OpenAI, Anthropic, Gemini, or any
// OpenAI-compatible server), and its answer comes back as a [Response],
// or as a [Stream] of [Event]s, which the ingress encodes into the
// client's format. Formats never convert to one another directly: each
// knows only the model. What a conversion cannot carry is reported as a
// [Loss], never dropped silently. When the client's format is the
// provider's, the bytes pass through ([Passthrough]) and only the usage is
// read.
//
// [Usage] is normalized once, at the provider's edge: input tokens count
// cached ones, output tokens count reasoning ones, and each figure says
// whether it was reported, estimated or cut short.
//
// The formats live in their own packages (llm/openai, llm/anthropic,
// llm/gemini), each with its codec and its provider; llm/ingress serves
// the OpenAI and Anthropic APIs over a [Router].
package llm
