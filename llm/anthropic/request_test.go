package anthropic_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

func TestDecodeRequestBasic(t *testing.T) {
	req, err := anthropic.DecodeRequest(readTestdata(t, "request_basic.json"))
	if err != nil {
		t.Fatal(err)
	}
	if req.Model != "claude-sonnet-4-5" || req.MaxTokens != 1024 {
		t.Errorf("Model, MaxTokens = %q, %d; want claude-sonnet-4-5, 1024", req.Model, req.MaxTokens)
	}
	if len(req.Messages) != 4 || req.Messages[0].Role != llm.RoleSystem || req.Messages[0].Text() != "You are a terse assistant." {
		t.Fatalf("Messages = %+v; want the system prompt first, then 3 turns", req.Messages)
	}
	if req.Messages[2].Role != llm.RoleAssistant || req.Messages[2].Text() != "Paris." {
		t.Errorf("Messages[2] = %+v; want assistant Paris.", req.Messages[2])
	}
	if *req.Temperature != 0.5 || *req.TopP != 0.9 || *req.TopK != 40 {
		t.Errorf("sampling = %v %v %v; want 0.5 0.9 40", *req.Temperature, *req.TopP, *req.TopK)
	}
	if len(req.Stop) != 1 || req.Stop[0] != "\n\nHuman:" {
		t.Errorf("Stop = %q", req.Stop)
	}
	if req.User != "user-7f3a" {
		t.Errorf("User = %q; want user-7f3a", req.User)
	}
	if req.ExtraFormat != llm.FormatAnthropic || string(req.Extra["service_tier"]) != `"auto"` {
		t.Errorf("Extra = %s (%s); want service_tier kept", req.Extra, req.ExtraFormat)
	}
}

func TestDecodeRequestTools(t *testing.T) {
	req, err := anthropic.DecodeRequest(readTestdata(t, "request_tools.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !req.Stream || req.Reasoning == nil || req.Reasoning.BudgetTokens != 8000 {
		t.Errorf("Stream, Reasoning = %v, %+v; want true, budget 8000", req.Stream, req.Reasoning)
	}
	if len(req.Tools) != 1 || req.Tools[0].Name != "get_weather" || !strings.Contains(string(req.Tools[0].Parameters), `"city"`) {
		t.Errorf("Tools = %+v; want get_weather only (web_search is a server tool)", req.Tools)
	}
	if !strings.Contains(string(req.Extra["tools"]), "web_search_20250305") {
		t.Errorf("Extra[tools] = %s; want the server tool", req.Extra["tools"])
	}
	if req.ToolChoice == nil || req.ToolChoice.Mode != llm.ToolAuto || req.ParallelToolCalls == nil || *req.ParallelToolCalls {
		t.Errorf("ToolChoice, ParallelToolCalls = %+v, %v; want auto, false", req.ToolChoice, req.ParallelToolCalls)
	}
	sys := req.Messages[0]
	if sys.Role != llm.RoleSystem || len(sys.Parts) != 2 || sys.Parts[1].Cache == nil || sys.Parts[1].Cache.TTL != "1h" {
		t.Errorf("system = %+v; want two parts, the second cached for 1h", sys)
	}
	user := req.Messages[1].Parts
	if user[1].Type != llm.PartImage || user[1].Media.MediaType != "image/png" || string(user[1].Media.Data) != "\x89PNG\r\n\x1a\n" {
		t.Errorf("image part = %+v; want inline png", user[1].Media)
	}
	if user[2].Media.URL != "https://example.com/cat.jpg" {
		t.Errorf("url image = %+v", user[2].Media)
	}
	if user[3].Type != llm.PartFile || user[3].Media.Name != "report.pdf" || user[3].Media.MediaType != "application/pdf" {
		t.Errorf("document = %+v", user[3].Media)
	}
	if user[4].Type != llm.PartFile || string(user[4].Media.Data) != "Plain notes." || user[4].Media.MediaType != "text/plain" {
		t.Errorf("text document = %+v", user[4].Media)
	}
	if _, ok := req.Extra["messages[0].content[3].citations"]; !ok {
		t.Errorf("Extra = %v; want document citations kept by path", keys(req.Extra))
	}
	asst := req.Messages[2].Parts
	if len(asst) != 4 || asst[0].Type != llm.PartReasoning || asst[0].Signature != "EqQBCkYIBxgCKkA=" || asst[1].Type != llm.PartRedactedReasoning || asst[1].Signature != "EmwKAhgBEgy3va3pzix" {
		t.Fatalf("assistant parts = %+v", asst)
	}
	if c := asst[3].ToolCall; c == nil || c.ID != "toolu_01A" || c.Arguments != `{"city":"Paris"}` {
		t.Errorf("tool call = %+v; want toolu_01A get_weather {\"city\":\"Paris\"}", c)
	}
	if _, ok := req.Extra["messages[1].content[3]"]; !ok {
		t.Errorf("Extra = %v; want the server_tool_use block kept by path", keys(req.Extra))
	}
	res := req.Messages[3].Parts
	if r := res[1].ToolResult; r == nil || !r.IsError || len(r.Parts) != 2 || r.Parts[1].Type != llm.PartImage {
		t.Errorf("tool result = %+v; want an error with text and image", r)
	}
	if res[2].Cache == nil {
		t.Errorf("text part lost its cache_control")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRequestRoundTrip: a request decoded then encoded is the same JSON,
// Extra included, with no loss.
func TestRequestRoundTrip(t *testing.T) {
	for _, name := range []string{"request_basic.json", "request_tools.json"} {
		t.Run(name, func(t *testing.T) {
			in := readTestdata(t, name)
			req, err := anthropic.DecodeRequest(in)
			if err != nil {
				t.Fatal(err)
			}
			out, losses, err := anthropic.EncodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			if len(losses) != 0 {
				t.Errorf("losses = %v; want none", losses)
			}
			jsonEqual(t, out, in)
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, param string
	}{
		{"malformed", `{"model":`, ""},
		{"not an object", `[1]`, ""},
		{"missing max_tokens", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "max_tokens"},
		{"missing messages", `{"model":"m","max_tokens":10}`, "messages"},
		{"empty messages", `{"model":"m","max_tokens":10,"messages":[]}`, "messages"},
		{"missing model", `{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, "model"},
		{"wrong type", `{"model":"m","max_tokens":10,"temperature":"hot","messages":[{"role":"user","content":"hi"}]}`, "temperature"},
		{"bad role", `{"model":"m","max_tokens":10,"messages":[{"role":"system","content":"hi"}]}`, "messages[0].role"},
		{"content number", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":5}]}`, "messages[0].content"},
		{"block without type", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"text":"x"}]}]}`, "messages[0].content[0].type"},
		{"bad base64", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"!!"}}]}]}`, "messages[0].content[0].source.data"},
		{"bad tool_choice", `{"model":"m","max_tokens":10,"tool_choice":{"type":"maybe"},"messages":[{"role":"user","content":"hi"}]}`, "tool_choice.type"},
		{"tool without name", `{"model":"m","max_tokens":10,"tools":[{"input_schema":{}}],"messages":[{"role":"user","content":"hi"}]}`, "tools[0].name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := anthropic.DecodeRequest([]byte(tt.body))
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.ErrInvalidRequest || e.Param != tt.param {
				t.Fatalf("DecodeRequest(%s) = %v; want invalid_request at %q", tt.body, err, tt.param)
			}
		})
	}
}

