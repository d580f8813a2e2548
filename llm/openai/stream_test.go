package openai_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
	"github.com/vivremotion/gateway/llm/sse"
)

// show writes an event compactly, for comparing streams.
func show(ev llm.Event) string {
	switch ev.Type {
	case llm.EventStart:
		return fmt.Sprintf("start %s %s", ev.ID, ev.Model)
	case llm.EventPartStart:
		if ev.ToolCall != nil {
			return fmt.Sprintf("part_start %d %s tool %d %s %s", ev.Index, ev.PartType, ev.ToolIndex, ev.ToolCall.ID, ev.ToolCall.Name)
		}
		return fmt.Sprintf("part_start %d %s", ev.Index, ev.PartType)
	case llm.EventDelta:
		if ev.PartType == llm.PartToolCall {
			return fmt.Sprintf("delta %d tool %d %q", ev.Index, ev.ToolIndex, ev.Arguments)
		}
		return fmt.Sprintf("delta %d %s %q", ev.Index, ev.PartType, ev.Text)
	case llm.EventPartEnd:
		return fmt.Sprintf("part_end %d %s", ev.Index, ev.PartType)
	case llm.EventFinish:
		return fmt.Sprintf("finish %s %s", ev.FinishReason, ev.RawFinishReason)
	case llm.EventUsage:
		u := ev.Usage
		return fmt.Sprintf("usage in %d out %d cached %d reasoning %d %s", u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.ReasoningTokens, u.Source)
	case llm.EventError:
		return fmt.Sprintf("error %s %q", ev.Err.Kind, ev.Err.Message)
	}
	return ev.Type.String()
}

// drain reads s to its end and returns its events and final error.
func drain(t *testing.T, s llm.Stream) ([]llm.Event, error) {
	t.Helper()
	var evs []llm.Event
	for range 1000 {
		ev, err := s.Next()
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	t.Fatal("stream does not end")
	return nil, nil
}

func shows(evs []llm.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = show(ev)
	}
	return out
}

func replay(t *testing.T, name string) ([]string, error, []llm.Event) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := openai.NewStreamDecoder(f)
	defer s.Close()
	evs, err := drain(t, s)
	return shows(evs), err, evs
}

func TestStreamDecoderRecorded(t *testing.T) {
	tests := []struct {
		file string
		want []string
		err  error
	}{
		{"stream_text.sse", []string{
			"start chatcmpl-s1 gpt-4o-mini",
			"part_start 0 text", `delta 0 text "Lima"`, `delta 0 text " is the capital."`, "part_end 0 text",
			"finish stop stop",
			"usage in 19 out 7 cached 0 reasoning 0 reported",
		}, io.EOF},
		{"stream_tools.sse", []string{
			"start chatcmpl-t1 gpt-4o",
			"part_start 0 tool_call tool 0 call_a get_weather", `delta 0 tool 0 "{\"ci"`, `delta 0 tool 0 "ty\": \"Nice\"}"`, "part_end 0 tool_call",
			"part_start 1 tool_call tool 1 call_b get_weather", `delta 1 tool 1 "{\"city\": \"Lima\"}"`, "part_end 1 tool_call",
			"finish tool_calls tool_calls",
			"usage in 80 out 40 cached 64 reasoning 0 reported",
		}, io.EOF},
		{"stream_reasoning.sse", []string{
			"start r1 deepseek-reasoner",
			"part_start 0 reasoning", `delta 0 reasoning "Peru's capital"`, `delta 0 reasoning " is Lima."`, "part_end 0 reasoning",
			"part_start 1 text", `delta 1 text "Lima"`, "part_end 1 text",
			"finish length length",
			"usage in 12 out 9 cached 0 reasoning 8 reported",
		}, io.EOF},
		{"stream_refusal.sse", []string{
			"start f1 gpt-4o",
			"part_start 0 refusal", `delta 0 refusal "I can't help with that."`, "part_end 0 refusal",
			"finish content_filter content_filter",
		}, io.EOF},
		{"stream_error.sse", []string{
			"start e1 gpt-4o",
			"part_start 0 text", `delta 0 text "Par"`, "part_end 0 text",
			`error server "The server had an error while processing your request."`,
		}, io.EOF},
		{"stream_cut.sse", []string{
			"start c1 gpt-4o",
			"part_start 0 text", `delta 0 text "Hel"`, "part_end 0 text",
			"finish stop stop",
			"usage in 5 out 1 cached 0 reasoning 0 reported",
			"usage in 5 out 1 cached 0 reasoning 0 cut_short",
			`error server "openai: the stream ended before [DONE]: unexpected EOF"`,
		}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err, _ := replay(t, tt.file)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events of %s:\n%s\nwant\n%s", tt.file, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err != tt.err {
				t.Errorf("final error = %v; want %v", err, tt.err)
			}
		})
	}
}

