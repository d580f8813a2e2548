package ingress_test

// The official OpenAI Go client against the gateway, for each upstream
// format: openai (passed through), anthropic and gemini (translated).

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
)

func (e *env) openaiClient() openai.Client {
	return openai.NewClient(
		option.WithBaseURL(e.gw.URL+"/v1"),
		option.WithAPIKey(clientKey),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(5*time.Second),
	)
}

func openaiParams(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:               model,
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.UserMessage(promptText)},
		MaxCompletionTokens: openai.Int(100),
	}
}

var openaiWeatherTool = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:        toolName,
	Description: openai.String("The weather in a city."),
	Parameters: openai.FunctionParameters{
		"type":       "object",
		"properties": map[string]any{"city": map[string]any{"type": "string"}},
		"required":   []string{"city"},
	},
})

// checkOpenAIUsage asserts the usage an OpenAI client sees of a fake's.
func checkOpenAIUsage(t *testing.T, tg target, got openai.CompletionUsage) {
	t.Helper()
	if got.PromptTokens != tg.usage.prompt || got.CompletionTokens != tg.usage.output ||
		got.TotalTokens != tg.usage.prompt+tg.usage.output {
		t.Errorf("usage = prompt %d, completion %d, total %d; want %d, %d, %d",
			got.PromptTokens, got.CompletionTokens, got.TotalTokens, tg.usage.prompt, tg.usage.output, tg.usage.prompt+tg.usage.output)
	}
	if got.PromptTokensDetails.CachedTokens != tg.usage.cached {
		t.Errorf("usage.prompt_tokens_details.cached_tokens = %d; want %d", got.PromptTokensDetails.CachedTokens, tg.usage.cached)
	}
}

func TestOpenAISDKChat(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.openaiClient()
			res, err := c.Chat.Completions.New(t.Context(), openaiParams(tg.model))
			if err != nil {
				t.Fatalf("Chat.Completions.New: %v", err)
			}
			if len(res.Choices) != 1 {
				t.Fatalf("%d choices; want 1", len(res.Choices))
			}
			ch := res.Choices[0]
			if got, want := ch.Message.Content, replyText(tg.name); got != want {
				t.Errorf("content = %q; want %q", got, want)
			}
			if ch.FinishReason != "stop" {
				t.Errorf("finish_reason = %q; want stop", ch.FinishReason)
			}
			if tg.name != "openai" && res.Model != tg.model {
				// A passed-through answer keeps the upstream's model.
				t.Errorf("model = %q; want %q, the name the client asked for", res.Model, tg.model)
			}
			checkOpenAIUsage(t, tg, res.Usage)
			checkUpstream(t, tg, tg.up(e).last(), false)
		})
	}
}

func TestOpenAISDKStream(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.openaiClient()
			p := openaiParams(tg.model)
			p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			st := c.Chat.Completions.NewStreaming(t.Context(), p)
			defer st.Close()
			var acc openai.ChatCompletionAccumulator
			chunks := 0
			for st.Next() {
				chunks++
				if !acc.AddChunk(st.Current()) {
					t.Fatalf("the accumulator refused chunk %d: %s", chunks, st.Current().RawJSON())
				}
			}
			if err := st.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if len(acc.Choices) != 1 {
				t.Fatalf("%d choices accumulated; want 1", len(acc.Choices))
			}
			if got, want := acc.Choices[0].Message.Content, replyText(tg.name); got != want {
				t.Errorf("accumulated content = %q; want %q", got, want)
			}
			if acc.Choices[0].FinishReason != "stop" {
				t.Errorf("finish_reason = %q; want stop", acc.Choices[0].FinishReason)
			}
			if chunks < len(pieces(tg.name)) {
				t.Errorf("%d chunks; want at least one per piece (%d)", chunks, len(pieces(tg.name)))
			}
			checkOpenAIUsage(t, tg, acc.Usage)
			rec := tg.up(e).last()
			checkUpstream(t, tg, rec, true)
			if tg.name == "openai" {
				so, _ := rec.Body["stream_options"].(map[string]any)
				if so["include_usage"] != true {
					t.Errorf("openai upstream stream_options = %v; want include_usage true", rec.Body["stream_options"])
				}
			}
		})
	}
}

