package ingress_test

// The official Anthropic Go client against the gateway, for each upstream
// format: anthropic (passed through), openai and gemini (translated).

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

func (e *env) anthropicClient() anthropic.Client {
	return anthropic.NewClient(
		option.WithBaseURL(e.gw.URL),
		option.WithAPIKey(clientKey),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(5*time.Second),
	)
}

func anthropicParams(model string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     anthropic.Model(model),
		MaxTokens: 100,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(promptText))},
	}
}

var anthropicWeatherTool = anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
	Name:        toolName,
	Description: anthropic.String("The weather in a city."),
	InputSchema: anthropic.ToolInputSchemaParam{
		Properties: map[string]any{"city": map[string]any{"type": "string"}},
		Required:   []string{"city"},
	},
}}

// checkAnthropicUsage asserts the usage an Anthropic client sees of a
// fake's: input_tokens without the cached ones.
func checkAnthropicUsage(t *testing.T, tg target, got anthropic.Usage) {
	t.Helper()
	if got.InputTokens != tg.usage.prompt-tg.usage.cached || got.CacheReadInputTokens != tg.usage.cached || got.OutputTokens != tg.usage.output {
		t.Errorf("usage = input %d, cache_read %d, output %d; want %d, %d, %d",
			got.InputTokens, got.CacheReadInputTokens, got.OutputTokens, tg.usage.prompt-tg.usage.cached, tg.usage.cached, tg.usage.output)
	}
}

// anthropicTargets are the targets in the order of this file: its own
// format first.
var anthropicTargets = []target{targets[1], targets[0], targets[2]}

// messageText returns the text of a message's text blocks.
func messageText(m *anthropic.Message) string {
	s := ""
	for _, b := range m.Content {
		if b.Type == "text" {
			s += b.Text
		}
	}
	return s
}

func TestAnthropicSDKChat(t *testing.T) {
	for _, tg := range anthropicTargets {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.anthropicClient()
			msg, err := c.Messages.New(t.Context(), anthropicParams(tg.model))
			if err != nil {
				t.Fatalf("Messages.New: %v", err)
			}
			if got, want := messageText(msg), replyText(tg.name); got != want {
				t.Errorf("text = %q; want %q", got, want)
			}
			if msg.StopReason != anthropic.StopReasonEndTurn {
				t.Errorf("stop_reason = %q; want end_turn", msg.StopReason)
			}
			if msg.Role != "assistant" || msg.ID == "" {
				t.Errorf("role %q id %q; want assistant and an id", msg.Role, msg.ID)
			}
			if tg.name != "anthropic" && string(msg.Model) != tg.model {
				t.Errorf("model = %q; want %q, the name the client asked for", msg.Model, tg.model)
			}
			checkAnthropicUsage(t, tg, msg.Usage)
			checkUpstream(t, tg, tg.up(e).last(), false)
		})
	}
}

func TestAnthropicSDKStream(t *testing.T) {
	for _, tg := range anthropicTargets {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.anthropicClient()
			st := c.Messages.NewStreaming(t.Context(), anthropicParams(tg.model))
			defer st.Close()
			var msg anthropic.Message
			var types []string
			for st.Next() {
				ev := st.Current()
				types = append(types, ev.Type)
				if err := msg.Accumulate(ev); err != nil {
					t.Fatalf("Accumulate(%s): %v", ev.RawJSON(), err)
				}
			}
			if err := st.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if got, want := messageText(&msg), replyText(tg.name); got != want {
				t.Errorf("accumulated text = %q; want %q", got, want)
			}
			if msg.StopReason != anthropic.StopReasonEndTurn {
				t.Errorf("stop_reason = %q; want end_turn", msg.StopReason)
			}
			if len(types) < 2 || types[0] != "message_start" || types[len(types)-1] != "message_stop" {
				t.Errorf("event types = %v; want message_start first and message_stop last", types)
			}
			checkAnthropicUsage(t, tg, msg.Usage)
			checkUpstream(t, tg, tg.up(e).last(), true)
			if tg.name == "openai" {
				// The usage comes to an OpenAI stream only when asked for.
				so, _ := tg.up(e).last().Body["stream_options"].(map[string]any)
				if so["include_usage"] != true {
					t.Errorf("openai upstream stream_options = %v; want include_usage true", tg.up(e).last().Body["stream_options"])
				}
			}
		})
	}
}

