package anthropic_test

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
	"github.com/vivremotion/gateway/llm/sse"
)

// drain reads s to its end and returns its events and the error that
// ended it (nil for io.EOF).
func drain(t *testing.T, s llm.Stream) ([]llm.Event, error) {
	t.Helper()
	var evs []llm.Event
	for range 1000 {
		ev, err := s.Next()
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	t.Fatal("stream does not end")
	return nil, nil
}

// step is the essence of an event, for comparison.
type step struct {
	Type      llm.EventType
	Index     int
	PartType  llm.PartType
	ToolIndex int
	Text      string
}

func steps(evs []llm.Event) []step {
	out := make([]step, len(evs))
	for i, ev := range evs {
		s := step{Type: ev.Type, Index: ev.Index, PartType: ev.PartType, ToolIndex: ev.ToolIndex}
		switch {
		case ev.ToolCall != nil:
			s.Text = ev.ToolCall.ID + " " + ev.ToolCall.Name
		case ev.Text != "":
			s.Text = ev.Text
		case ev.Arguments != "":
			s.Text = ev.Arguments
		case ev.Signature != "":
			s.Text = "sig:" + ev.Signature
		case ev.Type == llm.EventFinish:
			s.Text = string(ev.FinishReason) + "/" + ev.RawFinishReason
		}
		out[i] = s
	}
	return out
}

func TestStreamDecoderTools(t *testing.T) {
	evs, err := drain(t, anthropic.NewStreamDecoder(bytes.NewReader(readTestdata(t, "stream_tool.sse"))))
	if err != nil {
		t.Fatal(err)
	}
	R, T, C := llm.PartReasoning, llm.PartText, llm.PartToolCall
	want := []step{
		{Type: llm.EventStart},
		{Type: llm.EventUsage},
		{Type: llm.EventPartStart, Index: 0, PartType: R},
		{Type: llm.EventDelta, Index: 0, PartType: R, Text: "The user wants "},
		{Type: llm.EventDelta, Index: 0, PartType: R, Text: "the weather."},
		{Type: llm.EventDelta, Index: 0, PartType: R, Text: "sig:EqQBCgIYAhIM1gbcDa9GJwZA"},
		{Type: llm.EventPartEnd, Index: 0, PartType: R},
		{Type: llm.EventPing},
		{Type: llm.EventPartStart, Index: 1, PartType: T},
		{Type: llm.EventDelta, Index: 1, PartType: T, Text: "Okay, let me check"},
		{Type: llm.EventDelta, Index: 1, PartType: T, Text: " the weather."},
		{Type: llm.EventPartEnd, Index: 1, PartType: T},
		{Type: llm.EventPartStart, Index: 2, PartType: C, Text: "toolu_01T1x1fJ34qAmk2tNTrN7Up6 get_weather"},
		{Type: llm.EventDelta, Index: 2, PartType: C},
		{Type: llm.EventDelta, Index: 2, PartType: C, Text: `{"city": "San`},
		{Type: llm.EventDelta, Index: 2, PartType: C, Text: ` Francisco, CA"}`},
		{Type: llm.EventPartEnd, Index: 2, PartType: C},
		{Type: llm.EventPartStart, Index: 3, PartType: C, ToolIndex: 1, Text: "toolu_02 get_time"},
		{Type: llm.EventDelta, Index: 3, PartType: C, ToolIndex: 1, Text: `{"tz":"PST"}`},
		{Type: llm.EventPartEnd, Index: 3, PartType: C, ToolIndex: 1},
		{Type: llm.EventFinish, Text: "tool_calls/tool_use"},
		{Type: llm.EventUsage},
	}
	if got := steps(evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("events =\n%v\nwant\n%v", got, want)
	}
	if evs[0].ID != "msg_014p7gG3wDgGV9EUtLvnow3U" || evs[0].Model != "claude-sonnet-4-5-20250929" {
		t.Errorf("start = %q %q", evs[0].ID, evs[0].Model)
	}
	if u := *evs[1].Usage; u.InputTokens != 682 || u.CacheReadTokens != 200 || u.CacheWriteTokens != 10 {
		t.Errorf("start usage = %+v; want 682 in (200 read, 10 written)", u)
	}
	last := *evs[len(evs)-1].Usage
	want2 := llm.Usage{InputTokens: 682, OutputTokens: 89, CacheReadTokens: 200, CacheWriteTokens: 10}
	if last != want2 {
		t.Errorf("final usage = %+v; want %+v", last, want2)
	}
	var acc llm.Accumulator
	for _, ev := range evs {
		acc.Add(ev)
	}
	res, _ := acc.Response()
	if calls := res.Message.ToolCalls(); len(calls) != 2 || calls[0].Arguments != `{"city": "San Francisco, CA"}` {
		t.Errorf("accumulated calls = %+v", calls)
	}
}

func TestStreamDecoderError(t *testing.T) {
	evs, err := drain(t, anthropic.NewStreamDecoder(bytes.NewReader(readTestdata(t, "stream_error.sse"))))
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.ErrOverloaded || e.Message != "Overloaded" {
		t.Fatalf("Next error = %v; want the overloaded error", err)
	}
	lastEv := evs[len(evs)-1]
	if lastEv.Type != llm.EventError || lastEv.Err.Kind != llm.ErrOverloaded {
		t.Errorf("last event = %+v; want EventError overloaded", lastEv)
	}
}

func TestStreamDecoderCutShort(t *testing.T) {
	evs, err := drain(t, anthropic.NewStreamDecoder(bytes.NewReader(readTestdata(t, "stream_cut.sse"))))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Next error = %v; want io.ErrUnexpectedEOF", err)
	}
	n := len(evs)
	if n < 2 || evs[n-2].Type != llm.EventUsage || evs[n-2].Usage.Source != llm.UsageCutShort || evs[n-2].Usage.InputTokens != 30 {
		t.Fatalf("events end %v; want usage cut short with 30 input tokens", steps(evs[max(0, n-2):]))
	}
	if evs[n-1].Type != llm.EventError {
		t.Errorf("last event = %v; want EventError", evs[n-1].Type)
	}
	// A clean end of the body without message_stop is cut short too.
	body := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
	if _, err := drain(t, anthropic.NewStreamDecoder(strings.NewReader(body))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("stream without message_stop: error %v; want io.ErrUnexpectedEOF", err)
	}
}

