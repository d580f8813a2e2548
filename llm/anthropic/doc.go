// Package anthropic speaks the Anthropic messages API: a codec between its
// requests, responses, streams and errors and the normalized model of
// package llm, in each direction, and a [Provider] that sends requests to
// Anthropic (or to any server that speaks its API).
//
// Quickstart, a provider behind the gateway:
//
//	p, err := anthropic.New(anthropic.Config{APIKey: os.Getenv("ANTHROPIC_API_KEY")})
//	if err != nil {
//		log.Fatal(err)
//	}
//	res, err := p.Chat(ctx, &llm.Request{
//		Model:    "claude-sonnet-4-5",
//		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Hi"}}}},
//	})
//
// An ingress serving Anthropic clients reads their requests with
// [DecodeRequest], answers with [EncodeResponse] or a [StreamEncoder], and
// reports failures with [EncodeError]. When the client's format is the
// provider's, [Provider.Forward] passes the bytes on, [SetModel] renames
// the model, and [ResponseUsage] or a [UsageScanner] reads the usage.
//
// # What is carried
//
// Into the model ([DecodeRequest], [DecodeResponse], [NewStreamDecoder]):
//
//	| Anthropic                                      | model                                                      |
//	|------------------------------------------------|------------------------------------------------------------|
//	| model, max_tokens (required), temperature,     | Model, MaxTokens, Temperature, TopP, TopK, Stop, Stream    |
//	| top_p, top_k, stop_sequences, stream           |                                                            |
//	| system (string or text blocks, cache_control)  | a leading RoleSystem message; Part.Cache                   |
//	| messages[].role user / assistant               | RoleUser / RoleAssistant, one message per turn             |
//	| text block, cache_control                      | PartText, Part.Cache (TTL)                                 |
//	| image, document: base64, url, text sources     | PartImage, PartFile with Media (Data, URL, MediaType);     |
//	|                                                | a document's title in Media.Name                           |
//	| tool_use {id, name, input}                     | PartToolCall, Arguments the compacted input                |
//	| tool_result {tool_use_id, content, is_error}   | PartToolResult with text and image parts, IsError          |
//	| thinking {thinking, signature}                 | PartReasoning with Signature                               |
//	| redacted_thinking {data}                       | PartRedactedReasoning, Signature the data                  |
//	| tools [{name, description, input_schema,       | Tools (Name, Description, Parameters, Strict)              |
//	| strict}]                                       |                                                            |
//	| tool_choice auto / any / tool / none           | ToolChoice auto / required / named / none                  |
//	| disable_parallel_tool_use                      | ParallelToolCalls (negated)                                |
//	| thinking enabled {budget_tokens} / disabled    | Reasoning.BudgetTokens / Reasoning.Disabled                |
//	| metadata.user_id                               | User                                                       |
//	| other top-level fields (service_tier, ...)     | Extra (ExtraFormat anthropic), written back as they came   |
//	| server tools (a type such as web_search_...)   | Extra["tools"], written back after the custom tools        |
//	| a tool's cache_control                         | Extra["tools"], written back onto the tool of that name    |
//	| citations, context of a block; blocks of other | Extra under the block's path, e.g.                         |
//	| types (server_tool_use, web_search_tool_result,| "messages[1].content[0].citations", "content[3]";          |
//	| file and content sources)                      | written back in place by this package's encoders           |
//	| thinking of another type (e.g. adaptive)       | Extra["thinking"]                                          |
//	| stop_reason end_turn / stop_sequence           | FinishStop (StopSequence set)                              |
//	| max_tokens, model_context_window_exceeded      | FinishLength                                               |
//	| tool_use / pause_turn / refusal / other        | FinishToolCalls / FinishPause / FinishRefusal / FinishOther|
//	| usage input_tokens + cache_creation_input_     | Usage.InputTokens (all input tokens)                       |
//	| tokens + cache_read_input_tokens               |                                                            |
//	| cache_creation / cache_read_input_tokens       | CacheWriteTokens / CacheReadTokens                         |
//	| output_tokens                                  | OutputTokens                                               |
//	| stream events, ping, error                     | part events by block index, ToolIndex counting tool_use    |
//	|                                                | blocks; EventPing; EventError                              |
//
// Out of the model ([EncodeRequest], [EncodeResponse], [StreamEncoder]),
// what Anthropic cannot carry is reported as an [llm.Loss]:
//
//	| model                                          | Anthropic                                                  |
//	|------------------------------------------------|------------------------------------------------------------|
//	| MaxTokens 0                                    | max_tokens 4096 ([DefaultMaxTokens]; plus the thinking     |
//	|                                                | budget when there is one); not a loss                      |
//	| leading system and developer messages          | system (a string, or text blocks with cache_control)       |
//	| system messages later in the conversation      | moved to the end of system: loss                           |
//	| non-text system parts                          | loss                                                       |
//	| RoleTool messages                              | tool_result blocks of a user turn                          |
//	| consecutive messages of one role               | merged into one turn (Anthropic requires alternation)      |
//	| Message.Name                                   | loss                                                       |
//	| tool call arguments                            | tool_use input; not a JSON object: ErrInvalidRequest       |
//	|                                                | (in a response: sent as {}, loss)                          |
//	| reasoning with an Anthropic signature          | thinking / redacted_thinking                               |
//	| reasoning unsigned, or signed by another       | loss (Anthropic rejects it); in responses and streams to   |
//	| format (ExtraFormat neither anthropic nor "")  | a client it is sent as thinking with an empty signature    |
//	| PartRefusal                                    | a text block: loss                                         |
//	| Signature on other parts (Gemini)              | loss                                                       |
//	| Media.Detail; an image's Media.Name            | loss                                                       |
//	| inline media without MediaType                 | sniffed; unknown: ErrInvalidRequest                        |
//	| data: URLs                                     | base64 sources                                             |
//	| Temperature above 1                            | 1: loss                                                    |
//	| Seed, N > 1, PresencePenalty, FrequencyPenalty | loss                                                       |
//	| ResponseFormat json_object / json_schema       | loss (no direct equivalent)                                |
//	| Reasoning.Effort without BudgetTokens          | thinking budget_tokens from [EffortBudget]: minimal 1024, |
//	|                                                | low 2048, medium 8192, high 16384 (kept below MaxTokens):  |
//	|                                                | loss; an unknown effort: no thinking, loss                 |
//	| Reasoning.IncludeThoughts                      | nothing (Anthropic always returns thinking)                |
//	| StreamUsage                                    | nothing (Anthropic always reports usage)                   |
//	| Extra of another format                        | loss, one per field                                        |
//	| FinishContentFilter                            | refusal: loss                                              |
//	| FinishError, FinishOther                       | end_turn: loss                                             |
//	| Usage.InputTokens                              | input_tokens less the cache reads and writes               |
//	| Usage.ReasoningTokens                          | nothing (counted in output_tokens)                         |
//	| stream parts interleaved by index              | a new content block for each return: loss                  |
//	| stream parts of media types                    | loss                                                       |
//
// Not carried at all, and not reported because the decoders have no way
// to: unknown fields inside a content block or a tool (Anthropic itself
// refuses them), citations_delta events and server tool blocks of a
// stream, and usage details beyond the token counts (server_tool_use,
// service_tier). A single text block is written back as a string, and an
// explicit "stream": false is dropped: the same request to Anthropic.
//
// # Performance
//
// The encoders append JSON by hand into one buffer. A [StreamEncoder]
// writes a text delta without allocating, a [UsageScanner] skips content
// events without allocating, and the stream decoder reads content deltas
// in Anthropic's own field order without reflection (two allocations: the
// text, and its event). Requests and responses are decoded with
// encoding/json.
//
// # Security
//
// The API key is sent only as x-api-key and never appears in errors.
// Response bodies are read with a bound (32 MiB; 1 MiB for an error
// before a stream, 8 MiB for one stream event). Error messages of
// non-JSON bodies are cut to 512 bytes.
package anthropic