func userMsg(text string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: text}}}
}

// encode runs EncodeRequest and fails on an error.
func encode(t *testing.T, req *llm.Request) ([]byte, []llm.Loss) {
	t.Helper()
	body, losses, err := anthropic.EncodeRequest(req)
	if err != nil {
		t.Fatalf("EncodeRequest = %v", err)
	}
	return body, losses
}

// TestEncodeRequestFromModel: a request of another format (OpenAI shaped)
// becomes valid alternating Anthropic turns.
func TestEncodeRequestFromModel(t *testing.T) {
	req := &llm.Request{
		Model: "claude-x",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "Be brief."}}},
			{Role: llm.RoleDeveloper, Parts: []llm.Part{{Type: llm.PartText, Text: "Use metric."}}},
			userMsg("Weather?"),
			userMsg("In Paris."),
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Name: "w", Arguments: `{"city":"Paris"}`}},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_2", Name: "t", Arguments: ``}},
			}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_1", Parts: []llm.Part{{Type: llm.PartText, Text: "18C"}}}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_2", Parts: []llm.Part{{Type: llm.PartText, Text: "noon"}}}}}},
			userMsg("Thanks"),
		},
		Tools:       []llm.Tool{{Name: "w", Description: "weather"}, {Name: "t"}},
		ExtraFormat: llm.FormatOpenAI,
	}
	body, losses := encode(t, req)
	if len(losses) != 0 {
		t.Errorf("losses = %v; want none", losses)
	}
	want := `{"model":"claude-x","max_tokens":4096,
	"system":[{"type":"text","text":"Be brief."},{"type":"text","text":"Use metric."}],
	"messages":[
	 {"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"text","text":"In Paris."}]},
	 {"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"w","input":{"city":"Paris"}},{"type":"tool_use","id":"call_2","name":"t","input":{}}]},
	 {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"18C"},{"type":"tool_result","tool_use_id":"call_2","content":"noon"},{"type":"text","text":"Thanks"}]}],
	"tools":[{"name":"w","description":"weather","input_schema":{"type":"object"}},{"name":"t","input_schema":{"type":"object"}}]}`
	jsonEqual(t, body, []byte(want))
}

