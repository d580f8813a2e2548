package anthropic_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

func TestDecodeResponseText(t *testing.T) {
	res, err := anthropic.DecodeResponse(readTestdata(t, "response_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != "msg_01XFDUDYJgAACzvnptvVoYEL" || res.Model != "claude-sonnet-4-5-20250929" || res.Message.Text() != "Rome." {
		t.Errorf("DecodeResponse = %+v", res)
	}
	if res.FinishReason != llm.FinishStop || res.RawFinishReason != "end_turn" {
		t.Errorf("finish = %s (%s); want stop (end_turn)", res.FinishReason, res.RawFinishReason)
	}
	want := llm.Usage{InputTokens: 2112, OutputTokens: 6, CacheReadTokens: 2000, CacheWriteTokens: 100, Source: llm.UsageReported}
	if res.Usage != want {
		t.Errorf("Usage = %+v; want %+v", res.Usage, want)
	}
}

func TestDecodeResponseTools(t *testing.T) {
	res, err := anthropic.DecodeResponse(readTestdata(t, "response_tools.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Message.Parts
	if len(p) != 4 || p[0].Type != llm.PartReasoning || p[0].Signature != "EqQBCkYIBxgC" || p[1].Type != llm.PartRedactedReasoning || p[2].Text != "Checking the weather." {
		t.Fatalf("parts = %+v", p)
	}
	if c := p[3].ToolCall; c == nil || c.Name != "get_weather" || c.Arguments != `{"city":"Paris","unit":"celsius"}` {
		t.Errorf("tool call = %+v", c)
	}
	if res.FinishReason != llm.FinishToolCalls {
		t.Errorf("FinishReason = %s; want tool_calls", res.FinishReason)
	}
	for _, k := range []string{"content[2].citations", "content[3]", "container"} {
		if _, ok := res.Extra[k]; !ok {
			t.Errorf("Extra lacks %s: %v", k, keys(res.Extra))
		}
	}
}

// TestResponseRoundTrip: a response decoded then encoded is the same JSON.
func TestResponseRoundTrip(t *testing.T) {
	for _, name := range []string{"response_text.json", "response_tools.json"} {
		t.Run(name, func(t *testing.T) {
			in := readTestdata(t, name)
			res, err := anthropic.DecodeResponse(in)
			if err != nil {
				t.Fatal(err)
			}
			out, losses, err := anthropic.EncodeResponse(res)
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

func TestStopReasons(t *testing.T) {
	tests := []struct {
		raw  string
		want llm.FinishReason
	}{
		{"end_turn", llm.FinishStop},
		{"stop_sequence", llm.FinishStop},
		{"max_tokens", llm.FinishLength},
		{"model_context_window_exceeded", llm.FinishLength},
		{"tool_use", llm.FinishToolCalls},
		{"pause_turn", llm.FinishPause},
		{"refusal", llm.FinishRefusal},
		{"something_new", llm.FinishOther},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			body := `{"id":"m","type":"message","role":"assistant","model":"c","content":[],"stop_reason":"` + tt.raw + `","stop_sequence":"STOP","usage":{"input_tokens":1,"output_tokens":1}}`
			res, err := anthropic.DecodeResponse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if res.FinishReason != tt.want || res.RawFinishReason != tt.raw {
				t.Errorf("DecodeResponse(stop_reason %s) = %s; want %s", tt.raw, res.FinishReason, tt.want)
			}
			if res.StopSequence != "STOP" {
				t.Errorf("StopSequence = %q; want STOP", res.StopSequence)
			}
		})
	}
}

// TestEncodeStopReasons: the model's reasons of another format become
// Anthropic's; those it has no word for are reported.
func TestEncodeStopReasons(t *testing.T) {
	tests := []struct {
		reason  llm.FinishReason
		raw     string
		stopSeq string
		want    string
		lost    bool
	}{
		{llm.FinishStop, "stop", "", "end_turn", false},
		{llm.FinishStop, "stop", "END", "stop_sequence", false},
		{llm.FinishLength, "length", "", "max_tokens", false},
		{llm.FinishToolCalls, "tool_calls", "", "tool_use", false},
		{llm.FinishPause, "", "", "pause_turn", false},
		{llm.FinishRefusal, "", "", "refusal", false},
		{llm.FinishContentFilter, "content_filter", "", "refusal", true},
		{llm.FinishError, "", "", "end_turn", true},
		{llm.FinishOther, "SAFETY", "", "end_turn", true},
		{llm.FinishLength, "model_context_window_exceeded", "", "model_context_window_exceeded", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.reason)+"/"+tt.raw, func(t *testing.T) {
			res := &llm.Response{ID: "x", FinishReason: tt.reason, RawFinishReason: tt.raw, StopSequence: tt.stopSeq, ExtraFormat: llm.FormatOpenAI}
			body, losses, err := anthropic.EncodeResponse(res)
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonField(t, body, "stop_reason"); got != strconv.Quote(tt.want) {
				t.Errorf("stop_reason = %s; want %q", got, tt.want)
			}
			if hasLoss(losses, "stop_reason") != tt.lost {
				t.Errorf("losses = %v; want a stop_reason loss: %v", losses, tt.lost)
			}
		})
	}
}

// TestUsageFields: each of Anthropic's usage fields lands where the model
// counts it, and EncodeResponse writes it back.
func TestUsageFields(t *testing.T) {
	tests := []struct {
		name  string
		usage string
		want  llm.Usage
	}{
		{"input only", `{"input_tokens":10,"output_tokens":0}`, llm.Usage{InputTokens: 10}},
		{"output", `{"input_tokens":0,"output_tokens":7}`, llm.Usage{OutputTokens: 7}},
		{"cache write", `{"input_tokens":10,"cache_creation_input_tokens":5,"output_tokens":0}`, llm.Usage{InputTokens: 15, CacheWriteTokens: 5}},
		{"cache read", `{"input_tokens":10,"cache_read_input_tokens":40,"output_tokens":0}`, llm.Usage{InputTokens: 50, CacheReadTokens: 40}},
		{"null cache", `{"input_tokens":3,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":1}`, llm.Usage{InputTokens: 3, OutputTokens: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"id":"m","type":"message","role":"assistant","model":"c","content":[],"stop_reason":"end_turn","usage":` + tt.usage + `}`
			res, err := anthropic.DecodeResponse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if res.Usage != tt.want {
				t.Errorf("Usage = %+v; want %+v", res.Usage, tt.want)
			}
			u, ok := anthropic.ResponseUsage([]byte(body))
			if !ok || u != tt.want {
				t.Errorf("ResponseUsage = %+v, %v; want %+v", u, ok, tt.want)
			}
			out, _, err := anthropic.EncodeResponse(res)
			if err != nil {
				t.Fatal(err)
			}
			back, _ := anthropic.ResponseUsage(out)
			if back != tt.want {
				t.Errorf("usage after EncodeResponse = %+v; want %+v\n%s", back, tt.want, out)
			}
		})
	}
}

// TestEncodeResponseFromModel: a response of another format, with
// unsigned reasoning, a refusal and arguments that are not JSON.
func TestEncodeResponseFromModel(t *testing.T) {
	res := &llm.Response{
		ID: "chatcmpl-1", Model: "gpt-x",
		Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartReasoning, Text: "thinking"},
			{Type: llm.PartRefusal, Text: "I can't"},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c1", Name: "f", Arguments: `{"a":`}},
		}},
		FinishReason: llm.FinishToolCalls,
		Usage:        llm.Usage{InputTokens: 100, CacheReadTokens: 60, OutputTokens: 9},
		Extra:        map[string]json.RawMessage{"system_fingerprint": []byte(`"fp"`)},
		ExtraFormat:  llm.FormatOpenAI,
	}
	body, losses, err := anthropic.EncodeResponse(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"chatcmpl-1","type":"message","role":"assistant","model":"gpt-x","content":[
	 {"type":"thinking","thinking":"thinking","signature":""},
	 {"type":"text","text":"I can't"},
	 {"type":"tool_use","id":"c1","name":"f","input":{}}],
	 "stop_reason":"tool_use","stop_sequence":null,
	 "usage":{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":60,"output_tokens":9}}`
	jsonEqual(t, body, []byte(want))
	for _, f := range []string{"content[1]", "content[2].arguments", "system_fingerprint"} {
		if !hasLoss(losses, f) {
			t.Errorf("losses = %v; want one for %s", losses, f)
		}
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	for _, body := range []string{`{`, `{"type":"error","error":{"type":"api_error"}}`, `{"content":[5]}`} {
		if _, err := anthropic.DecodeResponse([]byte(body)); err == nil {
			t.Errorf("DecodeResponse(%s) = nil error; want one", body)
		}
	}
}