// TestStreamDecoderAccumulates: the events of a recorded stream add up to
// the response a non-streamed call would have given.
func TestStreamDecoderAccumulates(t *testing.T) {
	_, _, evs := replay(t, "stream_tools.sse")
	var acc llm.Accumulator
	for _, ev := range evs {
		acc.Add(ev)
	}
	res, e := acc.Response()
	if e != nil {
		t.Fatal(e)
	}
	calls := res.Message.ToolCalls()
	if len(calls) != 2 || *calls[0] != (llm.ToolCall{ID: "call_a", Name: "get_weather", Arguments: `{"city": "Nice"}`}) ||
		*calls[1] != (llm.ToolCall{ID: "call_b", Name: "get_weather", Arguments: `{"city": "Lima"}`}) {
		t.Errorf("accumulated calls = %+v %+v", calls[0], calls[1])
	}
	if res.FinishReason != llm.FinishToolCalls || res.Usage.CacheReadTokens != 64 {
		t.Errorf("accumulated = %+v", res)
	}
}

func TestStreamDecoderEdges(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		err      error
	}{
		{"empty", "", []string{`error server "openai: the stream ended before [DONE]: unexpected EOF"`}, io.ErrUnexpectedEOF},
		{"clean EOF without DONE", "data: {\"id\":\"a\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n",
			[]string{"start a m", "part_start 0 text", `delta 0 text "x"`, `error server "openai: the stream ended before [DONE]: unexpected EOF"`}, io.ErrUnexpectedEOF},
		{"malformed chunk", "data: {nope\n\n", []string{`error server "openai: malformed stream chunk: invalid character 'n' looking for beginning of object key string"`}, nil},
		{"other choices ignored", "data: {\"id\":\"a\",\"model\":\"m\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"y\"}},{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n",
			[]string{"start a m", "part_start 0 text", `delta 0 text "x"`, "part_end 0 text"}, io.EOF},
		{"reasoning field", "data: {\"id\":\"a\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"r\"}}]}\n\ndata: [DONE]\n\n",
			[]string{"start a m", "part_start 0 reasoning", `delta 0 reasoning "r"`, "part_end 0 reasoning"}, io.EOF},
		{"typed ping", "event: ping\ndata:\n\ndata: [DONE]\n\n", []string{"ping"}, io.EOF},
		{"interleaved calls", "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c0\",\"function\":{\"name\":\"f\",\"arguments\":\"{\"}},{\"index\":1,\"id\":\"c1\",\"function\":{\"name\":\"g\",\"arguments\":\"{\"}}]}}]}\n\n" +
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"}\"}}]}}]}\n\ndata: [DONE]\n\n",
			[]string{"start  ", "part_start 0 tool_call tool 0 c0 f", `delta 0 tool 0 "{"`, "part_end 0 tool_call", "part_start 1 tool_call tool 1 c1 g", `delta 1 tool 1 "{"`, "part_end 1 tool_call", `delta 0 tool 0 "}"`, "part_end 0 tool_call"}, io.EOF},
		{"groq x_groq usage", "data: {\"id\":\"a\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"x_groq\":{\"id\":\"req_1\",\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}}\n\ndata: [DONE]\n\n",
			[]string{"start a m", "finish stop stop", "usage in 7 out 2 cached 0 reasoning 0 reported"}, io.EOF},
		{"mistral usage in the finish chunk", "data: {\"id\":\"a\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: [DONE]\n\n",
			[]string{"start a m", "finish stop stop", "usage in 3 out 1 cached 0 reasoning 0 reported"}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openai.NewStreamDecoder(strings.NewReader(tt.in))
			evs, err := drain(t, s)
			if got := shows(evs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.err != nil && err != tt.err {
				t.Errorf("final error = %v; want %v", err, tt.err)
			}
			if tt.err == nil && err == nil {
				t.Error("final error = nil")
			}
		})
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestStreamDecoderClose(t *testing.T) {
	body := &closeRecorder{Reader: bytes.NewReader(readFile(t, "stream_text.sse"))}
	s := openai.NewStreamDecoder(body)
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !body.closed {
		t.Error("Close did not close the body")
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next after Close = %v; want io.EOF", err)
	}
}

// encodeEvents writes evs through a StreamEncoder and returns the bytes.
func encodeEvents(t *testing.T, req *llm.Request, evs []llm.Event, closeErr error) (string, *openai.StreamEncoder) {
	t.Helper()
	rec := httptest.NewRecorder()
	enc := openai.NewStreamEncoder(sse.NewWriter(rec), req)
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(closeErr); err != nil {
		t.Fatal(err)
	}
	return rec.Body.String(), enc
}

// TestStreamEncoderRoundTrip: each recorded stream decoded, encoded and
// decoded again gives the same events.
func TestStreamEncoderRoundTrip(t *testing.T) {
	for _, name := range []string{"stream_text.sse", "stream_tools.sse", "stream_reasoning.sse", "stream_refusal.sse", "stream_error.sse"} {
		t.Run(name, func(t *testing.T) {
			want, _, evs := replay(t, name)
			out, enc := encodeEvents(t, &llm.Request{Stream: true, StreamUsage: true}, evs, nil)
			got, _ := drain(t, openai.NewStreamDecoder(strings.NewReader(out)))
			if !reflect.DeepEqual(shows(got), want) {
				t.Errorf("re-decoded:\n%s\nwant\n%s\nwire:\n%s", strings.Join(shows(got), "\n"), strings.Join(want, "\n"), out)
			}
			if len(enc.Losses()) != 0 {
				t.Errorf("Losses = %v", enc.Losses())
			}
		})
	}
}

func TestStreamEncoderWire(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "chatcmpl-1", Model: "gpt-4o"},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartText},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartText, Text: "Hi \"there\"\n"},
		{Type: llm.EventPartEnd, Index: 0},
		{Type: llm.EventPartStart, Index: 1, PartType: llm.PartToolCall, ToolIndex: 0, ToolCall: &llm.ToolCall{ID: "call_1", Name: "f"}},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartToolCall, ToolIndex: 0, Arguments: `{"a":1}`},
		{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls},
		{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 9, OutputTokens: 4, CacheReadTokens: 2, ReasoningTokens: 1}},
	}
	t.Run("without include_usage", func(t *testing.T) {
		out, _ := encodeEvents(t, &llm.Request{Stream: true}, evs, nil)
		lines := strings.Split(strings.TrimSpace(out), "\n\n")
		if len(lines) != 6 {
			t.Fatalf("%d events; want 6:\n%s", len(lines), out)
		}
		var created string
		for i, l := range lines[:5] {
			if !strings.HasPrefix(l, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":`) || !strings.Contains(l, `"model":"gpt-4o"`) {
				t.Errorf("chunk %d = %s; want the same id, object and model", i, l)
			}
			c := l[strings.Index(l, `"created":`):strings.Index(l, `,"model"`)]
			if created != "" && c != created {
				t.Errorf("chunk %d created %s; want %s", i, c, created)
			}
			created = c
			if strings.Contains(l, "usage") {
				t.Errorf("chunk %d = %s mentions usage", i, l)
			}
		}
		if lines[5] != "data: [DONE]" {
			t.Errorf("last event = %s; want [DONE]", lines[5])
		}
		if !strings.Contains(lines[1], `"delta":{"content":"Hi \"there\"\n"}`) || !strings.Contains(lines[2], `"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]`) ||
			!strings.Contains(lines[4], `"finish_reason":"tool_calls"`) {
			t.Errorf("chunks:\n%s", out)
		}
	})
	t.Run("with include_usage", func(t *testing.T) {
		out, _ := encodeEvents(t, &llm.Request{Stream: true, StreamUsage: true}, evs, nil)
		lines := strings.Split(strings.TrimSpace(out), "\n\n")
		if len(lines) != 7 {
			t.Fatalf("%d events; want 7:\n%s", len(lines), out)
		}
		want := `"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}}`
		if !strings.HasSuffix(lines[5], want) || !strings.HasSuffix(lines[1], `,"usage":null}`) {
			t.Errorf("usage chunk = %s; want suffix %s", lines[5], want)
		}
		var s openai.UsageScanner
		r := sse.NewReader(strings.NewReader(out), 0)
		for {
			ev, err := r.Next()
			if err != nil {
				break
			}
			s.Scan(ev)
		}
		if u, ok := s.Usage(); !ok || u != (llm.Usage{InputTokens: 9, OutputTokens: 4, CacheReadTokens: 2, ReasoningTokens: 1}) {
			t.Errorf("UsageScanner = %+v %v", u, ok)
		}
	})
	t.Run("error", func(t *testing.T) {
		out, _ := encodeEvents(t, &llm.Request{Stream: true}, evs[:3], &llm.Error{Kind: llm.ErrRateLimit, Message: "slow down"})
		if !strings.HasSuffix(out, "data: {\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_error\",\"param\":null,\"code\":null}}\n\n") || strings.Contains(out, "[DONE]") {
			t.Errorf("stream closed with an error:\n%s", out)
		}
		withEvent := append(evs[:3:3], llm.Event{Type: llm.EventError, Err: &llm.Error{Kind: llm.ErrServer, Message: "upstream died"}}, llm.Event{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 1}})
		out, _ = encodeEvents(t, &llm.Request{Stream: true, StreamUsage: true}, withEvent, nil)
		if !strings.HasSuffix(out, "data: {\"error\":{\"message\":\"upstream died\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n") {
			t.Errorf("stream after an error event:\n%s\nwant nothing after the error", out)
		}
		out, _ = encodeEvents(t, nil, evs[:1], errors.New("boom"))
		if !strings.Contains(out, `{"error":{"message":"boom","type":"server_error"`) {
			t.Errorf("stream closed with a plain error:\n%s", out)
		}
	})
}