func TestAnthropicSDKTools(t *testing.T) {
	for _, tg := range anthropicTargets {
		for _, stream := range []bool{false, true} {
			name := tg.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				c := e.anthropicClient()
				p := anthropicParams(tg.model)
				p.Tools = []anthropic.ToolUnionParam{anthropicWeatherTool}
				var msg anthropic.Message
				if stream {
					st := c.Messages.NewStreaming(t.Context(), p)
					deltas := 0
					for st.Next() {
						ev := st.Current()
						if ev.Type == "content_block_delta" && ev.Delta.Type == "input_json_delta" {
							deltas++
						}
						if err := msg.Accumulate(ev); err != nil {
							t.Fatalf("Accumulate(%s): %v", ev.RawJSON(), err)
						}
					}
					if err := st.Err(); err != nil {
						t.Fatalf("stream: %v", err)
					}
					st.Close()
					if deltas == 0 {
						t.Error("no input_json_delta events")
					}
				} else {
					m, err := c.Messages.New(t.Context(), p)
					if err != nil {
						t.Fatalf("Messages.New: %v", err)
					}
					msg = *m
				}
				if msg.StopReason != anthropic.StopReasonToolUse {
					t.Errorf("stop_reason = %q; want tool_use", msg.StopReason)
				}
				var uses []anthropic.ContentBlockUnion
				for _, b := range msg.Content {
					if b.Type == "tool_use" {
						uses = append(uses, b)
					}
				}
				if len(uses) != 1 {
					t.Fatalf("%d tool_use blocks; want 1: %s", len(uses), msg.RawJSON())
				}
				tu := uses[0]
				if tu.ID == "" || tu.Name != toolName || !jsonEqual(string(tu.Input), toolArgs) {
					t.Errorf("tool_use = id %q %s(%s); want an id, %s(%s)", tu.ID, tu.Name, tu.Input, toolName, toolArgs)
				}
				switch tg.name {
				case "openai":
					if tu.ID != openaiCall {
						t.Errorf("tool_use id = %q; want the upstream's %q", tu.ID, openaiCall)
					}
				case "anthropic":
					if tu.ID != anthropCall {
						t.Errorf("tool_use id = %q; want the upstream's %q", tu.ID, anthropCall)
					}
				}
				checkUpstream(t, tg, tg.up(e).last(), stream)
				checkOpenAITools(t, tg, tg.up(e).last())

				// The second turn: the call and its result.
				p.Messages = append(p.Messages, msg.ToParam(),
					anthropic.NewUserMessage(anthropic.NewToolResultBlock(tu.ID, toolResult, false)))
				var second anthropic.Message
				if stream {
					st := c.Messages.NewStreaming(t.Context(), p)
					for st.Next() {
						if err := second.Accumulate(st.Current()); err != nil {
							t.Fatalf("Accumulate: %v", err)
						}
					}
					if err := st.Err(); err != nil {
						t.Fatalf("second turn: %v", err)
					}
					st.Close()
				} else {
					m, err := c.Messages.New(t.Context(), p)
					if err != nil {
						t.Fatalf("second turn: %v", err)
					}
					second = *m
				}
				if got := messageText(&second); got != afterTool {
					t.Errorf("second turn text = %q; want %q", got, afterTool)
				}
				checkToolResult(t, tg, tg.up(e).last())
			})
		}
	}
}

// anthropicError returns err as the Anthropic client's error type.
func anthropicError(t *testing.T, err error) *anthropic.Error {
	t.Helper()
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %T %v; want an *anthropic.Error", err, err)
	}
	return apiErr
}