func TestOpenAISDKTools(t *testing.T) {
	for _, tg := range targets {
		for _, stream := range []bool{false, true} {
			name := tg.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				c := e.openaiClient()
				p := openaiParams(tg.model)
				p.Tools = []openai.ChatCompletionToolUnionParam{openaiWeatherTool}
				var msg openai.ChatCompletionMessage
				var finish string
				if stream {
					st := c.Chat.Completions.NewStreaming(t.Context(), p)
					var acc openai.ChatCompletionAccumulator
					finished := 0
					for st.Next() {
						acc.AddChunk(st.Current())
						if tc, ok := acc.JustFinishedToolCall(); ok {
							finished++
							if tc.Name != toolName || !jsonEqual(tc.Arguments, toolArgs) {
								t.Errorf("JustFinishedToolCall = %s(%s); want %s(%s)", tc.Name, tc.Arguments, toolName, toolArgs)
							}
						}
					}
					if err := st.Err(); err != nil {
						t.Fatalf("stream: %v", err)
					}
					st.Close()
					if finished != 1 {
						t.Errorf("the accumulator finished %d tool calls; want 1", finished)
					}
					if len(acc.Choices) != 1 {
						t.Fatalf("%d choices accumulated; want 1", len(acc.Choices))
					}
					msg, finish = acc.Choices[0].Message, acc.Choices[0].FinishReason
				} else {
					res, err := c.Chat.Completions.New(t.Context(), p)
					if err != nil {
						t.Fatalf("Chat.Completions.New: %v", err)
					}
					msg, finish = res.Choices[0].Message, res.Choices[0].FinishReason
				}
				if finish != "tool_calls" {
					t.Errorf("finish_reason = %q; want tool_calls", finish)
				}
				if len(msg.ToolCalls) != 1 {
					t.Fatalf("%d tool calls; want 1: %s", len(msg.ToolCalls), msg.RawJSON())
				}
				tc := msg.ToolCalls[0]
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name != toolName || !jsonEqual(tc.Function.Arguments, toolArgs) {
					t.Errorf("tool call = id %q type %q %s(%s); want an id, function %s(%s)",
						tc.ID, tc.Type, tc.Function.Name, tc.Function.Arguments, toolName, toolArgs)
				}
				switch tg.name {
				case "openai":
					if tc.ID != openaiCall {
						t.Errorf("tool call id = %q; want the upstream's %q", tc.ID, openaiCall)
					}
				case "anthropic":
					if tc.ID != anthropCall {
						t.Errorf("tool call id = %q; want the upstream's %q", tc.ID, anthropCall)
					}
				}
				checkUpstream(t, tg, tg.up(e).last(), stream)
				checkOpenAITools(t, tg, tg.up(e).last())

				// The second turn: the call and its result.
				p.Messages = append(p.Messages, msg.ToParam(), openai.ToolMessage(toolResult, tc.ID))
				if stream {
					st := c.Chat.Completions.NewStreaming(t.Context(), p)
					var acc openai.ChatCompletionAccumulator
					for st.Next() {
						acc.AddChunk(st.Current())
					}
					if err := st.Err(); err != nil {
						t.Fatalf("second turn: %v", err)
					}
					st.Close()
					if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != afterTool {
						t.Errorf("second turn content = %s; want %q", acc.RawJSON(), afterTool)
					}
				} else {
					res, err := c.Chat.Completions.New(t.Context(), p)
					if err != nil {
						t.Fatalf("second turn: %v", err)
					}
					if got := res.Choices[0].Message.Content; got != afterTool {
						t.Errorf("second turn content = %q; want %q", got, afterTool)
					}
				}
				checkToolResult(t, tg, tg.up(e).last())
			})
		}
	}
}

