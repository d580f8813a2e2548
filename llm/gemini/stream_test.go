package gemini

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// evString writes an event on one line, for comparisons.
func evString(ev llm.Event) string {
	var b strings.Builder
	b.WriteString(ev.Type.String())
	switch ev.Type {
	case llm.EventStart:
		fmt.Fprintf(&b, " %s %s", ev.ID, ev.Model)
	case llm.EventPartStart, llm.EventDelta, llm.EventPartEnd:
		fmt.Fprintf(&b, " %d %s", ev.Index, ev.PartType)
		if ev.PartType == llm.PartToolCall {
			fmt.Fprintf(&b, " #%d", ev.ToolIndex)
		}
		if ev.ToolCall != nil {
			fmt.Fprintf(&b, " %s %s", ev.ToolCall.ID, ev.ToolCall.Name)
		}
		if ev.Text != "" {
			fmt.Fprintf(&b, " %q", ev.Text)
		}
		if ev.Arguments != "" {
			fmt.Fprintf(&b, " %s", ev.Arguments)
		}
		if ev.Signature != "" {
			fmt.Fprintf(&b, " sig=%s", ev.Signature)
		}
	case llm.EventFinish:
		fmt.Fprintf(&b, " %s %s", ev.FinishReason, ev.RawFinishReason)
	case llm.EventUsage:
		u := ev.Usage
		fmt.Fprintf(&b, " in=%d out=%d cache=%d reasoning=%d %s", u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.ReasoningTokens, u.Source)
	case llm.EventError:
		fmt.Fprintf(&b, " %s %d %s", ev.Err.Kind, ev.Err.Status, ev.Err.Message)
	}
	return b.String()
}

// drain reads s to its end and returns its events and its final error.
func drain(t *testing.T, s llm.Stream) ([]string, error) {
	t.Helper()
	var out []string
	for range 1000 {
		ev, err := s.Next()
		if err != nil {
			return out, err
		}
		out = append(out, evString(ev))
	}
	t.Fatal("stream does not end")
	return nil, nil
}