func TestStreamDecoderMalformed(t *testing.T) {
	body := "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n"
	_, err := drain(t, anthropic.NewStreamDecoder(strings.NewReader(body)))
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.ErrServer {
		t.Errorf("delta before its block: error %v; want a server error", err)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestStreamDecoderClose(t *testing.T) {
	body := &closeRecorder{Reader: bytes.NewReader(readTestdata(t, "stream_tool.sse"))}
	s := anthropic.NewStreamDecoder(body)
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil || !body.closed {
		t.Errorf("Close = %v, body closed %v; want nil, true", err, body.closed)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next after Close = %v; want io.EOF", err)
	}
}

// encodeEvents writes evs through a StreamEncoder and returns the body.
func encodeEvents(t *testing.T, evs []llm.Event, closeErr error) ([]byte, *anthropic.StreamEncoder) {
	t.Helper()
	rec := httptest.NewRecorder()
	enc := anthropic.NewStreamEncoder(sse.NewWriter(rec), &llm.Request{Model: "claude-req"})
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(closeErr); err != nil {
		t.Fatal(err)
	}
	return rec.Body.Bytes(), enc
}

// sseTypes returns the event names of body, checking that each data is
// JSON whose type is the event name.
func sseTypes(t *testing.T, body []byte) []string {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(body), 0)
	var out []string
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonField(t, ev.Data, "type"); got != `"`+ev.Type+`"` {
			t.Errorf("event %s has data type %s", ev.Type, got)
		}
		out = append(out, ev.Type)
	}
}

// TestStreamRoundTrip: a recorded stream decoded, encoded, and decoded
// again gives the same events.
func TestStreamRoundTrip(t *testing.T) {
	evs, err := drain(t, anthropic.NewStreamDecoder(bytes.NewReader(readTestdata(t, "stream_tool.sse"))))
	if err != nil {
		t.Fatal(err)
	}
	body, enc := encodeEvents(t, evs, nil)
	if l := enc.Losses(); len(l) != 0 {
		t.Errorf("Losses = %v; want none", l)
	}
	back, err := drain(t, anthropic.NewStreamDecoder(bytes.NewReader(body)))
	if err != nil {
		t.Fatalf("re-decoding: %v\n%s", err, body)
	}
	// The encoder drops empty deltas and sends the usage once at the end.
	var want []step
	for _, s := range steps(evs) {
		if !(s.Type == llm.EventDelta && s.Text == "") {
			want = append(want, s)
		}
	}
	if got := steps(back); !reflect.DeepEqual(got, want) {
		t.Fatalf("events after a round trip =\n%v\nwant\n%v", got, want)
	}
	if back[0].ID != evs[0].ID || back[0].Model != evs[0].Model || *back[len(back)-1].Usage != *evs[len(evs)-1].Usage {
		t.Errorf("start or usage changed: %+v %+v", back[0], back[len(back)-1].Usage)
	}
}

