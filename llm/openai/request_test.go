package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

func TestDecodeRequestGolden(t *testing.T) {
	req, err := openai.DecodeRequest(readFile(t, "request_chat.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Request{
		Model: "gpt-4o-mini",
		Messages: []llm.Message{
			{Role: llm.RoleDeveloper, Parts: []llm.Part{{Type: llm.PartText, Text: "You answer in French."}}},
			{Role: llm.RoleUser, Name: "ana", Parts: []llm.Part{{Type: llm.PartText, Text: "What is the capital of Peru?"}}},
		},
		MaxTokens: 256, Temperature: ptr(0.2), TopP: ptr(0.9), PresencePenalty: ptr(0.5), FrequencyPenalty: ptr(-0.5),
		Stop: []string{"\n\n", "END"}, Seed: ptr(int64(42)), N: 2, ParallelToolCalls: ptr(false),
		ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "answer", Description: "One city",
			Schema: json.RawMessage(`{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}`), Strict: ptr(true)},
		Reasoning: &llm.Reasoning{Effort: "low"}, User: "user-1234", Stream: true, StreamUsage: true,
		ExtraFormat: llm.FormatOpenAI,
	}
	extra := req.Extra
	req.Extra = nil
	if !reflect.DeepEqual(req, want) {
		t.Errorf("DecodeRequest = %+v;\nwant %+v", req, want)
	}
	var keys []string
	for k := range extra {
		keys = append(keys, k)
	}
	for _, k := range []string{"logit_bias", "logprobs", "top_logprobs", "metadata", "store", "service_tier", "modalities", "prediction", "web_search_options"} {
		if _, ok := extra[k]; !ok {
			t.Errorf("Extra lacks %q (has %v)", k, keys)
		}
	}
	if len(extra) != 9 {
		t.Errorf("Extra has %d fields %v; want 9", len(extra), keys)
	}
	if string(extra["logit_bias"]) != `{"50256": -100}` {
		t.Errorf("Extra[logit_bias] = %s; want it as it came", extra["logit_bias"])
	}
}

func TestDecodeRequestToolsAndMedia(t *testing.T) {
	req, err := openai.DecodeRequest(readFile(t, "request_tools.json"))
	if err != nil {
		t.Fatal(err)
	}
	user := req.Messages[1].Parts
	wantUser := []llm.Part{
		{Type: llm.PartText, Text: "Weather where this photo was taken, and in Lima?"},
		{Type: llm.PartImage, Media: &llm.Media{URL: "https://example.com/beach.jpg", Detail: "low"}},
		{Type: llm.PartImage, Media: &llm.Media{MediaType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")}},
		{Type: llm.PartFile, Media: &llm.Media{MediaType: "audio/wav", Data: []byte("RIFF")}},
		{Type: llm.PartFile, Media: &llm.Media{MediaType: "application/pdf", Data: []byte("%PDF-"), Name: "trip.pdf"}},
		{Type: llm.PartFile, Media: &llm.Media{URL: "file-abc123"}},
	}
	if !reflect.DeepEqual(user, wantUser) {
		t.Errorf("user parts = %+v;\nwant %+v", user, wantUser)
	}
	asst := req.Messages[2].Parts
	wantAsst := []llm.Part{
		{Type: llm.PartReasoning, Text: "Two cities, two calls."},
		{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Nice"}`}},
		{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_2", Name: "get_weather", Arguments: `{"city":"Lima"}`}},
	}
	if !reflect.DeepEqual(asst, wantAsst) {
		t.Errorf("assistant parts = %+v;\nwant %+v", asst, wantAsst)
	}
	tool := req.Messages[4]
	wantTool := llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_2",
		Parts: []llm.Part{{Type: llm.PartText, Text: "18C"}, {Type: llm.PartText, Text: ", cloudy"}}}}}}
	if !reflect.DeepEqual(tool, wantTool) {
		t.Errorf("tool message = %+v; want %+v", tool, wantTool)
	}
	refusal := req.Messages[5].Parts
	if len(refusal) != 2 || refusal[1].Type != llm.PartRefusal || refusal[1].Text != "I will not book flights." {
		t.Errorf("assistant with refusal = %+v; want text then refusal", refusal)
	}
	if req.ToolChoice == nil || *req.ToolChoice != (llm.ToolChoice{Mode: llm.ToolNamed, Name: "get_weather"}) {
		t.Errorf("ToolChoice = %+v; want named get_weather", req.ToolChoice)
	}
	if len(req.Tools) != 2 || req.Tools[0].Strict == nil || !*req.Tools[0].Strict || req.Tools[1].Parameters != nil {
		t.Errorf("Tools = %+v", req.Tools)
	}
	if req.Extra != nil {
		t.Errorf("Extra = %v; want none", req.Extra)
	}
}

