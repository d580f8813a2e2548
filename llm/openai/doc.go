// Package openai is the OpenAI chat completions and embeddings format:
// its codec to and from the normalized model of package llm, in each
// direction and streaming included, and its providers: OpenAI ([New]),
// Azure OpenAI ([NewAzure]) and any OpenAI-compatible server such as
// Ollama, vLLM, Groq, Mistral, DeepSeek or Together ([NewCompatible]).
//
// An ingress that speaks OpenAI decodes its client's body with
// [DecodeRequest], and answers with [EncodeResponse], a [StreamEncoder]
// or [EncodeError]; a [Provider] encodes with [EncodeRequest] and decodes
// the upstream's answer with [DecodeResponse], [NewStreamDecoder] and
// [DecodeError]. When client and provider both speak OpenAI, the body
// passes through ([Provider.Forward], [SetModel]) and only its usage is
// read ([ResponseUsage], [UsageScanner]).
//
// # Quickstart
//
//	p, err := openai.New(openai.Config{APIKey: os.Getenv("OPENAI_API_KEY")})
//	if err != nil {
//		log.Fatal(err)
//	}
//	req, err := openai.DecodeRequest(body) // a client's chat completions request
//	if err != nil {
//		status, msg := openai.EncodeError(err.(*llm.Error))
//		w.WriteHeader(status)
//		w.Write(msg)
//		return
//	}
//	res, err := p.Chat(ctx, req)
//	...
//	out, losses, err := openai.EncodeResponse(res)
//
// Streams: [Provider.Stream] returns an [llm.Stream]; each event goes to
// [StreamEncoder.Encode], and [StreamEncoder.Close] ends the client's
// stream with "data: [DONE]" or an error event.
//
// # What is carried
//
// Requests (client → model → provider):
//
//	| OpenAI request                                   | model                          | notes                                                          |
//	|--------------------------------------------------|--------------------------------|----------------------------------------------------------------|
//	| model, messages                                  | Model, Messages                | required                                                       |
//	| roles system, developer, user, assistant, tool   | Role                           | role function (deprecated) is refused                          |
//	| name                                             | Message.Name                   |                                                                |
//	| content: string or text parts                    | PartText                       | one text part is written back as a string                      |
//	| image_url {url, detail}                          | PartImage, Media.URL/Detail    | base64 data: URLs go to Media.Data and MediaType               |
//	| input_audio {data, format}                       | PartFile, Media audio/<format> | mp3 is audio/mpeg                                              |
//	| file {file_data, filename} / {file_id}           | PartFile, Media.Data / URL     | file_id is kept in Media.URL                                   |
//	| assistant tool_calls                             | PartToolCall                   | only type function                                             |
//	| tool message {tool_call_id, content}             | RoleTool + PartToolResult      | text only                                                      |
//	| assistant refusal                                | PartRefusal                    |                                                                |
//	| assistant reasoning_content (DeepSeek, vLLM)     | PartReasoning                  | reasoning in responses and streams too                         |
//	| max_completion_tokens, max_tokens                | MaxTokens                      | written as max_completion_tokens (NewCompatible: max_tokens)   |
//	| temperature, top_p, presence/frequency_penalty   | same                           |                                                                |
//	| stop (string or array), seed, n                  | Stop, Seed, N                  | stop is written as an array                                    |
//	| tools, tool_choice, parallel_tool_calls          | Tools, ToolChoice, ...         | only function tools                                            |
//	| response_format text/json_object/json_schema     | ResponseFormat                 |                                                                |
//	| reasoning_effort                                 | Reasoning.Effort               | "none" is Reasoning.Disabled                                   |
//	| user, stream, stream_options.include_usage       | User, Stream, StreamUsage      | other stream_options keys are dropped                          |
//	| anything else (logit_bias, logprobs, metadata,   | Extra, ExtraFormat openai      | written back unchanged to OpenAI; a loss for other formats    |
//	| store, service_tier, modalities, prediction ...) |                                |                                                                |
//
// Lost (each reported as an [llm.Loss]) when a request from another
// format is encoded for OpenAI:
//
//	| model                                  | in OpenAI                                                                   |
//	|----------------------------------------|-----------------------------------------------------------------------------|
//	| TopK                                   | lost                                                                        |
//	| Part.Cache (prompt-cache hints)        | lost (OpenAI caches prefixes by itself)                                     |
//	| PartReasoning with a Signature         | dropped, text and signature (they mean nothing to another provider)        |
//	| PartRedactedReasoning                  | dropped                                                                     |
//	| Reasoning.BudgetTokens                 | sent as reasoning_effort: below 2048 low, below 8192 medium, else high     |
//	|                                        | (EffortForBudget); dropped when Effort is given too                         |
//	| Reasoning.IncludeThoughts              | lost                                                                        |
//	| ToolResult.IsError                     | lost (the result's text is sent)                                            |
//	| images in tool results                 | dropped (tool messages hold text)                                           |
//	| media in assistant or system messages  | dropped                                                                     |
//	| a file by http(s) URL                  | dropped (OpenAI takes files inline or by file_id)                           |
//	| Extra of another format                | each field dropped                                                          |
//
// Fields inside a message or a content part other than those above (an
// assistant's audio, the deprecated function_call) are not read.
//
// Tool results in a user turn (Anthropic, Gemini) become tool messages,
// placed before the rest of that turn; ToolResult.Name is not needed.
//
// Responses: choice 0 is carried (more choices are a loss in
// Response.Losses), with content, refusal, tool_calls, reasoning_content
// (or "reasoning"), finish_reason (see [FinishReason] and
// [WireFinishReason]), id, created, model, usage (prompt_tokens,
// completion_tokens, cached_tokens as CacheReadTokens, DeepSeek's
// prompt_cache_hit_tokens, reasoning_tokens), and system_fingerprint,
// service_tier and other top-level fields in Extra. Lost: logprobs,
// annotations, audio, and the audio and prediction token counts. Written
// to an OpenAI client from another format, signatures, redacted
// reasoning, CacheWriteTokens and finish reasons OpenAI has no word for
// (pause, error, other: sent as stop) are losses.
//
// Streams carry the same, as chunks: content, reasoning_content, refusal
// and tool call deltas by index, finish_reason, the usage chunk, and
// error chunks. Choices other than 0 are skipped.
//
// Embeddings: input as a string or an array of strings (token arrays are
// refused), dimensions, user, and vectors as floats or base64; other
// request fields are ignored.
//
// # Performance
//
// Writing a stream chunk (about 55 ns) and scanning a passed-through
// chunk for usage (about 60 ns) allocate nothing (TestStreamEncodeAllocs,
// TestUsageScannerAllocs). Decoding goes through encoding/json: about
// 2.3 µs and 9 allocations per streamed chunk, 5 µs to encode and 16 µs
// to decode a typical 1 KB request (its top level is walked once by hand,
// to keep unknown fields in Extra, and each known field decoded). See the benchmarks in bench_test.go.
//
// # Security
//
// Provider bodies are read with bounds: 32 MiB for a response
// ([MaxResponseBody]), 1 MiB for an error, 4 MiB for one stream event
// ([MaxStreamEvent]). The API key is sent only in its header and never
// appears in errors. Requests from clients are decoded without limits of
// their own: bound the body before [DecodeRequest].
package openai
