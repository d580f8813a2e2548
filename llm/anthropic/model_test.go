package anthropic_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

func TestSetModel(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"model":"alias","max_tokens":5}`, `{"model":"claude-x","max_tokens":5}`},
		{`{ "max_tokens": 5, "model" : "alias" , "messages":[{"model":"inner"}]}`, `{ "max_tokens": 5, "model" : "claude-x" , "messages":[{"model":"inner"}]}`},
		{`{"messages":[{"model":"inner"}]}`, `{"model":"claude-x","messages":[{"model":"inner"}]}`},
		{`{}`, `{"model":"claude-x"}`},
		{` {"model":null}`, ` {"model":"claude-x"}`},
	}
	for _, tt := range tests {
		got, err := anthropic.SetModel([]byte(tt.in), "claude-x")
		if err != nil || string(got) != tt.want {
			t.Errorf("SetModel(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{``, `[]`, `{"model":`, `{"a":1,}`} {
		if _, err := anthropic.SetModel([]byte(bad), "m"); err == nil {
			t.Errorf("SetModel(%s) = nil error; want one", bad)
		}
	}
}

// TestRequestRoundTripSmall: bodies whose fields the model keeps in Extra
// come back as they were.
func TestRequestRoundTripSmall(t *testing.T) {
	for _, body := range []string{
		`{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"adaptive"}}`,
		`{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":"u","tier":"gold"}}`,
		`{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"disabled"},"tool_choice":{"type":"none"},"tools":[{"name":"f","input_schema":{"type":"object"},"strict":true}]}`,
		`{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"file","file_id":"file_01"}},{"type":"text","text":"summarize"}]}]}`,
		`{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"server_tool_use","id":"s","name":"web_search","input":{}}]}]}`,
		`{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"a","citations":[{"type":"x"}]}]}]}]}`,
	} {
		req, err := anthropic.DecodeRequest([]byte(body))
		if err != nil {
			t.Fatalf("DecodeRequest(%s) = %v", body, err)
		}
		out, losses, err := anthropic.EncodeRequest(req)
		if err != nil || len(losses) != 0 {
			t.Fatalf("EncodeRequest = %v, %v", losses, err)
		}
		jsonEqual(t, out, []byte(body))
	}
}

// TestStreamDecoderFieldOrder: a delta in another field order, or with
// escapes, decodes as the usual one does.
func TestStreamDecoderFieldOrder(t *testing.T) {
	start := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\"}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
	for _, data := range []string{
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a \"q\" \u00e9\n"}}`,
		`{"index":0,"delta":{"text":"a \"q\" \u00e9\n","type":"text_delta"},"type":"content_block_delta"}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a \"q\" é\u000a"}}`,
	} {
		s := anthropic.NewStreamDecoder(strings.NewReader(start + "event: content_block_delta\ndata: " + data + "\n\n"))
		var got string
		for {
			ev, err := s.Next()
			if err != nil {
				break
			}
			if ev.Type == llm.EventDelta {
				got = ev.Text
			}
		}
		if got != "a \"q\" é\n" {
			t.Errorf("delta %s: text %q; want %q", data, got, "a \"q\" é\n")
		}
	}
}

func TestStreamEncoderInterleaved(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartText, Text: "a"},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartText, Text: "b"},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartText, Text: "c"},
		{Type: llm.EventPartStart, Index: 2, PartType: llm.PartImage},
	}
	body, enc := encodeEvents(t, evs, nil)
	if n := bytes.Count(body, []byte("event: content_block_start")); n != 4 {
		t.Errorf("%d blocks; want 4\n%s", n, body)
	}
	if !hasLoss(enc.Losses(), "index 0") || !hasLoss(enc.Losses(), "index 2") {
		t.Errorf("Losses = %v; want the split and the image", enc.Losses())
	}
}