// TestRequestRoundTrip: a request decoded then encoded is the original,
// Extra included (nulls aside: content null and no content are the same).
func TestRequestRoundTrip(t *testing.T) {
	for _, name := range []string{"request_chat.json", "request_tools.json"} {
		t.Run(name, func(t *testing.T) {
			in := readFile(t, name)
			req, err := openai.DecodeRequest(in)
			if err != nil {
				t.Fatal(err)
			}
			out, losses, err := openai.EncodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			if len(losses) != 0 {
				t.Errorf("losses = %v; want none", losses)
			}
			sameJSON(t, out, in)
		})
	}
}

func TestDecodeRequestVariants(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(*llm.Request) bool
	}{
		{"escaped and spaced names", " {\n \"mod\\u0065l\" : \"m\" ,\t\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}] , \"x\\\"y\" : [1, {\"a\":\"}\"}] , \"n\":null}\n",
			func(r *llm.Request) bool {
				return r.Model == "m" && r.Messages[0].Text() == "hi" && string(r.Extra[`x"y`]) == `[1, {"a":"}"}]` && len(r.Extra) == 1
			}},
		{"stop string", `{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":"END"}`,
			func(r *llm.Request) bool { return reflect.DeepEqual(r.Stop, []string{"END"}) }},
		{"max_tokens", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":77}`,
			func(r *llm.Request) bool { return r.MaxTokens == 77 }},
		{"max_completion_tokens wins", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":77,"max_completion_tokens":88}`,
			func(r *llm.Request) bool { return r.MaxTokens == 88 }},
		{"tool_choice required", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"required"}`,
			func(r *llm.Request) bool { return r.ToolChoice != nil && r.ToolChoice.Mode == llm.ToolRequired }},
		{"tool_choice none", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"none"}`,
			func(r *llm.Request) bool { return r.ToolChoice != nil && r.ToolChoice.Mode == llm.ToolNone }},
		{"reasoning_effort none", `{"model":"m","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"none"}`,
			func(r *llm.Request) bool { return r.Reasoning != nil && r.Reasoning.Disabled }},
		{"json_object", `{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}`,
			func(r *llm.Request) bool {
				return r.ResponseFormat != nil && r.ResponseFormat.Type == llm.FormatJSONObject
			}},
		{"nulls", `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":null,"stop":null,"tools":null,"user":null}`,
			func(r *llm.Request) bool { return r.Temperature == nil && r.Stop == nil && r.Tools == nil }},
		{"system array", `{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"user","content":"hi"}]}`,
			func(r *llm.Request) bool { return r.Messages[0].Text() == "ab" }},
		{"include_usage false", `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":false}}`,
			func(r *llm.Request) bool { return r.Stream && !r.StreamUsage }},
		{"non-base64 data URL kept", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml,<svg/>"}}]}]}`,
			func(r *llm.Request) bool { return r.Messages[0].Parts[0].Media.URL == "data:image/svg+xml,<svg/>" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := openai.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeRequest(%s) = %v", tt.body, err)
			}
			if !tt.check(r) {
				t.Errorf("DecodeRequest(%s) = %+v; check failed", tt.body, r)
			}
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct{ name, body, param string }{
		{"not json", `{"model":`, ""},
		{"array", `[]`, ""},
		{"no messages", `{"model":"m"}`, "messages"},
		{"empty messages", `{"model":"m","messages":[]}`, "messages"},
		{"no model", `{"messages":[{"role":"user","content":"hi"}]}`, "model"},
		{"messages not array", `{"model":"m","messages":"hi"}`, "messages"},
		{"bad role", `{"model":"m","messages":[{"role":"function","content":"hi"}]}`, "messages[0].role"},
		{"no role", `{"model":"m","messages":[{"content":"hi"}]}`, "messages[0].role"},
		{"content number", `{"model":"m","messages":[{"role":"user","content":7}]}`, "messages[0].content"},
		{"part type", `{"model":"m","messages":[{"role":"user","content":[{"type":"video"}]}]}`, "messages[0].content[0].type"},
		{"image no url", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, "messages[0].content[0].image_url.url"},
		{"bad base64", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,!!"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"tool without id", `{"model":"m","messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id"},
		{"temperature string", `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}`, "temperature"},
		{"max_tokens string", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":"9"}`, "max_tokens"},
		{"tool type", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"custom","custom":{"name":"x"}}]}`, "tools[0].type"},
		{"tool no name", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name"},
		{"tool_choice word", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"any"}`, "tool_choice"},
		{"tool_choice object", `{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"allowed_tools"}}`, "tool_choice"},
		{"response_format type", `{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"yaml"}}`, "response_format.type"},
		{"json_schema name", `{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{}}}`, "response_format.json_schema.name"},
		{"stop number", `{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":3}`, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openai.DecodeRequest([]byte(tt.body))
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.ErrInvalidRequest {
				t.Fatalf("DecodeRequest(%s) = %v; want ErrInvalidRequest", tt.body, err)
			}
			if e.Param != tt.param {
				t.Errorf("DecodeRequest(%s).Param = %q; want %q (%s)", tt.body, e.Param, tt.param, e.Message)
			}
		})
	}
}