// TestStreamEncoderFromModel: events of another format, without part ends
// nor a tool call's start, still make a valid Anthropic sequence.
func TestStreamEncoderFromModel(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "chatcmpl-9"},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartText, Text: "Hi"},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartText, Text: " there"},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Name: "f"}, Arguments: `{"a"`},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartToolCall, Arguments: `:1}`},
		{Type: llm.EventDelta, Index: 2, PartType: llm.PartToolCall, Arguments: `{}`},
		{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls, RawFinishReason: "tool_calls"},
		{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 20, CacheReadTokens: 5, OutputTokens: 7}},
	}
	body, _ := encodeEvents(t, evs, nil)
	want := []string{"message_start",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_stop",
		"message_delta", "message_stop"}
	if got := sseTypes(t, body); !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %v; want %v\n%s", got, want, body)
	}
	back, err := drain(t, anthropic.NewStreamDecoder(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	var acc llm.Accumulator
	for _, ev := range back {
		acc.Add(ev)
	}
	res, _ := acc.Response()
	if res.ID != "chatcmpl-9" || res.Model != "claude-req" || res.Message.Text() != "Hi there" || res.FinishReason != llm.FinishToolCalls {
		t.Errorf("decoded back = %+v", res)
	}
	calls := res.Message.ToolCalls()
	if len(calls) != 2 || calls[0].ID != "call_1" || calls[0].Arguments != `{"a":1}` || calls[1].ID == "" {
		t.Errorf("calls = %+v; want call_1 {\"a\":1} and a made-up id", calls)
	}
	if u := res.Usage; u.InputTokens != 20 || u.CacheReadTokens != 5 || u.OutputTokens != 7 {
		t.Errorf("usage = %+v", u)
	}
}

func TestStreamEncoderError(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "m1", Model: "c"},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartText},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartText, Text: "He"},
		{Type: llm.EventError, Err: &llm.Error{Kind: llm.ErrOverloaded, Message: "busy"}},
	}
	body, _ := encodeEvents(t, evs, nil)
	want := []string{"message_start", "content_block_start", "content_block_delta", "error"}
	if got := sseTypes(t, body); !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %v; want %v", got, want)
	}
	if !bytes.Contains(body, []byte(`"type":"overloaded_error","message":"busy"`)) {
		t.Errorf("error event lacks overloaded_error busy:\n%s", body)
	}
	body, _ = encodeEvents(t, evs[:3], errors.New("upstream reset"))
	if got := sseTypes(t, body); got[len(got)-1] != "error" {
		t.Errorf("Close(err) events = %v; want an error last", got)
	}
}

func TestStreamEncoderRedactedAndPing(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "m1", Model: "c"},
		{Type: llm.EventPing},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartRedactedReasoning},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartRedactedReasoning, Signature: "abc"},
		{Type: llm.EventPartEnd, Index: 0, PartType: llm.PartRedactedReasoning},
		{Type: llm.EventPartStart, Index: 1, PartType: llm.PartRefusal},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartRefusal, Text: "no"},
		{Type: llm.EventFinish, FinishReason: llm.FinishRefusal},
	}
	body, enc := encodeEvents(t, evs, nil)
	want := []string{"message_start", "ping", "content_block_start", "content_block_stop", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}
	if got := sseTypes(t, body); !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %v; want %v\n%s", got, want, body)
	}
	if !bytes.Contains(body, []byte(`{"type":"redacted_thinking","data":"abc"}`)) || !bytes.Contains(body, []byte(`"stop_reason":"refusal"`)) {
		t.Errorf("body lacks the redacted block or the refusal:\n%s", body)
	}
	if !hasLoss(enc.Losses(), "index 1") {
		t.Errorf("Losses = %v; want the refusal sent as text", enc.Losses())
	}
}

func TestUsageScanner(t *testing.T) {
	r := sse.NewReader(bytes.NewReader(readTestdata(t, "stream_tool.sse")), 0)
	var s anthropic.UsageScanner
	if _, ok := s.Usage(); ok {
		t.Error("Usage of an empty scanner: ok = true")
	}
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		s.Scan(ev)
	}
	u, ok := s.Usage()
	want := llm.Usage{InputTokens: 682, OutputTokens: 89, CacheReadTokens: 200, CacheWriteTokens: 10}
	if !ok || u != want {
		t.Errorf("Usage = %+v, %v; want %+v", u, ok, want)
	}
}