func TestEncodeRequestInvalidArguments(t *testing.T) {
	for _, args := range []string{`{"city":`, `[1,2]`, `"x"`} {
		req := &llm.Request{Model: "m", Messages: []llm.Message{userMsg("hi"), {Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c", Name: "f", Arguments: args}}}}}}
		_, _, err := anthropic.EncodeRequest(req)
		var e *llm.Error
		if !errors.As(err, &e) || e.Kind != llm.ErrInvalidRequest || e.Param != "messages[1].content[0].arguments" {
			t.Errorf("EncodeRequest(arguments %s) = %v; want invalid_request at messages[1].content[0].arguments", args, err)
		}
	}
}

// TestEncodeRequestLosses: each thing Anthropic cannot carry is reported,
// and what is sent instead is checked.
func TestEncodeRequestLosses(t *testing.T) {
	base := func() *llm.Request {
		return &llm.Request{Model: "m", Messages: []llm.Message{userMsg("hi")}}
	}
	tests := []struct {
		name  string
		edit  func(*llm.Request)
		field string // the loss
		path  string // a path of the body to check
		want  string // its value; "" for absent
	}{
		{"seed", func(r *llm.Request) { r.Seed = ptr(int64(7)) }, "seed", "seed", ""},
		{"n", func(r *llm.Request) { r.N = 3 }, "n", "n", ""},
		{"presence", func(r *llm.Request) { r.PresencePenalty = ptr(0.5) }, "presence_penalty", "presence_penalty", ""},
		{"frequency", func(r *llm.Request) { r.FrequencyPenalty = ptr(0.5) }, "frequency_penalty", "frequency_penalty", ""},
		{"json_schema", func(r *llm.Request) {
			r.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: []byte(`{}`)}
		}, "response_format", "response_format", ""},
		{"json_object", func(r *llm.Request) { r.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONObject} }, "response_format", "response_format", ""},
		{"temperature above 1", func(r *llm.Request) { r.Temperature = ptr(1.5) }, "temperature", "temperature", "1"},
		{"extra of another format", func(r *llm.Request) {
			r.Extra, r.ExtraFormat = map[string]json.RawMessage{}, llm.FormatOpenAI
		}, "", "", ""},
		{"logit_bias", func(r *llm.Request) {
			r.Extra = map[string]json.RawMessage{"logit_bias": []byte(`{"1":2}`)}
			r.ExtraFormat = llm.FormatOpenAI
		}, "logit_bias", "logit_bias", ""},
		{"later system message", func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "late"}}})
		}, "messages[1]", "system", `"late"`},
		{"unsigned reasoning", func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartReasoning, Text: "hmm"}, {Type: llm.PartText, Text: "ok"}}})
		}, "messages[1].content[0]", "messages.1.content", `"ok"`},
		{"reasoning signed by another format", func(r *llm.Request) {
			r.ExtraFormat = llm.FormatGemini
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartReasoning, Text: "hmm", Signature: "gemini-sig"}, {Type: llm.PartText, Text: "ok"}}})
		}, "messages[1].content[0]", "messages.1.content", `"ok"`},
		{"refusal", func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartRefusal, Text: "no"}}})
		}, "messages[1].content[0]", "messages.1.content.0.text", `"no"`},
		{"name", func(r *llm.Request) { r.Messages[0].Name = "bob" }, "messages[0].name", "messages.0.name", ""},
		{"image detail", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartImage, Media: &llm.Media{URL: "https://x/y.png", Detail: "high"}})
		}, "messages[0].content[1].detail", "messages.0.content.1.source.url", `"https://x/y.png"`},
		{"system image", func(r *llm.Request) {
			r.Messages = append([]llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartImage, Media: &llm.Media{URL: "https://x"}}}}}, r.Messages...)
		}, "messages[0].content[0]", "system", ""},
		{"text signature", func(r *llm.Request) { r.Messages[0].Parts[0].Signature = "g" }, "messages[0].content[0].signature", "messages.0.content", `"hi"`},
		{"unknown effort", func(r *llm.Request) { r.Reasoning = &llm.Reasoning{Effort: "extreme"} }, "reasoning_effort", "thinking", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base()
			tt.edit(req)
			body, losses := encode(t, req)
			if tt.field != "" && !hasLoss(losses, tt.field) {
				t.Errorf("losses = %v; want one for %s", losses, tt.field)
			}
			if tt.path != "" {
				if got := jsonField(t, body, tt.path); got != tt.want {
					t.Errorf("body %s = %s; want %q\n%s", tt.path, got, tt.want, body)
				}
			}
		})
	}
}