func TestAnthropicSDKErrors(t *testing.T) {
	type want struct {
		status     int
		typ        string
		retryAfter string
	}
	cases := []struct {
		name string
		fail func(*upstream)
		want map[string]want // by target; "" for all
	}{
		{"rate limit", failRateLimit, map[string]want{"": {429, "rate_limit_error", "7"}}},
		// The provider refused the gateway's key, not the client's: a
		// fault of the gateway (502), and the provider's message, which
		// may quote the key, is not shown.
		{"auth", failAuth, map[string]want{"": {502, "api_error", ""}}},
		{"server", failServer, map[string]want{"": {500, "api_error", ""}}},
		{"overloaded", failOverloaded, map[string]want{"anthropic": {529, "overloaded_error", ""}, "": {503, "overloaded_error", ""}}},
	}
	for _, tg := range anthropicTargets {
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
					c := e.anthropicClient()
					var err error
					if stream {
						st := c.Messages.NewStreaming(t.Context(), anthropicParams(tg.model))
						for st.Next() {
							t.Errorf("an event of a failed stream: %s", st.Current().RawJSON())
						}
						err = st.Err()
						st.Close()
					} else {
						_, err = c.Messages.New(t.Context(), anthropicParams(tg.model))
					}
					apiErr := anthropicError(t, err)
					if apiErr.StatusCode != w.status {
						t.Errorf("StatusCode = %d; want %d (%v)", apiErr.StatusCode, w.status, apiErr)
					}
					if string(apiErr.Type()) != w.typ {
						t.Errorf("Type() = %q; want %q (%s)", apiErr.Type(), w.typ, apiErr.RawJSON())
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

func TestAnthropicSDKUnknownModel(t *testing.T) {
	e := newEnv(t)
	c := e.anthropicClient()
	_, err := c.Messages.New(t.Context(), anthropicParams("no-such-model"))
	apiErr := anthropicError(t, err)
	if apiErr.StatusCode != http.StatusNotFound || apiErr.Type() != "not_found_error" {
		t.Errorf("error = %d %q; want 404 not_found_error (%s)", apiErr.StatusCode, apiErr.Type(), apiErr.RawJSON())
	}
	_, err = c.Models.Get(t.Context(), "no-such-model", anthropic.ModelGetParams{})
	if apiErr := anthropicError(t, err); apiErr.StatusCode != http.StatusNotFound || apiErr.Type() != "not_found_error" {
		t.Errorf("Models.Get: %d %q; want 404 not_found_error", apiErr.StatusCode, apiErr.Type())
	}
	for _, u := range []*upstream{e.openai, e.anthropic, e.gemini} {
		if n := len(u.requests()); n != 0 {
			t.Errorf("%s upstream received %d requests; want none", u.name, n)
		}
	}
}

// TestAnthropicSDKModels checks that the Anthropic client lists the same
// models as the OpenAI client, and that each works from it.
func TestAnthropicSDKModels(t *testing.T) {
	e := newEnv(t)
	c := e.anthropicClient()
	page, err := c.Models.List(t.Context(), anthropic.ModelListParams{})
	if err != nil {
		t.Fatalf("Models.List: %v", err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
		if m.Type != "model" || m.DisplayName == "" || m.CreatedAt.IsZero() {
			t.Errorf("model %s = type %q display_name %q created_at %v", m.ID, m.Type, m.DisplayName, m.CreatedAt)
		}
	}
	if !slices.Equal(ids, allRoutes) {
		t.Fatalf("Models.List = %v; want %v", ids, allRoutes)
	}
	for _, id := range ids {
		m, err := c.Models.Get(t.Context(), id, anthropic.ModelGetParams{})
		if err != nil || m.ID != id {
			t.Errorf("Models.Get(%q) = %v, %v; want the model", id, m, err)
		}
		msg, err := c.Messages.New(t.Context(), anthropicParams(id))
		if err != nil {
			t.Errorf("message with listed model %q: %v", id, err)
			continue
		}
		if messageText(msg) == "" {
			t.Errorf("message with listed model %q: %s; want a text answer", id, msg.RawJSON())
		}
	}
}

// TestAnthropicSDKStreamCancel checks that a client that goes away in the
// middle of a stream ends the upstream's call, passed through or
// translated.
func TestAnthropicSDKStreamCancel(t *testing.T) {
	for _, tg := range anthropicTargets {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t)
			up := tg.up(e)
			up.hangStreams()
			c := e.anthropicClient()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			st := c.Messages.NewStreaming(ctx, anthropicParams(tg.model))
			defer st.Close()
			if !st.Next() {
				t.Fatalf("no first event: %v", st.Err())
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

// TestAnthropicSDKStreamError checks that an upstream that fails in the
// middle of a stream (overloaded) ends the client's stream with its error
// type, after the text that came before it.
func TestAnthropicSDKStreamError(t *testing.T) {
	wantType := map[string]string{"anthropic": "overloaded_error", "openai": "api_error", "gemini": "overloaded_error"}
	for _, tg := range anthropicTargets {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t)
			tg.up(e).errorMidStream()
			c := e.anthropicClient()
			st := c.Messages.NewStreaming(t.Context(), anthropicParams(tg.model))
			defer st.Close()
			var msg anthropic.Message
			for st.Next() {
				if err := msg.Accumulate(st.Current()); err != nil {
					t.Fatalf("Accumulate: %v", err)
				}
			}
			err := st.Err()
			if err == nil {
				t.Fatal("stream error = nil; want the upstream's")
			}
			if apiErr := anthropicError(t, err); string(apiErr.Type()) != wantType[tg.name] {
				t.Errorf("Type() = %q; want %q (%v)", apiErr.Type(), wantType[tg.name], apiErr)
			}
			if got := messageText(&msg); got != "Hello" {
				t.Errorf("text before the error = %q; want %q", got, "Hello")
			}
		})
	}
}