// checkOpenAITools asserts that the tool an OpenAI client sent reached
// the upstream in its format.
func checkOpenAITools(t *testing.T, tg target, rec received) {
	t.Helper()
	tools, _ := rec.Body["tools"].([]any)
	if len(tools) != 1 {
		t.Fatalf("%s upstream: %d tools; want 1: %s", tg.name, len(tools), rec.Raw)
	}
	tool, _ := tools[0].(map[string]any)
	var name string
	var schema any
	switch tg.name {
	case "openai":
		fn, _ := tool["function"].(map[string]any)
		name, schema = fn["name"].(string), fn["parameters"]
	case "anthropic":
		name, schema = tool["name"].(string), tool["input_schema"]
	case "gemini":
		decls, _ := tool["functionDeclarations"].([]any)
		if len(decls) != 1 {
			t.Fatalf("gemini upstream: tools %s; want one functionDeclaration", mustJSON(tools))
		}
		d, _ := decls[0].(map[string]any)
		name, schema = d["name"].(string), d["parametersJsonSchema"]
		if schema == nil {
			schema = d["parameters"]
		}
	}
	if name != toolName {
		t.Errorf("%s upstream: tool name = %q; want %q", tg.name, name, toolName)
	}
	if !jsonEqual(schema, `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`) {
		t.Errorf("%s upstream: tool schema = %s; want the client's", tg.name, mustJSON(schema))
	}
}

// openaiError returns err as the OpenAI client's error type.
func openaiError(t *testing.T, err error) *openai.Error {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %T %v; want an *openai.Error", err, err)
	}
	return apiErr
}

func TestOpenAISDKErrors(t *testing.T) {
	type want struct {
		status     int
		typ        string // error.type
		retryAfter string
	}
	cases := []struct {
		name string
		fail func(*upstream)
		want map[string]want // by target; "" for all
	}{
		{"rate limit", failRateLimit, map[string]want{
			"openai": {429, "requests", "7"}, // passed through as it came
			"":       {429, "rate_limit_error", "7"},
		}},
		// The provider refused the gateway's key, not the client's: a
		// fault of the gateway (502), and the provider's message, which
		// may quote the key, is not shown.
		{"auth", failAuth, map[string]want{"": {502, "server_error", ""}}},
		{"server", failServer, map[string]want{"": {500, "server_error", ""}}},
		{"overloaded", failOverloaded, map[string]want{"": {503, "service_unavailable", ""}, "openai": {503, "server_error", ""}}},
	}
	for _, tg := range targets {
		for _, tc := range cases {
			for _, stream := range []bool{false, true} {
				name := tg.name + "/" + tc.name
				if stream {
					name += "/stream"
				}
				t.Run(name, func(t *testing.T) {
					w, ok := tc.want[tg.name]
					if !ok {
						w = tc.want[""]
					}
					e := newEnv(t)
					tc.fail(tg.up(e))
					c := e.openaiClient()
					var err error
					if stream {
						st := c.Chat.Completions.NewStreaming(t.Context(), openaiParams(tg.model))
						for st.Next() {
							t.Errorf("a chunk of a failed stream: %s", st.Current().RawJSON())
						}
						err = st.Err()
						st.Close()
					} else {
						_, err = c.Chat.Completions.New(t.Context(), openaiParams(tg.model))
					}
					apiErr := openaiError(t, err)
					if apiErr.StatusCode != w.status {
						t.Errorf("StatusCode = %d; want %d (%v)", apiErr.StatusCode, w.status, apiErr)
					}
					if apiErr.Type != w.typ {
						t.Errorf("error type = %q; want %q (%s)", apiErr.Type, w.typ, apiErr.RawJSON())
					}
					if apiErr.Message == "" {
						t.Errorf("error message empty: %s", apiErr.RawJSON())
					}
					if raw := apiErr.RawJSON(); strings.Contains(raw, openaiKey) || strings.Contains(raw, "invalid x-api-key") {
						t.Errorf("the error shows the provider's refusal of the gateway's key: %s", raw)
					}
					if got := apiErr.Response.Header.Get("Retry-After"); got != w.retryAfter {
						t.Errorf("Retry-After = %q; want %q", got, w.retryAfter)
					}
					if n := len(tg.up(e).requests()); n != 1 {
						t.Errorf("the upstream received %d requests; want 1 (no retries)", n)
					}
				})
			}
		}
	}
}