func TestStreamDecoderRecorded(t *testing.T) {
	rows := []struct {
		file string
		want []string
		err  error
	}{
		{"stream_tools.sse", []string{
			"start r-1 gemini-2.5-flash",
			"part_start 0 reasoning",
			`delta 0 reasoning "The user asks about Lyon."`,
			`delta 0 reasoning " I should call the tool." sig=c2lnLTE=`,
			"part_end 0 reasoning",
			"part_start 1 text",
			`delta 1 text "Looking up"`,
			`delta 1 text " Lyon and Nice."`,
			"part_end 1 text",
			"part_start 2 tool_call #0 call_0 get_weather",
			`delta 2 tool_call #0 {"city":"Lyon"}`,
			"part_end 2 tool_call #0",
			"part_start 3 tool_call #1 fc-7 get_weather",
			`delta 3 tool_call #1 {"city":"Nice","days":[1,2]}`,
			"part_end 3 tool_call #1",
			"finish tool_calls STOP",
			"usage in=40 out=32 cache=16 reasoning=12 reported",
		}, io.EOF},
		{"stream_length.sse", []string{
			"start r-5 gemini-2.5-flash",
			"part_start 0 text",
			`delta 0 text "Short answer"`,
			`delta 0 text "."`,
			"part_end 0 text",
			"finish length MAX_TOKENS",
			"usage in=5 out=4 cache=0 reasoning=0 reported",
		}, io.EOF},
		{"stream_blocked.sse", []string{
			"start r-4 gemini-2.5-pro",
			"finish content_filter PROHIBITED_CONTENT",
			"usage in=9 out=0 cache=0 reasoning=0 reported",
		}, io.EOF},
		{"stream_cut.sse", []string{
			"start r-2 gemini-2.5-flash",
			"part_start 0 text",
			`delta 0 text "Once upon"`,
			`delta 0 text " a time"`,
			"part_end 0 text",
			"usage in=8 out=3 cache=0 reasoning=0 cut_short",
			"error server 0 gemini: stream ended without a finish reason",
		}, io.ErrUnexpectedEOF},
		{"stream_error.sse", []string{
			"start r-3 gemini-2.5-pro",
			"part_start 0 text",
			`delta 0 text "Hello"`,
			"part_end 0 text",
			"error unavailable 503 The model is overloaded. Please try again later.",
		}, nil},
	}
	for _, r := range rows {
		t.Run(r.file, func(t *testing.T) {
			got, err := drain(t, NewStreamDecoder(bytes.NewReader(readFixture(t, r.file))))
			for i := range got {
				got[i] = noSuffix(got[i])
			}
			if !equalStrings(got, r.want) {
				t.Errorf("events =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(r.want, "\n"))
			}
			var le *llm.Error
			switch {
			case r.err == nil:
				if !errors.As(err, &le) || le.Kind != llm.ErrUnavailable {
					t.Errorf("final error = %v; want the provider's *llm.Error", err)
				}
			case err != r.err:
				t.Errorf("final error = %v; want %v", err, r.err)
			}
		})
	}
}

func equalStrings(a, b []string) bool { return reflect.DeepEqual(a, b) }

// TestStreamDecoderEmpty: a body with no event at all is cut short too.
func TestStreamDecoderEmpty(t *testing.T) {
	got, err := drain(t, NewStreamDecoder(strings.NewReader("")))
	want := []string{"start  ", "usage in=0 out=0 cache=0 reasoning=0 cut_short", "error server 0 gemini: stream ended without a finish reason"}
	if !equalStrings(got, want) || err != io.ErrUnexpectedEOF {
		t.Errorf("events = %q, %v; want %q, unexpected EOF", got, err, want)
	}
}

func TestStreamDecoderMalformedChunk(t *testing.T) {
	got, err := drain(t, NewStreamDecoder(strings.NewReader("data: {\"candidates\": [\n\n")))
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.ErrServer || len(got) != 2 {
		t.Errorf("events %q, error %v; want start, error event and a server error", got, err)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestStreamDecoderClose(t *testing.T) {
	body := &closeRecorder{Reader: bytes.NewReader(readFixture(t, "stream_tools.sse"))}
	s := NewStreamDecoder(body)
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil || !body.closed {
		t.Errorf("Close() = %v, body closed %v; want nil, true", err, body.closed)
	}
}

// encodeAll feeds events to a StreamEncoder and returns what it wrote.
func encodeAll(t *testing.T, evs []llm.Event, closeErr error) (string, []llm.Loss) {
	t.Helper()
	rec := httptest.NewRecorder()
	e := NewStreamEncoder(sse.NewWriter(rec), &llm.Request{})
	for _, ev := range evs {
		if err := e.Encode(ev); err != nil {
			t.Fatalf("Encode(%s) = %v", evString(ev), err)
		}
	}
	if err := e.Close(closeErr); err != nil {
		t.Fatal(err)
	}
	return rec.Body.String(), e.Losses()
}

func collect(t *testing.T, s llm.Stream) []llm.Event {
	t.Helper()
	var evs []llm.Event
	for {
		ev, err := s.Next()
		if err != nil {
			return evs
		}
		evs = append(evs, ev)
	}
}

// TestStreamEncoderRoundTrip: a recorded stream decoded, encoded and
// decoded again adds up to the same response, signatures aside.
func TestStreamEncoderRoundTrip(t *testing.T) {
	evs := collect(t, NewStreamDecoder(bytes.NewReader(readFixture(t, "stream_tools.sse"))))
	out, losses := encodeAll(t, evs, nil)
	var a, b llm.Accumulator
	for _, ev := range evs {
		ev.Signature = "" // not sent: see Encode
		a.Add(ev)
	}
	for _, ev := range collect(t, NewStreamDecoder(strings.NewReader(out))) {
		b.Add(ev)
	}
	want, _ := a.Response()
	got, _ := b.Response()
	noSuffixes(want.Message.Parts)
	noSuffixes(got.Message.Parts)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("re-decoded response = %+v\nwant %+v\nstream:\n%s", got, want, out)
	}
	if len(losses) != 1 || losses[0].Field != "signature" {
		t.Errorf("losses = %v; want the signature", losses)
	}
}

// TestStreamEncoderWire checks the chunks written for another format's
// events: argument deltas gathered into one functionCall, finish and
// usage in the last chunk.
func TestStreamEncoderWire(t *testing.T) {
	call := &llm.ToolCall{ID: "call_Xy", Name: "get_weather"}
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "chatcmpl-1", Model: "gpt-x"},
		{Type: llm.EventPing},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartText},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartText, Text: "Hi \"you\"\n"},
		{Type: llm.EventPartEnd, Index: 0, PartType: llm.PartText},
		{Type: llm.EventPartStart, Index: 1, PartType: llm.PartToolCall, ToolCall: call},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartToolCall, Arguments: `{"ci`},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartToolCall, Arguments: `ty": "Lyon"}`},
		{Type: llm.EventPartEnd, Index: 1, PartType: llm.PartToolCall},
		{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls, RawFinishReason: "tool_calls"},
		{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 10, OutputTokens: 6, CacheReadTokens: 2, ReasoningTokens: 1}},
	}
	out, losses := encodeAll(t, evs, nil)
	want := ": \n\n" +
		`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi \"you\"\n"}]},"index":0}],"modelVersion":"gpt-x","responseId":"chatcmpl-1"}` + "\n\n" +
		`data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"call_Xy","name":"get_weather","args":{"city":"Lyon"}}}]},"index":0}],"modelVersion":"gpt-x","responseId":"chatcmpl-1"}` + "\n\n" +
		`data: {"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"cachedContentTokenCount":2,"thoughtsTokenCount":1,"totalTokenCount":16},"modelVersion":"gpt-x","responseId":"chatcmpl-1"}` + "\n\n"
	if out != want {
		t.Errorf("stream =\n%s\nwant\n%s", out, want)
	}
	if len(losses) != 0 {
		t.Errorf("losses = %v; want none", losses)
	}
}

