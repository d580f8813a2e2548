package openai_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

func TestDecodeResponseGolden(t *testing.T) {
	res, err := openai.DecodeResponse(readFile(t, "response_tools.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Response{
		ID: "chatcmpl-tools1", Model: "deepseek-reasoner", Created: time.Unix(1741570000, 0).UTC(),
		Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartReasoning, Text: "The user wants two cities."},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_a", Name: "get_weather", Arguments: `{"city":"Nice"}`}},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_b", Name: "get_weather", Arguments: `{"city":"Lima"}`}},
		}},
		FinishReason: llm.FinishToolCalls, RawFinishReason: "tool_calls",
		Usage: llm.Usage{InputTokens: 1200, OutputTokens: 300, CacheReadTokens: 1024, ReasoningTokens: 256, Source: llm.UsageReported},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("DecodeResponse = %+v;\nwant %+v", res, want)
	}

	res, err = openai.DecodeResponse(readFile(t, "response_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Text() != "Lima is the capital of Peru." || res.ExtraFormat != llm.FormatOpenAI ||
		string(res.Extra["system_fingerprint"]) != `"fp_3a1b2c"` || string(res.Extra["service_tier"]) != `"default"` || len(res.Extra) != 2 {
		t.Errorf("DecodeResponse(text) = %+v, Extra %v", res, res.Extra)
	}
}

func TestResponseRoundTrip(t *testing.T) {
	for _, name := range []string{"response_text.json", "response_tools.json"} {
		t.Run(name, func(t *testing.T) {
			in := readFile(t, name)
			res, err := openai.DecodeResponse(in)
			if err != nil {
				t.Fatal(err)
			}
			out, losses, err := openai.EncodeResponse(res)
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

// TestDecodeResponseChoices: the model holds choice 0; the rest are a loss.
func TestDecodeResponseChoices(t *testing.T) {
	res, err := openai.DecodeResponse(readFile(t, "response_n2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Text() != "Lima." || res.FinishReason != llm.FinishStop {
		t.Errorf("DecodeResponse(n=2) kept %q %s; want choice 0", res.Message.Text(), res.FinishReason)
	}
	hasLoss(t, res.Losses, "choices", "1 more dropped")
}

func TestDecodeResponseErrors(t *testing.T) {
	for _, body := range []string{`nope`, `{"id":"x","choices":[]}`, `{"choices":"x"}`, `{"choices":[{"message":{"role":"assistant","content":5}}]}`} {
		_, err := openai.DecodeResponse([]byte(body))
		var e *llm.Error
		if !errors.As(err, &e) || e.Kind != llm.ErrServer {
			t.Errorf("DecodeResponse(%s) = %v; want ErrServer", body, err)
		}
	}
	_, err := openai.DecodeResponse([]byte(`{"error":{"message":"model overloaded","type":"rate_limit_error"}}`))
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.ErrRateLimit || e.Message != "model overloaded" {
		t.Errorf("DecodeResponse(an error with 200) = %v; want the error", err)
	}
	res, err := openai.DecodeResponse([]byte(`{"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}]}`))
	if err != nil || res.Message.Text() != "hi" {
		t.Errorf("DecodeResponse without role = %v, %v; want assistant hi", res, err)
	}
	res, err = openai.DecodeResponse([]byte(`{"choices":[{"message":{"role":"assistant","content":"hi"},"logprobs":{"content":[]},"finish_reason":"stop"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	hasLoss(t, res.Losses, "choices[0].logprobs", "no place")
}

// TestFinishReasons: one row per OpenAI finish_reason, both ways.
func TestFinishReasons(t *testing.T) {
	tests := []struct {
		raw   string
		model llm.FinishReason
		back  string
	}{
		{"stop", llm.FinishStop, "stop"},
		{"length", llm.FinishLength, "length"},
		{"tool_calls", llm.FinishToolCalls, "tool_calls"},
		{"content_filter", llm.FinishContentFilter, "content_filter"},
		{"function_call", llm.FinishToolCalls, "function_call"},
		{"abort", llm.FinishOther, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			body := `{"id":"x","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"` + tt.raw + `"}]}`
			res, err := openai.DecodeResponse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if res.FinishReason != tt.model || res.RawFinishReason != tt.raw {
				t.Errorf("DecodeResponse(finish %s) = %s (%s); want %s", tt.raw, res.FinishReason, res.RawFinishReason, tt.model)
			}
			out, ls, err := openai.EncodeResponse(res)
			if err != nil {
				t.Fatal(err)
			}
			var w struct {
				Choices []struct {
					FinishReason string `json:"finish_reason"`
				} `json:"choices"`
			}
			json.Unmarshal(out, &w)
			if got := w.Choices[0].FinishReason; got != tt.back {
				t.Errorf("EncodeResponse(%s).finish_reason = %s; want %s", tt.model, got, tt.back)
			}
			if (tt.model == llm.FinishOther) != (len(ls) > 0) {
				t.Errorf("EncodeResponse(%s) losses = %v", tt.model, ls)
			}
		})
	}
	for _, tt := range []struct {
		r    llm.FinishReason
		want string
		loss bool
	}{{llm.FinishRefusal, "stop", false}, {llm.FinishPause, "stop", true}, {llm.FinishError, "stop", true}, {llm.FinishStop, "stop", false}} {
		got, loss := openai.WireFinishReason(tt.r, "")
		if got != tt.want || loss != tt.loss {
			t.Errorf("WireFinishReason(%s) = %s, %v; want %s, %v", tt.r, got, loss, tt.want, tt.loss)
		}
	}
}

// TestUsageFields: one row per usage field OpenAI reports.
func TestUsageFields(t *testing.T) {
	tests := []struct {
		name, usage string
		want        llm.Usage
	}{
		{"prompt_tokens", `{"prompt_tokens":10}`, llm.Usage{InputTokens: 10}},
		{"completion_tokens", `{"completion_tokens":7}`, llm.Usage{OutputTokens: 7}},
		{"cached_tokens", `{"prompt_tokens":100,"prompt_tokens_details":{"cached_tokens":64}}`, llm.Usage{InputTokens: 100, CacheReadTokens: 64}},
		{"reasoning_tokens", `{"completion_tokens":50,"completion_tokens_details":{"reasoning_tokens":32}}`, llm.Usage{OutputTokens: 50, ReasoningTokens: 32}},
		{"deepseek prompt_cache_hit_tokens", `{"prompt_tokens":100,"prompt_cache_hit_tokens":80,"prompt_cache_miss_tokens":20}`, llm.Usage{InputTokens: 100, CacheReadTokens: 80}},
		{"total_tokens ignored", `{"prompt_tokens":1,"completion_tokens":2,"total_tokens":99}`, llm.Usage{InputTokens: 1, OutputTokens: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"stop"}],"usage":` + tt.usage + `}`
			res, err := openai.DecodeResponse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if res.Usage != tt.want {
				t.Errorf("DecodeResponse(usage %s).Usage = %+v; want %+v", tt.usage, res.Usage, tt.want)
			}
			u, ok := openai.ResponseUsage([]byte(body))
			if !ok || u != tt.want {
				t.Errorf("ResponseUsage(usage %s) = %+v, %v; want %+v", tt.usage, u, ok, tt.want)
			}
			var s openai.UsageScanner
			s.Scan(sseEvent(`{"id":"x","choices":[],"usage":` + tt.usage + `}`))
			s.Scan(sseEvent(`[DONE]`))
			if u, ok := s.Usage(); !ok || u != tt.want {
				t.Errorf("UsageScanner(usage %s) = %+v, %v; want %+v", tt.usage, u, ok, tt.want)
			}
		})
	}
	if _, ok := openai.ResponseUsage([]byte(`{"id":"x"}`)); ok {
		t.Error("ResponseUsage without usage = ok")
	}
}

func TestEncodeResponseLosses(t *testing.T) {
	res := &llm.Response{ID: "msg_1", Model: "claude", Created: time.Unix(5, 0),
		Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartReasoning, Text: "hmm", Signature: "sig"},
			{Type: llm.PartRedactedReasoning, Signature: "opaque"},
			{Type: llm.PartText, Text: "a"}, {Type: llm.PartText, Text: "b"},
			{Type: llm.PartRefusal, Text: "no"},
		}},
		FinishReason: llm.FinishPause, RawFinishReason: "pause_turn",
		Usage: llm.Usage{InputTokens: 10, OutputTokens: 5, CacheWriteTokens: 3},
		Extra: map[string]json.RawMessage{"container": json.RawMessage(`{}`)}, ExtraFormat: llm.FormatAnthropic,
	}
	out, ls, err := openai.EncodeResponse(res)
	if err != nil {
		t.Fatal(err)
	}
	hasLoss(t, ls, "message.parts[0].signature", "signatures")
	hasLoss(t, ls, "message.parts[1]", "redacted_reasoning")
	hasLoss(t, ls, "finish_reason", "pause (pause_turn) sent as stop")
	hasLoss(t, ls, "usage.cache_write_tokens", "no equivalent")
	hasLoss(t, ls, "container", "no equivalent in openai")
	want := `{"id":"msg_1","object":"chat.completion","created":5,"model":"claude","choices":[{"index":0,
		"message":{"role":"assistant","content":"ab","refusal":"no","reasoning_content":"hmm"},"finish_reason":"stop"}],
		"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`
	sameJSON(t, out, []byte(want))

	out, _, _ = openai.EncodeResponse(&llm.Response{Message: llm.Message{Role: llm.RoleAssistant}})
	var w struct {
		ID      string `json:"id"`
		Created int64  `json:"created"`
	}
	json.Unmarshal(out, &w)
	if len(w.ID) < 10 || w.ID[:9] != "chatcmpl-" || w.Created == 0 {
		t.Errorf("EncodeResponse(no id) = %s; want a chatcmpl- id and a time", out)
	}
}

func TestSetModel(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"model":"gpt-4o","messages":[]}`, `{"model":"gpt-4o-2024-08-06","messages":[]}`},
		{`{"messages":[{"role":"user","content":"model"}], "model" : "a" , "n":1}`, `{"messages":[{"role":"user","content":"model"}], "model" : "gpt-4o-2024-08-06" , "n":1}`},
		{`{"messages":[]}`, `{"model":"gpt-4o-2024-08-06","messages":[]}`},
		{` { } `, ` {"model":"gpt-4o-2024-08-06" } `},
		{`{"meta":{"model":"x"},"model":null}`, `{"meta":{"model":"x"},"model":"gpt-4o-2024-08-06"}`},
	}
	for _, tt := range tests {
		got, err := openai.SetModel([]byte(tt.in), "gpt-4o-2024-08-06")
		if err != nil || string(got) != tt.want {
			t.Errorf("SetModel(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`[]`, `{"model":`, `nope`} {
		if _, err := openai.SetModel([]byte(bad), "m"); err == nil {
			t.Errorf("SetModel(%s) succeeded", bad)
		}
	}
}
