package gemini_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
	"github.com/vivremotion/gateway/llm/gemini"
	"github.com/vivremotion/gateway/llm/openai"
)

// TestFromOpenAI: an OpenAI client's tool conversation reaches Gemini
// with every result named after its call.
func TestFromOpenAI(t *testing.T) {
	req, err := openai.DecodeRequest([]byte(`{
	  "model": "gemini-2.5-flash",
	  "messages": [
	    {"role": "system", "content": "Be brief."},
	    {"role": "user", "content": [{"type": "text", "text": "Weather in Lyon?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
	    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_Zq1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"}}]},
	    {"role": "tool", "tool_call_id": "call_Zq1", "content": "21 C, sunny"}
	  ],
	  "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
	  "reasoning_effort": "low",
	  "user": "u-42"
	}`))
	if err != nil {
		t.Fatal(err)
	}
	body, losses, err := gemini.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Contents []struct {
			Role  string `json:"role"`
			Parts []struct {
				InlineData       *struct{ MimeType string } `json:"inlineData"`
				FunctionCall     *struct{ ID, Name string } `json:"functionCall"`
				FunctionResponse *struct {
					ID, Name string
					Response json.RawMessage
				} `json:"functionResponse"`
			} `json:"parts"`
		} `json:"contents"`
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Contents) != 3 {
		t.Fatalf("EncodeRequest = %s, %v; want three contents", body, err)
	}
	if p := got.Contents[0].Parts[1].InlineData; p == nil || p.MimeType != "image/png" {
		t.Errorf("image = %+v; want inlineData image/png", p)
	}
	fc, fr := got.Contents[1].Parts[0].FunctionCall, got.Contents[2].Parts[0].FunctionResponse
	if fc == nil || fc.ID != "call_Zq1" || fr == nil || fr.Name != "get_weather" || fr.ID != "call_Zq1" || string(fr.Response) != `{"result":"21 C, sunny"}` {
		t.Errorf("call %+v, result %+v; want OpenAI's id on both, the result named get_weather", fc, fr)
	}
	if fields := lossFields(losses); !slices.Contains(fields, "user") || !slices.Contains(fields, "reasoning_effort") {
		t.Errorf("losses = %v; want user and reasoning_effort", losses)
	}
}

// TestFromAnthropic: Anthropic's thinking signatures are not sent to
// Gemini, and are reported.
func TestFromAnthropic(t *testing.T) {
	req, err := anthropic.DecodeRequest([]byte(`{
	  "model": "gemini-2.5-pro", "max_tokens": 1000,
	  "messages": [
	    {"role": "user", "content": "Weather in Lyon?"},
	    {"role": "assistant", "content": [
	      {"type": "thinking", "thinking": "Use the tool.", "signature": "EqQBCkYIBxgCKkA"},
	      {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Lyon"}}]},
	    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "{\"temp\": 21}"}]}
	  ]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	body, losses, err := gemini.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	if strings.Contains(s, "EqQBCkYIBxgCKkA") {
		t.Errorf("EncodeRequest = %s; want no Anthropic signature", s)
	}
	if !strings.Contains(s, `"functionResponse":{"id":"toolu_01","name":"get_weather","response":{"temp":21}}`) {
		t.Errorf("EncodeRequest = %s; want the result named and as an object", s)
	}
	if !slices.Contains(lossFields(losses), "messages[1].parts[0].signature") {
		t.Errorf("losses = %v; want the signature", losses)
	}
}

func lossFields(losses []llm.Loss) []string {
	var out []string
	for _, l := range losses {
		out = append(out, l.Field)
	}
	return out
}