func TestOpenAISDKUnknownModel(t *testing.T) {
	e := newEnv(t)
	c := e.openaiClient()
	_, err := c.Chat.Completions.New(t.Context(), openaiParams("no-such-model"))
	apiErr := openaiError(t, err)
	if apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" || apiErr.Type != "not_found_error" || apiErr.Param != "model" {
		t.Errorf("error = %d type %q code %q param %q; want 404 not_found_error model_not_found model",
			apiErr.StatusCode, apiErr.Type, apiErr.Code, apiErr.Param)
	}
	_, err = c.Models.Get(t.Context(), "no-such-model")
	if apiErr := openaiError(t, err); apiErr.StatusCode != http.StatusNotFound {
		t.Errorf("Models.Get: status %d; want 404", apiErr.StatusCode)
	}
	_, err = c.Embeddings.New(t.Context(), openai.EmbeddingNewParams{
		Model: "no-such-model", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")},
	})
	if apiErr := openaiError(t, err); apiErr.StatusCode != http.StatusNotFound {
		t.Errorf("Embeddings.New: status %d; want 404", apiErr.StatusCode)
	}
	for _, u := range []*upstream{e.openai, e.anthropic, e.gemini} {
		if n := len(u.requests()); n != 0 {
			t.Errorf("%s upstream received %d requests; want none", u.name, n)
		}
	}
}

// allRoutes are the models the gateway of newEnv routes, in order.
var allRoutes = []string{routeOpenAI, routeAnthrop, routeGemini, routeEcho, routeOAEmbed, routeGemEmbed}

func TestOpenAISDKModels(t *testing.T) {
	e := newEnv(t)
	c := e.openaiClient()
	page, err := c.Models.List(t.Context())
	if err != nil {
		t.Fatalf("Models.List: %v", err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
		if m.Object != "model" || m.OwnedBy == "" || m.Created == 0 {
			t.Errorf("model %s = object %q owned_by %q created %d; want model, an owner, a time", m.ID, m.Object, m.OwnedBy, m.Created)
		}
	}
	if !slices.Equal(ids, allRoutes) {
		t.Fatalf("Models.List = %v; want %v", ids, allRoutes)
	}
	for _, id := range ids {
		m, err := c.Models.Get(t.Context(), id)
		if err != nil || m.ID != id {
			t.Errorf("Models.Get(%q) = %v, %v; want the model", id, m, err)
		}
		res, err := c.Chat.Completions.New(t.Context(), openaiParams(id))
		if err != nil {
			t.Errorf("chat with listed model %q: %v", id, err)
			continue
		}
		if len(res.Choices) != 1 || res.Choices[0].Message.Content == "" {
			t.Errorf("chat with listed model %q: %s; want a text answer", id, res.RawJSON())
		}
	}
	// Both embedding routes went upstream under their own names.
	if got := e.openai.last().Body["model"]; got != openaiEmbed {
		t.Errorf("openai upstream got model %v for %s; want %q", got, routeOAEmbed, openaiEmbed)
	}
	if got := e.gemini.last().Path; got != "/v1beta/models/"+geminiEmbed+":generateContent" {
		t.Errorf("gemini upstream path for %s = %q", routeGemEmbed, got)
	}
}

func TestOpenAISDKEmbeddings(t *testing.T) {
	inputs := []string{"alpha", "be"}
	for _, up := range []struct {
		name, model string
		usage       int64
	}{{"openai", routeOAEmbed, 5}, {"gemini", routeGemEmbed, 0}} {
		for _, enc := range []openai.EmbeddingNewParamsEncodingFormat{"", openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
			name := up.name + "/" + string(enc)
			if enc == "" {
				name += "default"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				c := e.openaiClient()
				res, err := c.Embeddings.New(t.Context(), openai.EmbeddingNewParams{
					Model:          up.model,
					Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs},
					EncodingFormat: enc,
				})
				if err != nil {
					t.Fatalf("Embeddings.New: %v", err)
				}
				if len(res.Data) != len(inputs) {
					t.Fatalf("%d embeddings; want %d", len(res.Data), len(inputs))
				}
				for i, d := range res.Data {
					want := embedVector(inputs[i])
					got := make([]float32, len(d.Embedding))
					for k, f := range d.Embedding {
						got[k] = float32(f)
					}
					if d.Index != int64(i) || !slices.Equal(got, want) {
						t.Errorf("embedding %d = index %d %v; want %v", i, d.Index, got, want)
					}
				}
				if res.Usage.PromptTokens != up.usage {
					t.Errorf("usage.prompt_tokens = %d; want %d", res.Usage.PromptTokens, up.usage)
				}
				switch up.name {
				case "openai":
					rec := e.openai.last()
					if rec.Path != "/v1/embeddings" || rec.Body["model"] != openaiEmbed || rec.Header.Get("Authorization") != "Bearer "+openaiKey {
						t.Errorf("openai upstream got %s %v with %q", rec.Path, rec.Body["model"], rec.Header.Get("Authorization"))
					}
					if enc != "" && rec.Body["encoding_format"] != string(enc) {
						t.Errorf("openai upstream encoding_format = %v; want %q", rec.Body["encoding_format"], enc)
					}
				case "gemini":
					rec := e.gemini.last()
					if rec.Path != "/v1beta/models/"+geminiEmbed+":batchEmbedContents" || rec.Header.Get("X-Goog-Api-Key") != geminiKey {
						t.Errorf("gemini upstream got %s with key %q", rec.Path, rec.Header.Get("X-Goog-Api-Key"))
					}
					if reqs, _ := rec.Body["requests"].([]any); len(reqs) != len(inputs) {
						t.Errorf("gemini upstream: %d requests; want %d", len(reqs), len(inputs))
					}
				}
			})
		}
	}
	t.Run("anthropic has none", func(t *testing.T) {
		e := newEnv(t)
		c := e.openaiClient()
		_, err := c.Embeddings.New(t.Context(), openai.EmbeddingNewParams{
			Model: routeAnthrop, Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")},
		})
		if apiErr := openaiError(t, err); apiErr.StatusCode != http.StatusBadRequest || apiErr.Param != "model" {
			t.Errorf("error = %d param %q; want 400 param model", apiErr.StatusCode, apiErr.Param)
		}
	})
}