func encode(t *testing.T, req *llm.Request) (map[string]any, []llm.Loss) {
	t.Helper()
	body, losses, err := openai.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("EncodeRequest wrote invalid JSON %s", body)
	}
	return m, losses
}

func userText(s string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: s}}}
}

func TestEncodeRequestLosses(t *testing.T) {
	t.Run("top_k", func(t *testing.T) {
		m, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{userText("hi")}, TopK: ptr(40)})
		hasLoss(t, ls, "top_k", "no equivalent")
		if _, ok := m["top_k"]; ok {
			t.Error("top_k written")
		}
	})
	t.Run("cache hint", func(t *testing.T) {
		msg := userText("long prefix")
		msg.Parts[0].Cache = &llm.CacheHint{TTL: "5m"}
		_, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{msg}})
		hasLoss(t, ls, "messages[0].parts[0].cache", "cache")
	})
	t.Run("signed reasoning", func(t *testing.T) {
		asst := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartReasoning, Text: "thinking", Signature: "sig=="},
			{Type: llm.PartRedactedReasoning, Signature: "opaque"},
			{Type: llm.PartText, Text: "answer"},
		}}
		m, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{userText("q"), asst, userText("more")}})
		hasLoss(t, ls, "messages[1].parts[0]", "signed reasoning")
		hasLoss(t, ls, "messages[1].parts[1]", "redacted_reasoning")
		msg := m["messages"].([]any)[1].(map[string]any)
		if _, ok := msg["reasoning_content"]; ok || msg["content"] != "answer" {
			t.Errorf("assistant = %v; want content answer and no reasoning_content", msg)
		}
	})
	t.Run("extra of another format", func(t *testing.T) {
		m, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{userText("hi")},
			Extra: map[string]json.RawMessage{"safetySettings": json.RawMessage(`[]`)}, ExtraFormat: llm.FormatGemini})
		hasLoss(t, ls, "safetySettings", "no equivalent in openai")
		if _, ok := m["safetySettings"]; ok {
			t.Error("foreign extra written")
		}
	})
	t.Run("extra shadowing a field", func(t *testing.T) {
		m, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{userText("hi")},
			Extra: map[string]json.RawMessage{"model": json.RawMessage(`"other"`)}, ExtraFormat: llm.FormatOpenAI})
		hasLoss(t, ls, "model", "shadowed")
		if m["model"] != "m" {
			t.Errorf("model = %v; want m", m["model"])
		}
	})
	t.Run("include_thoughts", func(t *testing.T) {
		_, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{userText("hi")}, Reasoning: &llm.Reasoning{Effort: "high", IncludeThoughts: true}})
		hasLoss(t, ls, "reasoning.include_thoughts", "no equivalent")
	})
	t.Run("effort and budget", func(t *testing.T) {
		m, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{userText("hi")}, Reasoning: &llm.Reasoning{Effort: "high", BudgetTokens: 100}})
		hasLoss(t, ls, "reasoning.budget_tokens", "dropped")
		if m["reasoning_effort"] != "high" {
			t.Errorf("reasoning_effort = %v; want high", m["reasoning_effort"])
		}
	})
	t.Run("file by URL", func(t *testing.T) {
		msg := llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartFile, Media: &llm.Media{URL: "https://x/doc.pdf"}}, {Type: llm.PartText, Text: "read"}}}
		_, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{msg}})
		hasLoss(t, ls, "messages[0].parts[0]", "not by URL")
	})
	t.Run("tool message without a result", func(t *testing.T) {
		m, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartText, Text: "orphan"}}}}})
		hasLoss(t, ls, "messages[0]", "sent as a user message")
		if msg := m["messages"].([]any)[0].(map[string]any); msg["role"] != "user" || msg["content"] != "orphan" {
			t.Errorf("message = %v; want a user message", msg)
		}
	})
	t.Run("empty tool result", func(t *testing.T) {
		_, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult}}}}})
		hasLoss(t, ls, "messages[0].parts[0]", "empty tool result")
	})
	t.Run("image without media", func(t *testing.T) {
		_, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage}, {Type: llm.PartText, Text: "x"}}}}})
		hasLoss(t, ls, "messages[0].parts[0]", "without media")
	})
	t.Run("media from the assistant", func(t *testing.T) {
		asst := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartImage, Media: &llm.Media{URL: "https://x/a.png"}}, {Type: llm.PartText, Text: "here"}}}
		_, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{userText("draw"), asst}})
		hasLoss(t, ls, "messages[1].parts[0]", "no place in an openai assistant message")
	})
}