func TestStreamEncoderErrors(t *testing.T) {
	// Close with an error writes Gemini's error chunk, which decodes as
	// the provider's error.
	out, _ := encodeAll(t, []llm.Event{{Type: llm.EventStart}}, &llm.Error{Kind: llm.ErrRateLimit, Message: "slow"})
	got, err := drain(t, NewStreamDecoder(strings.NewReader(out)))
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.ErrRateLimit || le.Message != "slow" {
		t.Errorf("decoded %q, %v; want a rate_limit error (stream %s)", got, err, out)
	}
	// An EventError writes the same and ends the stream.
	out, _ = encodeAll(t, []llm.Event{{Type: llm.EventError, Err: &llm.Error{Kind: llm.ErrServer, Message: "boom"}}}, nil)
	if want := `data: {"error":{"code":500,"message":"boom","status":"INTERNAL"}}` + "\n\n"; out != want {
		t.Errorf("stream = %q; want %q", out, want)
	}
	// Arguments that are not JSON cannot be written: the part's end
	// waits for more (calls may interleave), Close fails.
	rec := httptest.NewRecorder()
	e := NewStreamEncoder(sse.NewWriter(rec), nil)
	e.Encode(llm.Event{Type: llm.EventPartStart, PartType: llm.PartToolCall, ToolCall: &llm.ToolCall{Name: "f"}})
	e.Encode(llm.Event{Type: llm.EventDelta, PartType: llm.PartToolCall, Arguments: `{"a":`})
	if err := e.Encode(llm.Event{Type: llm.EventPartEnd, PartType: llm.PartToolCall}); err != nil {
		t.Errorf("Encode(PartEnd of a call not whole yet) = %v; want nil", err)
	}
	if err := e.Close(nil); err == nil {
		t.Error("Close with a call of bad arguments = nil; want an error")
	}
}

func TestStreamEncoderLosses(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventStart},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartRefusal},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartRefusal, Text: "I can't"},
		{Type: llm.EventPartEnd, Index: 0, PartType: llm.PartRefusal},
		{Type: llm.EventFinish, FinishReason: llm.FinishRefusal},
	}
	out, losses := encodeAll(t, evs, nil)
	if got := lossFields(losses); !reflect.DeepEqual(got, []string{"finish_reason", "part[0]"}) {
		t.Errorf("losses = %v; want finish_reason and part[0]", losses)
	}
	if !strings.Contains(out, `"text":"I can't"`) || !strings.Contains(out, `"finishReason":"SAFETY"`) {
		t.Errorf("stream = %s; want the refusal as text, finishReason SAFETY", out)
	}
}