func TestStreamEncoderLosses(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "msg_1", Model: "claude"},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartReasoning},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartReasoning, Text: "hmm"},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartReasoning, Signature: "sig"},
		{Type: llm.EventPartStart, Index: 1, PartType: llm.PartRedactedReasoning},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartRedactedReasoning, Signature: "opaque"},
		{Type: llm.EventFinish, FinishReason: llm.FinishPause, RawFinishReason: "pause_turn"},
		{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 1, CacheWriteTokens: 5}},
	}
	out, enc := encodeEvents(t, nil, evs, nil)
	ls := enc.Losses()
	hasLoss(t, ls, "parts[0].signature", "signatures")
	hasLoss(t, ls, "parts[1]", "redacted_reasoning")
	hasLoss(t, ls, "finish_reason", "pause (pause_turn) sent as stop")
	hasLoss(t, ls, "usage.cache_write_tokens", "no equivalent")
	if strings.Contains(out, "opaque") || strings.Contains(out, "sig") {
		t.Errorf("signatures written:\n%s", out)
	}
}

func TestUsageScannerCutShort(t *testing.T) {
	var s openai.UsageScanner
	for _, l := range []string{
		`{"id":"x","choices":[{"index":0,"delta":{"content":"the \"usage\": {\"prompt_tokens\": 999}"}}],"usage":null}`,
		`{"id":"x","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`,
	} {
		s.Scan(sseEvent(l))
	}
	u, ok := s.Usage()
	if !ok || u != (llm.Usage{InputTokens: 5, OutputTokens: 2, Source: llm.UsageCutShort}) {
		t.Errorf("Usage() = %+v, %v; want 5/2 cut short", u, ok)
	}
	var none openai.UsageScanner
	none.Scan(sseEvent(`{"choices":[{"delta":{"content":"usage"}}],"usage":null}`))
	if _, ok := none.Usage(); ok {
		t.Error("Usage() of a stream without usage = ok")
	}
}
