// Package gemini speaks the Google Gemini API (generateContent and
// streamGenerateContent): a codec between its requests, responses, streams
// and errors and the normalized model of package llm, in each direction,
// and a [Provider] that sends requests to Gemini, embeddings included.
//
// Quickstart, a provider behind the gateway:
//
//	p, err := gemini.New(gemini.Config{APIKey: os.Getenv("GEMINI_API_KEY")})
//	if err != nil {
//		log.Fatal(err)
//	}
//	res, err := p.Chat(ctx, &llm.Request{
//		Model:    "gemini-2.5-flash",
//		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Hi"}}}},
//	})
//
// Gemini keeps the model in the URL (models/{model}:generateContent), not
// in the body: [DecodeRequest] leaves Model "", [DecodeRequestFor] takes
// it from the URL, and [SetModel] returns a body unchanged. An ingress
// serving Gemini clients reads their requests with [DecodeRequestFor],
// answers with [EncodeResponse] or a [StreamEncoder], and reports failures
// with [EncodeError]. When the client's format is the provider's,
// [Provider.Forward] passes the bytes on, and [ResponseUsage] or a
// [UsageScanner] reads the usage.
//
// # What is carried
//
// Into the model ([DecodeRequest], [DecodeResponse], [NewStreamDecoder]).
// Field names of a request may be spelled as Gemini's JSON
// (systemInstruction, inlineData) or as its proto fields
// (system_instruction, inline_data, generation_config.max_output_tokens)
// at every level; the keys inside function args and responses, schemas
// and other tools' settings are left as they came:
//
//	| Gemini                                          | model                                                     |
//	|-------------------------------------------------|-----------------------------------------------------------|
//	| the model in the URL                            | Model, by DecodeRequestFor ("models/" removed)            |
//	| systemInstruction.parts (text)                  | a leading RoleSystem message, one text part per part      |
//	| contents[].role user (or none) / model          | RoleUser / RoleAssistant, one message per content         |
//	| text; thought: true                             | PartText; PartReasoning                                   |
//	| thoughtSignature, on any part                   | Part.Signature                                            |
//	| inlineData {mimeType, data}                     | PartImage (image/*) or PartFile, Media.Data               |
//	| fileData {mimeType, fileUri}                    | PartImage or PartFile, Media.URL                          |
//	| functionCall {id, name, args}                   | PartToolCall, Arguments the compacted args; no id: a      |
//	|                                                 | made-up "call_N" in a request (N counts its calls),       |
//	|                                                 | "call_N_" and 8 random hex digits, one suffix per         |
//	|                                                 | response, in a response or stream (ids of different       |
//	|                                                 | responses differ)                                         |
//	| functionResponse {id, name, response}           | PartToolResult: Name, the response object as text; no id: |
//	|                                                 | the id of the oldest unanswered call of that name         |
//	| part videoMetadata, mediaResolution;            | Extra["gemini:partFields"], by message and part: written  |
//	| functionResponse parts, willContinue,           | back into the same part for gemini (when it is still of   |
//	| scheduling (in a request)                       | its type); another format's encoder reports it as a loss  |
//	| tools[].functionDeclarations {name, description,| Tools; parametersJsonSchema, else parameters, as          |
//	| parameters | parametersJsonSchema}              | Parameters                                                |
//	| other tools (googleSearch, codeExecution,       | Extra["tools"], written back after the declarations       |
//	| urlContext...)                                  |                                                           |
//	| functionCallingConfig AUTO / NONE / ANY / ANY   | ToolChoice auto / none / required / named                 |
//	| with one allowedFunctionName                    |                                                           |
//	| VALIDATED, ANY with several names, other        | the closest ToolChoice (auto, required), and the whole    |
//	| toolConfig fields (retrievalConfig)             | toolConfig in Extra["toolConfig"], sent instead by gemini |
//	| generationConfig temperature, topP, topK,       | Temperature, TopP, TopK, MaxTokens, Stop, Seed,           |
//	| maxOutputTokens, stopSequences, seed,           | PresencePenalty, FrequencyPenalty, N                      |
//	| presencePenalty, frequencyPenalty,              |                                                           |
//	| candidateCount                                  |                                                           |
//	| responseMimeType application/json (+ schema)    | ResponseFormat json_object (json_schema with Schema, from |
//	| / text/plain                                    | responseJsonSchema or responseSchema) / text              |
//	| other responseMimeType (text/x.enum) with its   | Extra["generationConfig"]                                 |
//	| schema; other generationConfig fields           |                                                           |
//	| (mediaResolution, responseModalities...)        |                                                           |
//	| thinkingConfig thinkingBudget N / 0 / -1        | Reasoning.BudgetTokens / Disabled / nothing (dynamic, the |
//	|                                                 | default)                                                  |
//	| thinkingLevel, includeThoughts                  | Reasoning.Effort (lower case), IncludeThoughts            |
//	| safetySettings, cachedContent, labels, other    | Extra (ExtraFormat gemini), written back as they came     |
//	| top-level fields                                |                                                           |
//	| candidates[0]                                   | the response; further candidates: loss; in a stream, only |
//	|                                                 | candidate index 0 is read, others a loss (on EventStart,  |
//	|                                                 | or on EventFinish when first seen later)                  |
//	| executableCode, codeExecutionResult parts       | in a request: ErrInvalidRequest; in a response: loss      |
//	| candidate fields (safetyRatings,                | Extra["candidate"], written back into the candidate       |
//	| citationMetadata, groundingMetadata...)         |                                                           |
//	| promptFeedback, other response fields           | Extra                                                     |
//	| finishReason STOP / STOP with functionCalls     | FinishStop / FinishToolCalls                              |
//	| MAX_TOKENS                                      | FinishLength                                              |
//	| SAFETY, RECITATION, BLOCKLIST,                  | FinishContentFilter                                       |
//	| PROHIBITED_CONTENT, SPII, IMAGE_SAFETY,         |                                                           |
//	| IMAGE_PROHIBITED_CONTENT, IMAGE_RECITATION      |                                                           |
//	| MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,  | FinishError                                               |
//	| TOO_MANY_TOOL_CALLS                             |                                                           |
//	| OTHER, FINISH_REASON_UNSPECIFIED, LANGUAGE, any | FinishOther (RawFinishReason keeps the word)              |
//	| other                                           |                                                           |
//	| promptFeedback.blockReason, no candidates       | FinishContentFilter, RawFinishReason the block reason     |
//	| usageMetadata promptTokenCount +                | Usage.InputTokens (promptTokenCount already counts the    |
//	| toolUsePromptTokenCount                         | cached tokens)                                            |
//	| cachedContentTokenCount                         | CacheReadTokens                                           |
//	| candidatesTokenCount + thoughtsTokenCount       | OutputTokens                                              |
//	| thoughtsTokenCount                              | ReasoningTokens                                           |
//	| totalTokenCount, the per-modality details       | nothing (Usage.Total derives the total)                   |
//	| responseId, modelVersion, createTime            | ID, Model, Created                                        |
//	| stream chunks                                   | EventStart; consecutive text of one kind (thought or not) |
//	|                                                 | one part (an empty text without a signature: no event);   |
//	|                                                 | one part; each functionCall a PartStart, one Delta with   |
//	|                                                 | all its Arguments and a PartEnd; finishReason EventFinish |
//	|                                                 | then EventUsage (the last chunk's usageMetadata); an      |
//	|                                                 | {"error"} chunk EventError                                |
//	| a stream that ends without a finishReason       | EventUsage with Source UsageCutShort, EventError, then    |
//	|                                                 | io.ErrUnexpectedEOF                                       |
//	| inlineData, executableCode parts of a stream    | nothing: the model has no stream event for them           |
//	| a stream chunk of more than 1000 parts          | EventError (server)                                       |
//
// Out of the model ([EncodeRequest], [EncodeResponse], [StreamEncoder]),
// what Gemini cannot carry is reported as an [llm.Loss]:
//
//	| model                                           | Gemini                                                    |
//	|-------------------------------------------------|-----------------------------------------------------------|
//	| system and developer messages                   | systemInstruction text parts; after the conversation      |
//	|                                                 | began: moved there, loss; non-text parts: loss            |
//	| RoleAssistant / RoleUser, RoleTool              | role model / role user; consecutive tool messages share   |
//	|                                                 | one user turn                                             |
//	| Message.Name                                    | loss                                                      |
//	| tool call Arguments                             | functionCall args; not a JSON object: ErrInvalidRequest   |
//	| tool result                                     | functionResponse with the result's Name, else the name of |
//	|                                                 | the earlier call of its CallID (none: ErrInvalidRequest); |
//	|                                                 | response the text when it is a JSON object, else          |
//	|                                                 | {"result": text}; IsError wraps it as {"error": ...};     |
//	|                                                 | non-text parts of a result: loss                          |
//	| tool call ids                                   | functionCall.id / functionResponse.id, unless the id is   |
//	|                                                 | one this codec made up ("call_" and digits, optionally    |
//	|                                                 | "_" and 8 hex digits), which is not                       |
//	|                                                 | sent: Gemini then pairs calls and results by order        |
//	| tool calls of a model turn not from gemini      | the turn's first functionCall without a signature gets    |
//	| (ExtraFormat not gemini)                        | Google's placeholder thoughtSignature                     |
//	|                                                 | "skip_thought_signature_validator" (Gemini 3 answers 400  |
//	|                                                 | without one): loss                                        |
//	| Signature                                       | thoughtSignature, only when the request (response) is     |
//	|                                                 | Gemini's: ExtraFormat gemini, or "" for a request. A      |
//	|                                                 | signature cannot be told apart by itself, so one of any   |
//	|                                                 | other format (an Anthropic signature) is not sent: loss.  |
//	|                                                 | A program replaying Gemini's answers with requests of its |
//	|                                                 | own leaves ExtraFormat "" or sets it to gemini. Streams   |
//	|                                                 | to a client never carry signatures (same-format traffic   |
//	|                                                 | passes through): loss                                     |
//	| PartReasoning                                   | a thought: true text part                                 |
//	| PartRedactedReasoning                           | loss                                                      |
//	| PartRefusal                                     | a text part: loss                                         |
//	| Part.Cache                                      | loss (Gemini caches implicitly, or by cachedContent)      |
//	| Media.Data                                      | inlineData; no MediaType: sniffed from the bytes          |
//	| data: URLs                                      | inlineData                                                |
//	| other URLs (file URIs, gs://, http(s))          | fileData, mimeType from MediaType or the URL's extension: |
//	|                                                 | an http(s) URL is fetched by Gemini, which some models do |
//	|                                                 | not allow (they answer INVALID_ARGUMENT)                  |
//	| Media.Detail, Media.Name                        | loss                                                      |
//	| Tools                                           | one functionDeclarations tool, Parameters as              |
//	|                                                 | parametersJsonSchema (a decoded parameters schema is sent |
//	|                                                 | back under that name); Strict: loss                       |
//	| ToolChoice auto / none / required / named       | AUTO / NONE / ANY / ANY with allowedFunctionNames [name]  |
//	| ParallelToolCalls, User                         | loss                                                      |
//	| MaxTokens, Temperature, TopP, TopK, Stop, Seed, | generationConfig fields of the same meaning               |
//	| penalties, N > 1                                |                                                           |
//	| ResponseFormat text / json_object / json_schema | responseMimeType text/plain / application/json /          |
//	|                                                 | application/json with responseJsonSchema; schema Name,    |
//	|                                                 | Description, Strict: loss                                 |
//	| Reasoning.BudgetTokens / Disabled /             | thinkingBudget N / 0 / includeThoughts                    |
//	| IncludeThoughts                                 |                                                           |
//	| Reasoning.Effort from gemini                    | thinkingLevel, as it came                                 |
//	| Reasoning.Effort from another format            | thinkingBudget: minimal 512, low 1024, medium 8192, high  |
//	|                                                 | 24576: loss; an unknown effort: ErrInvalidRequest; with   |
//	|                                                 | BudgetTokens, the budget is sent: loss                    |
//	| StreamUsage                                     | nothing (Gemini always reports usage)                     |
//	| Extra of another format                         | loss, one per field                                       |
//	| FinishStop, FinishToolCalls / FinishLength /    | STOP / MAX_TOKENS / SAFETY; a Gemini RawFinishReason of   |
//	| FinishContentFilter / FinishOther               | the same meaning is kept / OTHER                          |
//	| FinishRefusal / FinishPause / FinishError       | SAFETY / STOP / OTHER: loss                               |
//	| Usage                                           | promptTokenCount InputTokens, candidatesTokenCount        |
//	|                                                 | OutputTokens less ReasoningTokens, thoughtsTokenCount,    |
//	|                                                 | cachedContentTokenCount, totalTokenCount; the             |
//	|                                                 | toolUsePromptTokenCount split is not kept;                |
//	|                                                 | CacheWriteTokens: loss                                    |
//	| stream tool-call argument deltas                | gathered by part Index into one functionCall chunk, at    |
//	|                                                 | the part's end when the arguments are a whole JSON object |
//	|                                                 | (calls may interleave), else by Close                     |
//	| stream EventFinish and EventUsage               | one last chunk, written by Close                          |
//	| stream EventError, Close(err)                   | an {"error": {code, message, status}} chunk               |
//	| Error status Gemini does not use (529, 413)     | the status of the kind's Gemini word (503, 400), as for   |
//	|                                                 | EncodeError                                               |
//	| stream EventPing                                | an SSE comment                                            |
//
// # Performance
//
// A [StreamEncoder] writes a text delta without allocating (it appends the
// JSON by hand into one buffer), and a [UsageScanner] reads the
// usageMetadata of a passed-through chunk without allocating and without
// decoding its content. Requests, responses and stream chunks are decoded
// with encoding/json. On the development machine (2 cores, shared; go test
// -bench . ./llm/gemini): DecodeRequest of a five-turn request with a tool
// 31 µs and 144 allocations before the snake_case rewrite; its tool
// response holds a key "rain_days", so the rewrite now walks that content
// and it takes 83 µs (machine noisy) and 226 (a request with no
// snake_case key anywhere is not walked), EncodeRequest 8 µs and 42, a stream chunk
// decoded 3.1 µs and 20, a text delta encoded 86 ns and 0, a chunk's usage
// scanned 360 ns and 0.
//
// # Security
//
// The API key is sent only as x-goog-api-key, never in the URL, and never
// appears in errors; Config.Header may not set it. Redirects are not
// followed (Go would copy the header to the new location, another host's
// included): a 3xx answer is an error. The model's name goes in the URL
// path segment by segment escaped: a bare id stays inside models/ ("a/b"
// is models/a%2Fb), models/{id} and tunedModels/{id} name their own
// collection, and "." or ".." is refused. The usage of a passed-through
// response is read only from its top-level usageMetadata, so a function
// call's args (the model's output) cannot forge it. Response bodies are
// read with a bound (32 MiB, also for one stream event), a stream chunk
// is read only up to 1000 parts and empty text parts give no event (so a
// chunk cannot multiply into far more memory than its size), and error
// messages of non-JSON bodies are cut to 512 bytes at a character's
// start.
package gemini