func TestUsageScanner(t *testing.T) {
	rows := []struct {
		file string
		want llm.Usage
		ok   bool
	}{
		{"stream_tools.sse", llm.Usage{InputTokens: 40, OutputTokens: 32, CacheReadTokens: 16, ReasoningTokens: 12}, true},
		{"stream_cut.sse", llm.Usage{InputTokens: 8, OutputTokens: 3, Source: llm.UsageCutShort}, true},
		{"stream_error.sse", llm.Usage{Source: llm.UsageCutShort}, false},
	}
	for _, r := range rows {
		t.Run(r.file, func(t *testing.T) {
			var s UsageScanner
			rd := sse.NewReader(bytes.NewReader(readFixture(t, r.file)), 1<<20)
			for {
				ev, err := rd.Next()
				if err != nil {
					break
				}
				s.Scan(ev)
			}
			if u, ok := s.Usage(); u != r.want || ok != r.ok {
				t.Errorf("Usage() = %+v, %v; want %+v, %v", u, ok, r.want, r.ok)
			}
		})
	}
}

func TestResponseUsage(t *testing.T) {
	u, ok := ResponseUsage(readFixture(t, "response_tools.json"))
	want := llm.Usage{InputTokens: 125, OutputTokens: 75, CacheReadTokens: 64, ReasoningTokens: 45}
	if !ok || u != want {
		t.Errorf("ResponseUsage = %+v, %v; want %+v", u, ok, want)
	}
	// The key quoted inside text is escaped, and is not taken for usage.
	if u, ok := ResponseUsage([]byte(`{"candidates":[{"content":{"parts":[{"text":"\"usageMetadata\": {\"promptTokenCount\": 99}"}]}}]}`)); ok {
		t.Errorf("ResponseUsage(text mentioning usageMetadata) = %+v, true; want false", u)
	}
	if _, ok := ResponseUsage([]byte(`{"usageMetadata": 3}`)); ok {
		t.Error("ResponseUsage(malformed) = true; want false")
	}
}

func TestUsageScannerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	data := []byte(`{"candidates": [{"content": {"parts": [{"text": "x"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 40,"candidatesTokenCount": 20,"thoughtsTokenCount": 12,"totalTokenCount": 72,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 40}]},"modelVersion": "gemini-2.5-flash","responseId": "r-1"}`)
	var s UsageScanner
	ev := sse.Event{Data: data}
	if n := testing.AllocsPerRun(100, func() { s.Scan(ev) }); n != 0 {
		t.Errorf("Scan allocates %v times; want 0", n)
	}
	if u, _ := s.Usage(); u.InputTokens != 40 || u.OutputTokens != 32 {
		t.Errorf("Usage() = %+v", u)
	}
}

func TestSetModel(t *testing.T) {
	body := []byte(`{"contents":[]}`)
	if got, err := SetModel(body, "gemini-2.5-pro"); err != nil || string(got) != string(body) {
		t.Errorf("SetModel = %s, %v; want the body unchanged", got, err)
	}
	if _, err := SetModel([]byte(`{`), "m"); err == nil {
		t.Error("SetModel(malformed) = nil error")
	}
}

// A function call's args are the model's output: a key named
// usageMetadata inside them must not be read as the response's usage
// (a prompt can make the model write it, and the gateway bills by it).
func TestResponseUsageTopLevelOnly(t *testing.T) {
	body := `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"log","args":{"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1}}}}]},"finishReason":"STOP","index":0}],` +
		`"usageMetadata":{"promptTokenCount":9000,"candidatesTokenCount":500,"totalTokenCount":9500}}`
	u, ok := ResponseUsage([]byte(body))
	if !ok || u.InputTokens != 9000 || u.OutputTokens != 500 {
		t.Errorf("ResponseUsage = %+v, %v; want 9000 in, 500 out (the top-level usageMetadata)", u, ok)
	}
	var s UsageScanner
	s.Scan(sse.Event{Data: []byte(body)})
	if u, ok := s.Usage(); !ok || u.InputTokens != 9000 {
		t.Errorf("UsageScanner.Usage = %+v, %v; want 9000 in", u, ok)
	}
}

