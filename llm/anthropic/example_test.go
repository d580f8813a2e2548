package anthropic_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

func ExampleNew() {
	// A stand-in for api.anthropic.com; leave BaseURL empty in production.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5",
			"content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","stop_sequence":null,
			"usage":{"input_tokens":8,"cache_read_input_tokens":4,"output_tokens":3}}`)
	}))
	defer srv.Close()

	p, err := anthropic.New(anthropic.Config{APIKey: "sk-ant-example", BaseURL: srv.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := p.Chat(context.Background(), &llm.Request{
		Model:    "claude-haiku-4-5",
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Hi"}}}},
		Seed:     new(int64), // Anthropic has no seed: reported as a loss
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Message.Text(), res.FinishReason)
	fmt.Println("input", res.Usage.InputTokens, "cached", res.Usage.CacheReadTokens, "output", res.Usage.OutputTokens)
	fmt.Println(res.Losses)
	// Output:
	// Hello! stop
	// input 12 cached 4 output 3
	// [seed: no equivalent in anthropic]
}

func ExampleDecodeRequest() {
	req, err := anthropic.DecodeRequest([]byte(`{"model":"claude-sonnet-4-5","max_tokens":256,
		"system":"Be brief.","messages":[{"role":"user","content":"Hi"}],"service_tier":"auto"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Messages[0].Role, req.Messages[0].Text())
	fmt.Println(req.Messages[1].Role, req.Messages[1].Text())
	fmt.Println(string(req.Extra["service_tier"]))
	// Output:
	// system Be brief.
	// user Hi
	// "auto"
}

func ExampleNewStreamEncoder() {
	rec := httptest.NewRecorder()
	// sse.NewWriter(rec) in a handler, after sse.SetHeaders(w.Header()).
	enc := anthropic.NewStreamEncoder(sseWriter(rec), &llm.Request{Model: "claude-haiku-4-5"})
	enc.Encode(llm.Event{Type: llm.EventStart, ID: "msg_1"})
	enc.Encode(llm.Event{Type: llm.EventDelta, PartType: llm.PartText, Text: "Hi"})
	enc.Encode(llm.Event{Type: llm.EventFinish, FinishReason: llm.FinishStop})
	enc.Close(nil)
	fmt.Print(rec.Body.String())
	// Output:
	// event: message_start
	// data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-haiku-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}
	//
	// event: content_block_start
	// data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
	//
	// event: content_block_delta
	// data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}
	//
	// event: content_block_stop
	// data: {"type":"content_block_stop","index":0}
	//
	// event: message_delta
	// data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}
	//
	// event: message_stop
	// data: {"type":"message_stop"}
}

func ExampleNewStreamDecoder() {
	body := strings.NewReader(`event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[],"usage":{"input_tokens":9,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}

event: message_stop
data: {"type":"message_stop"}

`)
	s := anthropic.NewStreamDecoder(body)
	defer s.Close()
	for {
		ev, err := s.Next()
		if err != nil {
			fmt.Println(err) // io.EOF after message_stop
			return
		}
		switch ev.Type {
		case llm.EventDelta:
			fmt.Println(ev.Type, ev.Text)
		case llm.EventUsage:
			fmt.Println(ev.Type, ev.Usage.InputTokens, ev.Usage.OutputTokens)
		default:
			fmt.Println(ev.Type)
		}
	}
	// Output:
	// start
	// usage 9 1
	// part_start
	// delta Hi
	// part_end
	// finish
	// usage 9 2
	// EOF
}