// TestEncodeRequestAnthropicToolResults: tool results in a user turn, as
// Anthropic and Gemini send them, become tool messages before the rest of
// the turn; is_error and images in a result are losses.
func TestEncodeRequestAnthropicToolResults(t *testing.T) {
	req := &llm.Request{Model: "m", Messages: []llm.Message{
		userText("weather?"),
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_1", Name: "w", Arguments: `{"c":"x"}`}},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_2", Name: "w"}}}},
		{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_1", Name: "w", Parts: []llm.Part{{Type: llm.PartText, Text: "sunny"}}}},
			{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_2", IsError: true, Parts: []llm.Part{
				{Type: llm.PartText, Text: "failed"}, {Type: llm.PartImage, Media: &llm.Media{URL: "https://x/y.png"}}}}},
			{Type: llm.PartText, Text: "and tomorrow?"},
		}},
	}}
	body, ls, err := openai.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"m","messages":[
		{"role":"user","content":"weather?"},
		{"role":"assistant","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"w","arguments":"{\"c\":\"x\"}"}},{"id":"toolu_2","type":"function","function":{"name":"w","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"toolu_1","content":"sunny"},
		{"role":"tool","tool_call_id":"toolu_2","content":"failed"},
		{"role":"user","content":"and tomorrow?"}]}`
	sameJSON(t, body, []byte(want))
	hasLoss(t, ls, "messages[2].parts[1].is_error", "no error flag")
	hasLoss(t, ls, "messages[2].parts[1].parts[1]", "text only")
}

func TestEffortForBudget(t *testing.T) {
	tests := []struct {
		budget int
		want   string
	}{{1, "low"}, {1024, "low"}, {2047, "low"}, {2048, "medium"}, {8191, "medium"}, {8192, "high"}, {32000, "high"}}
	for _, tt := range tests {
		if got := openai.EffortForBudget(tt.budget); got != tt.want {
			t.Errorf("EffortForBudget(%d) = %q; want %q", tt.budget, got, tt.want)
		}
		m, ls := encode(t, &llm.Request{Model: "m", Messages: []llm.Message{userText("hi")}, Reasoning: &llm.Reasoning{BudgetTokens: tt.budget}})
		if m["reasoning_effort"] != tt.want {
			t.Errorf("EncodeRequest(budget %d).reasoning_effort = %v; want %q", tt.budget, m["reasoning_effort"], tt.want)
		}
		hasLoss(t, ls, "reasoning.budget_tokens", "sent as reasoning_effort "+tt.want)
	}
}

func TestEncodeRequestShapes(t *testing.T) {
	req := &llm.Request{Model: "m", Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "a"}, {Type: llm.PartText, Text: "b"}}},
		{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, Media: &llm.Media{MediaType: "image/jpeg", Data: []byte{0xff, 0xd8}}}}},
	}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolRequired}, Reasoning: &llm.Reasoning{Disabled: true}, MaxTokens: 5, StreamUsage: true}
	body, _, err := openai.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"m","messages":[
		{"role":"system","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
		{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9g="}}]}],
		"tool_choice":"required","reasoning_effort":"none","max_completion_tokens":5}`
	sameJSON(t, body, []byte(want)) // no stream_options: StreamUsage without Stream
	if bytes.Contains(body, []byte("stream")) {
		t.Errorf("body %s mentions stream", body)
	}
	if _, _, err := openai.EncodeRequest(&llm.Request{Model: "m"}); err == nil {
		t.Error("EncodeRequest with no messages succeeded")
	}
	_, _, err = openai.EncodeRequest(&llm.Request{Model: "m", Messages: []llm.Message{{Role: "robot"}}})
	if err == nil || !strings.Contains(err.Error(), "robot") {
		t.Errorf("EncodeRequest with role robot = %v; want an error", err)
	}
}