// TestOpenAISDKStreamCancel checks that a client that goes away in the
// middle of a stream ends the upstream's call, passed through or
// translated.
func TestOpenAISDKStreamCancel(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t)
			up := tg.up(e)
			up.hangStreams()
			c := e.openaiClient()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			st := c.Chat.Completions.NewStreaming(ctx, openaiParams(tg.model))
			defer st.Close()
			if !st.Next() {
				t.Fatalf("no first chunk: %v", st.Err())
			}
			cancel()
			select {
			case <-up.gone:
			case <-time.After(5 * time.Second):
				t.Fatal("the upstream's request did not end within 5 s of the client going away")
			}
		})
	}
}

// TestOpenAISDKStreamError checks that an upstream that fails in the
// middle of a stream (overloaded) ends the client's stream with an error,
// after the text that came before it.
func TestOpenAISDKStreamError(t *testing.T) {
	wantType := map[string]string{"openai": "server_error", "anthropic": "service_unavailable", "gemini": "service_unavailable"}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t)
			tg.up(e).errorMidStream()
			c := e.openaiClient()
			st := c.Chat.Completions.NewStreaming(t.Context(), openaiParams(tg.model))
			defer st.Close()
			var acc openai.ChatCompletionAccumulator
			for st.Next() {
				acc.AddChunk(st.Current())
			}
			var se *ssestream.StreamError
			if err := st.Err(); !errors.As(err, &se) {
				t.Fatalf("stream error = %T %v; want an *ssestream.StreamError", err, err)
			}
			var body struct {
				Error struct{ Type, Message string }
			}
			if err := json.Unmarshal(se.Event.Data, &body); err != nil || body.Error.Type != wantType[tg.name] || body.Error.Message == "" {
				t.Errorf("error event = %s; want error.type %q and a message", se.Event.Data, wantType[tg.name])
			}
			if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != "Hello" {
				t.Errorf("text before the error = %s; want %q", acc.RawJSON(), "Hello")
			}
		})
	}
}