// TestEffortBudgets: an effort without a budget is sent as the table's
// budget, reported; max_tokens makes room for it.
func TestEffortBudgets(t *testing.T) {
	tests := []struct {
		effort    string
		maxTokens int
		budget    string
		max       string
	}{
		{"minimal", 0, "1024", "5120"},
		{"low", 0, "2048", "6144"},
		{"medium", 0, "8192", "12288"},
		{"high", 0, "16384", "20480"},
		{"high", 10000, "9999", "10000"},
	}
	for _, tt := range tests {
		t.Run(tt.effort+"/"+strconv.Itoa(tt.maxTokens), func(t *testing.T) {
			req := &llm.Request{Model: "m", Messages: []llm.Message{userMsg("hi")}, MaxTokens: tt.maxTokens, Reasoning: &llm.Reasoning{Effort: tt.effort}}
			body, losses := encode(t, req)
			if got := jsonField(t, body, "thinking.budget_tokens"); got != tt.budget {
				t.Errorf("budget_tokens = %s; want %s", got, tt.budget)
			}
			if got := jsonField(t, body, "max_tokens"); got != tt.max {
				t.Errorf("max_tokens = %s; want %s", got, tt.max)
			}
			if !hasLoss(losses, "reasoning_effort") {
				t.Errorf("losses = %v; want reasoning_effort reported", losses)
			}
		})
	}
}

func TestEncodeRequestOptions(t *testing.T) {
	tests := []struct {
		name string
		edit func(*llm.Request)
		path string
		want string
	}{
		{"default max_tokens", func(r *llm.Request) {}, "max_tokens", "4096"},
		{"budget", func(r *llm.Request) { r.Reasoning = &llm.Reasoning{BudgetTokens: 2000} }, "thinking", `{"budget_tokens":2000,"type":"enabled"}`},
		{"disabled", func(r *llm.Request) { r.Reasoning = &llm.Reasoning{Disabled: true} }, "thinking", `{"type":"disabled"}`},
		{"user", func(r *llm.Request) { r.User = "u1" }, "metadata", `{"user_id":"u1"}`},
		{"stream", func(r *llm.Request) { r.Stream = true }, "stream", "true"},
		{"required", func(r *llm.Request) { r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolRequired} }, "tool_choice", `{"type":"any"}`},
		{"named", func(r *llm.Request) { r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolNamed, Name: "f"} }, "tool_choice", `{"name":"f","type":"tool"}`},
		{"none", func(r *llm.Request) { r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolNone} }, "tool_choice", `{"type":"none"}`},
		{"no parallel", func(r *llm.Request) {
			r.Tools = []llm.Tool{{Name: "f"}}
			r.ParallelToolCalls = ptr(false)
		}, "tool_choice", `{"disable_parallel_tool_use":true,"type":"auto"}`},
		{"parallel without tools", func(r *llm.Request) { r.ParallelToolCalls = ptr(true) }, "tool_choice", ""},
		{"data URL image", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartImage, Media: &llm.Media{URL: "data:image/jpeg;base64,/9j/4AAQ"}})
		}, "messages.0.content.1.source", `{"data":"/9j/4AAQ","media_type":"image/jpeg","type":"base64"}`},
		{"sniffed image", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartImage, Media: &llm.Media{Data: []byte("\x89PNG\r\n\x1a\n")}})
		}, "messages.0.content.1.source.media_type", `"image/png"`},
		{"pdf url", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartFile, Media: &llm.Media{URL: "https://x/a.pdf", Name: "a.pdf"}})
		}, "messages.0.content.1", `{"source":{"type":"url","url":"https://x/a.pdf"},"title":"a.pdf","type":"document"}`},
		{"cache ttl", func(r *llm.Request) { r.Messages[0].Parts[0].Cache = &llm.CacheHint{TTL: "1h"} }, "messages.0.content.0.cache_control", `{"ttl":"1h","type":"ephemeral"}`},
		{"tool result error", func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c", IsError: true}}}})
		}, "messages.0.content.1", `{"is_error":true,"tool_use_id":"c","type":"tool_result"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &llm.Request{Model: "m", Messages: []llm.Message{userMsg("hi")}}
			tt.edit(req)
			body, _ := encode(t, req)
			if got := jsonField(t, body, tt.path); got != tt.want {
				t.Errorf("body %s = %s; want %s\n%s", tt.path, got, tt.want, body)
			}
		})
	}
}

func TestEncodeRequestBadMedia(t *testing.T) {
	for _, m := range []*llm.Media{nil, {}, {Data: []byte{0, 1, 2}}, {URL: "data:image/png,abc"}} {
		req := &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, Media: m}}}}}
		if _, _, err := anthropic.EncodeRequest(req); err == nil {
			t.Errorf("EncodeRequest(image %+v) = nil error; want one", m)
		}
	}
}