// A string value "usageMetadata" before the real key (a text delta that
// is that word, an argument value) must not hide the usage.
func TestResponseUsageAfterStringValue(t *testing.T) {
	body := `{"candidates":[{"content":{"role":"model","parts":[{"text":"usageMetadata"}]},"finishReason":"STOP","index":0}],` +
		`"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":3,"totalTokenCount":15}}`
	u, ok := ResponseUsage([]byte(body))
	if !ok || u.InputTokens != 12 || u.OutputTokens != 3 {
		t.Errorf("ResponseUsage = %+v, %v; want 12 in, 3 out", u, ok)
	}
}

// OpenAI streams parallel tool calls interleaved by index; its decoder
// then emits part events that interleave (llm.Stream allows it). The
// Gemini encoder must write each call with its own arguments.
func TestStreamEncoderInterleavedCalls(t *testing.T) {
	rec := httptest.NewRecorder()
	enc := NewStreamEncoder(sse.NewWriter(rec), &llm.Request{})
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "r1", Model: "gpt-x"},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0, ToolCall: &llm.ToolCall{ID: "call_a1", Name: "weather"}},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0, Arguments: `{"city":`},
		{Type: llm.EventPartEnd, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0},
		{Type: llm.EventPartStart, Index: 1, PartType: llm.PartToolCall, ToolIndex: 1, ToolCall: &llm.ToolCall{ID: "call_b2", Name: "time"}},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartToolCall, ToolIndex: 1, Arguments: `{"tz":"CET"}`},
		{Type: llm.EventPartEnd, Index: 1, PartType: llm.PartToolCall, ToolIndex: 1},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0, Arguments: `"Lyon"}`},
		{Type: llm.EventPartEnd, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0},
		{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls},
	}
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatalf("Encode(%v part %d) = %v; want the interleaved calls written whole", ev.Type, ev.Index, err)
		}
	}
	if err := enc.Close(nil); err != nil {
		t.Fatal(err)
	}
	out := rec.Body.String()
	for _, want := range []string{`"name":"weather","args":{"city":"Lyon"}`, `"name":"time","args":{"tz":"CET"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("stream lacks %s:\n%s", want, out)
		}
	}
}

// With candidateCount > 1 a stream's chunks carry candidates by index; the
// decoder reads only candidate 0 and must not mix another one's text in.
func TestStreamDecoderCandidate0Only(t *testing.T) {
	stream := "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"A\"}]},\"index\":0}]}\r\n\r\n" +
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"B\"}]},\"index\":1}]}\r\n\r\n" +
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2,\"totalTokenCount\":5}}\r\n\r\n"
	s := NewStreamDecoder(strings.NewReader(stream))
	var acc llm.Accumulator
	for {
		ev, err := s.Next()
		if err != nil {
			break
		}
		acc.Add(ev)
	}
	res, _ := acc.Response()
	if got := res.Message.Text(); got != "A" {
		t.Errorf("text = %q; want %q (candidate 1's text is not candidate 0's)", got, "A")
	}
}

// A chunk of many empty text parts carries nothing, yet each becomes an
// event of some 200 bytes: a 32 MiB chunk of them costs gigabytes.
func TestStreamDecoderEmptyParts(t *testing.T) {
	var b strings.Builder
	b.WriteString(`data: {"candidates":[{"content":{"role":"model","parts":[`)
	for i := 0; i < 10000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"text":""}`)
	}
	b.WriteString("]},\"finishReason\":\"STOP\",\"index\":0}]}\n\n")
	s := NewStreamDecoder(strings.NewReader(b.String()))
	n := 0
	for {
		if _, err := s.Next(); err != nil {
			break
		}
		n++
	}
	if n > 10 {
		t.Errorf("a chunk of 10000 empty text parts gave %d events; want a handful (empty deltas carry nothing)", n)
	}
}
