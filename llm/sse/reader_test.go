package sse_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/vivremotion/gateway/llm/sse"
)

// ev builds an expected event.
func ev(typ, data string) sse.Event { return sse.Event{Type: typ, Data: []byte(data)} }

// withID returns e with ID set.
func withID(e sse.Event, id string) sse.Event { e.ID = id; return e }

// withRetry returns e with Retry set.
func withRetry(e sse.Event, d time.Duration) sse.Event { e.Retry, e.HasRetry = d, true; return e }

// readAll reads every event of src with a Reader bounded by maxEvent, and
// checks that the error that ends it stays.
func readAll(t *testing.T, src io.Reader, maxEvent int) ([]sse.Event, error) {
	t.Helper()
	r := sse.NewReader(src, maxEvent)
	var evs []sse.Event
	for {
		e, err := r.Next()
		if err != nil {
			if _, again := r.Next(); again != err {
				t.Errorf("Next after %v = %v; want the same error", err, again)
			}
			return evs, err
		}
		if e.Data == nil {
			t.Errorf("Next() = event with nil Data; want non-nil")
		}
		evs = append(evs, e.Clone())
	}
}

// chunkings are the ways a stream is cut into Reads in the table tests;
// splits at every byte boundary are added by checkStream.
var chunkings = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"onebyte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"dataerr", iotest.DataErrReader},
}

// checkStream reads input in every chunking, and split in two at every
// byte, and checks the events and the final error.
func checkStream(t *testing.T, input string, maxEvent int, want []sse.Event, wantErr error) {
	t.Helper()
	check := func(how string, src io.Reader) {
		t.Helper()
		got, err := readAll(t, src, maxEvent)
		if !errors.Is(err, wantErr) {
			t.Errorf("%s: Next() error = %v; want %v", how, err, wantErr)
		}
		if !equalEvents(got, want) {
			t.Errorf("%s: events = %s; want %s", how, fmtEvents(got), fmtEvents(want))
		}
	}
	for _, c := range chunkings {
		check(c.name, c.wrap(strings.NewReader(input)))
	}
	for i := 1; i < len(input); i++ {
		check(fmt.Sprintf("split at %d", i),
			io.MultiReader(strings.NewReader(input[:i]), strings.NewReader(input[i:])))
	}
}

func equalEvents(a, b []sse.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || !bytes.Equal(a[i].Data, b[i].Data) || a[i].ID != b[i].ID ||
			a[i].Retry != b[i].Retry || a[i].HasRetry != b[i].HasRetry {
			return false
		}
	}
	return true
}

func fmtEvents(evs []sse.Event) string {
	var b strings.Builder
	b.WriteString("[")
	for i, e := range evs {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "{type=%q data=%q id=%q", e.Type, e.Data, e.ID)
		if e.HasRetry {
			fmt.Fprintf(&b, " retry=%v", e.Retry)
		}
		b.WriteString("}")
	}
	b.WriteString("]")
	return b.String()
}

func TestReader(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []sse.Event
		err   error
	}{
		// The examples of the WHATWG HTML standard.
		{"spec messages", "data: This is the first message.\n\ndata: This is the second message, it\ndata: has two lines.\n\ndata: This is the third message.\n\n",
			[]sse.Event{ev("", "This is the first message."), ev("", "This is the second message, it\nhas two lines."), ev("", "This is the third message.")}, io.EOF},
		{"spec types", "event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n",
			[]sse.Event{ev("add", "73857293"), ev("remove", "2153"), ev("add", "113411")}, io.EOF},
		{"spec ids", ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
			[]sse.Event{withID(ev("", "first event"), "1"), ev("", "second event"), ev("", " third event")}, io.EOF},
		{"spec ids cut", ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n",
			[]sse.Event{withID(ev("", "first event"), "1"), ev("", "second event")}, io.ErrUnexpectedEOF},
		{"spec empty data", "data\n\ndata\ndata\n\ndata:", []sse.Event{ev("", ""), ev("", "\n")}, io.ErrUnexpectedEOF},
		{"spec space", "data:test\n\ndata: test\n\n", []sse.Event{ev("", "test"), ev("", "test")}, io.EOF},

		// Line ends.
		{"crlf", "event: a\r\ndata: 1\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n", []sse.Event{ev("a", "1\n2"), ev("", "3")}, io.EOF},
		{"cr", "event: a\rdata: 1\rdata: 2\r\rdata: 3\r\r", []sse.Event{ev("a", "1\n2"), ev("", "3")}, io.EOF},
		{"mixed", "data: 1\rdata: 2\r\ndata: 3\n\r\ndata: 4\r\n\n", []sse.Event{ev("", "1\n2\n3"), ev("", "4")}, io.EOF},
		{"lf cr", "data: 1\n\rdata: 2\n\n", []sse.Event{ev("", "1"), ev("", "2")}, io.EOF},
		{"cr cr lf", "data: 1\r\r\ndata: 2\n\n", []sse.Event{ev("", "1"), ev("", "2")}, io.EOF},
		{"blank lines", "\n\r\n\r\n\ndata: 1\n\n\n\n", []sse.Event{ev("", "1")}, io.EOF},

		// Byte order mark.
		{"bom", "\xEF\xBB\xBFdata: 1\n\n", []sse.Event{ev("", "1")}, io.EOF},
		{"bom only", "\xEF\xBB\xBF", nil, io.EOF},
		{"two boms", "\xEF\xBB\xBF\xEF\xBB\xBFdata: 1\n\n", nil, io.EOF},
		{"partial bom", "\xEF\xBBdata: 1\n\n", nil, io.EOF},
		{"bom later", "data: 1\n\n\xEF\xBB\xBFdata: 2\n\n", []sse.Event{ev("", "1")}, io.EOF},
		{"bom prefix cut", "\xEF\xBB", nil, io.ErrUnexpectedEOF},

		// Comments and fields.
		{"comments", ": hello\ndata: 1\n: between\ndata: 2\n:\n\n", []sse.Event{ev("", "1\n2")}, io.EOF},
		{"comments only", ": keep-alive\n\n: keep-alive\n\n", nil, io.EOF},
		{"comment at end", "data: 1\n\n: bye", []sse.Event{ev("", "1")}, io.EOF},
		{"no space", "event:a\ndata:1\n\n", []sse.Event{ev("a", "1")}, io.EOF},
		{"two spaces", "data:  1 \n\n", []sse.Event{ev("", " 1 ")}, io.EOF},
		{"colon in value", "data: a: b\n\n", []sse.Event{ev("", "a: b")}, io.EOF},
		{"no colon", "data\nevent\n\n", []sse.Event{ev("", "")}, io.EOF},
		{"unknown field", "foo: bar\ndata: 1\nfoo\n\n", []sse.Event{ev("", "1")}, io.EOF},
		{"case matters", "Data: 1\nEVENT: a\n\n", nil, io.EOF},
		{"space before colon", "data : 1\n\n", nil, io.EOF},
		{"last type wins", "event: a\nevent: b\ndata: 1\n\n", []sse.Event{ev("b", "1")}, io.EOF},
		{"type resets", "event: a\ndata: 1\n\ndata: 2\n\n", []sse.Event{ev("a", "1"), ev("", "2")}, io.EOF},
		{"trailing data newline", "data: 1\ndata\n\n", []sse.Event{ev("", "1\n")}, io.EOF},
		{"nul in data", "data: a\x00b\n\n", []sse.Event{ev("", "a\x00b")}, io.EOF},

		// Typed events without data are dispatched; untyped ones are not.
		{"type only", "event: ping\n\n", []sse.Event{ev("ping", "")}, io.EOF},
		{"empty type", "event:\n\n", nil, io.EOF},
		{"empty type data", "event:\ndata: 1\n\n", []sse.Event{ev("", "1")}, io.EOF},
		{"id only", "id: 1\n\n", nil, io.EOF},

		// id.
		{"id persists", "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
			[]sse.Event{withID(ev("", "a"), "1"), withID(ev("", "b"), "1"), ev("", "c")}, io.EOF},
		{"id nul", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
			[]sse.Event{withID(ev("", "a"), "1"), withID(ev("", "b"), "1")}, io.EOF},
		{"id without dispatch", "id: 7\n\ndata: a\n\n", []sse.Event{withID(ev("", "a"), "7")}, io.EOF},
		{"id space kept", "id:  7 \ndata: a\n\n", []sse.Event{withID(ev("", "a"), " 7 ")}, io.EOF},

		// retry.
		{"retry", "retry: 1500\ndata: a\n\n", []sse.Event{withRetry(ev("", "a"), 1500*time.Millisecond)}, io.EOF},
		{"retry zero", "retry: 0\ndata: a\n\n", []sse.Event{withRetry(ev("", "a"), 0)}, io.EOF},
		{"retry leading zeros", "retry: 0010\ndata: a\n\n", []sse.Event{withRetry(ev("", "a"), 10*time.Millisecond)}, io.EOF},
		{"retry persists", "retry: 10\n\ndata: a\n\nretry: x\ndata: b\n\n",
			[]sse.Event{withRetry(ev("", "a"), 10*time.Millisecond), withRetry(ev("", "b"), 10*time.Millisecond)}, io.EOF},
		{"retry not digits", "retry: 15x\ndata: a\n\nretry: -1\ndata: b\n\nretry: 1.5\ndata: c\n\nretry:  10\ndata: d\n\nretry:\ndata: e\n\nretry: 0x10\ndata: f\n\n",
			[]sse.Event{ev("", "a"), ev("", "b"), ev("", "c"), ev("", "d"), ev("", "e"), ev("", "f")}, io.EOF},
		{"retry huge", "retry: 99999999999999999999999999\ndata: a\n\n", []sse.Event{withRetry(ev("", "a"), 1<<63-1)}, io.EOF},

		// The end of the stream.
		{"empty", "", nil, io.EOF},
		{"cut in line", "data: 1\n\ndata: 2", []sse.Event{ev("", "1")}, io.ErrUnexpectedEOF},
		{"cut after line", "data: 1\n\ndata: 2\n", []sse.Event{ev("", "1")}, io.ErrUnexpectedEOF},
		{"cut after cr", "data: 1\r", nil, io.ErrUnexpectedEOF},
		{"cut after type", "event: a\n", nil, io.ErrUnexpectedEOF},
		{"cut after id", "id: 1\n", nil, io.ErrUnexpectedEOF},
		{"cut in name", "da", nil, io.ErrUnexpectedEOF},
		{"ends with blank", "data: 1\n\n\n", []sse.Event{ev("", "1")}, io.EOF},
		{"ends with cr blank", "data: 1\r\r", []sse.Event{ev("", "1")}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStream(t, tt.input, 0, tt.want, tt.err)
		})
	}
}

// TestReaderProviders reads the streams that the providers' documentation
// shows.
func TestReaderProviders(t *testing.T) {
	openai := mustRead(t, "testdata/openai.txt")
	anthropic := mustRead(t, "testdata/anthropic.txt")
	// Gemini's alt=sse stream ends its lines with CRLF.
	gemini := "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hello\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 4,\"candidatesTokenCount\": 1,\"totalTokenCount\": 5},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n" +
		"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" there!\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 4,\"candidatesTokenCount\": 3,\"totalTokenCount\": 7},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n"

	t.Run("openai", func(t *testing.T) {
		evs, err := readAll(t, bytes.NewReader(openai), 0)
		if err != io.EOF || len(evs) != 4 {
			t.Fatalf("read = %d events, %v; want 4, EOF", len(evs), err)
		}
		for _, e := range evs[:3] {
			if e.Type != "" || !bytes.HasPrefix(e.Data, []byte(`{"id":"chatcmpl-123",`)) || !bytes.HasSuffix(e.Data, []byte("}]}")) {
				t.Errorf("event = {type=%q data=%q}; want an untyped chunk", e.Type, e.Data)
			}
		}
		if string(evs[3].Data) != "[DONE]" {
			t.Errorf("last event data = %q; want [DONE]", evs[3].Data)
		}
		checkChunkings(t, openai, evs)
	})
	t.Run("anthropic", func(t *testing.T) {
		evs, err := readAll(t, bytes.NewReader(anthropic), 0)
		wantTypes := []string{"message_start", "content_block_start", "ping", "content_block_delta",
			"content_block_delta", "content_block_stop", "message_delta", "message_stop"}
		if err != io.EOF || len(evs) != len(wantTypes) {
			t.Fatalf("read = %d events, %v; want %d, EOF", len(evs), err, len(wantTypes))
		}
		for i, e := range evs {
			if e.Type != wantTypes[i] || !bytes.HasPrefix(e.Data, []byte(`{"type": "`+wantTypes[i]+`"`)) {
				t.Errorf("event %d = {type=%q data=%q}; want type %q and its data", i, e.Type, e.Data, wantTypes[i])
			}
		}
		checkChunkings(t, anthropic, evs)
	})
	t.Run("gemini", func(t *testing.T) {
		evs, err := readAll(t, strings.NewReader(gemini), 0)
		if err != io.EOF || len(evs) != 2 {
			t.Fatalf("read = %d events, %v; want 2, EOF", len(evs), err)
		}
		for _, e := range evs {
			if e.Type != "" || bytes.ContainsAny(e.Data, "\r\n") || !bytes.HasPrefix(e.Data, []byte(`{"candidates"`)) {
				t.Errorf("event = {type=%q data=%q}; want an untyped one-line chunk", e.Type, e.Data)
			}
		}
		checkChunkings(t, []byte(gemini), evs)
	})
}

// checkChunkings checks that every chunking of input reads as want.
func checkChunkings(t *testing.T, input []byte, want []sse.Event) {
	t.Helper()
	checkStream(t, string(input), 0, want, io.EOF)
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReaderDataAliases shows the documented lifetime of Event.Data: the
// next call may overwrite it, and Clone keeps it.
func TestReaderDataAliases(t *testing.T) {
	r := sse.NewReader(strings.NewReader("data: first\n\ndata: other\n\n"), 0)
	e1, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	kept := e1.Clone()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if string(kept.Data) != "first" {
		t.Errorf("Clone().Data after Next = %q; want %q", kept.Data, "first")
	}
	if string(e1.Data) == "first" {
		t.Errorf("Data after Next = %q; want it overwritten (it aliases the buffer)", e1.Data)
	}
}

// TestReaderTooLarge checks the bound on one event, at its edge.
func TestReaderTooLarge(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		maxEvent int
		want     []sse.Event
		err      error
	}{
		// "data: 12\n" is 9 bytes; "event: a\n" is 9 more.
		{"at bound", "data: 12\n\n", 9, []sse.Event{ev("", "12")}, io.EOF},
		{"past bound", "data: 12\n\n", 8, nil, sse.ErrTooLarge},
		{"crlf counts one", "data: 12\r\n\r\n", 9, []sse.Event{ev("", "12")}, io.EOF},
		{"lines add up", "event: a\ndata: 12\n\n", 17, nil, sse.ErrTooLarge},
		{"lines at bound", "event: a\ndata: 12\n\n", 18, []sse.Event{ev("a", "12")}, io.EOF},
		{"per event", "data: 12\n\ndata: 34\n\ndata: 56\n\n", 9, []sse.Event{ev("", "12"), ev("", "34"), ev("", "56")}, io.EOF},
		{"after good events", "data: 12\n\ndata: 345\n\n", 9, []sse.Event{ev("", "12")}, sse.ErrTooLarge},
		{"comments not counted", ": 12345\n: 12345\n: 12345\ndata: 12\n\n", 9, []sse.Event{ev("", "12")}, io.EOF},
		{"comment on top of data", "data: 12\n: 1\n\n", 9, nil, sse.ErrTooLarge},
		{"long comment", ": 1234567890\n\n", 9, nil, sse.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStream(t, tt.input, tt.maxEvent, tt.want, tt.err)
		})
	}
}

// endless is a stream that never ends a line.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestReaderTooLargeBounded checks that a line that never ends, and an
// event of endless lines, stop the Reader with its memory within the
// bound.
func TestReaderTooLargeBounded(t *testing.T) {
	for _, maxEvent := range []int{1, 100, 4096, 100_000, 0} {
		limit := maxEvent
		if limit == 0 {
			limit = sse.DefaultMaxEvent
		}
		t.Run(fmt.Sprintf("line/%d", maxEvent), func(t *testing.T) {
			src := &endless{}
			r := sse.NewReader(src, maxEvent)
			if _, err := r.Next(); err != sse.ErrTooLarge {
				t.Fatalf("Next() error = %v; want ErrTooLarge", err)
			}
			if c := sse.BufferCap(r); c > limit+sse.ReadRoom {
				t.Errorf("buffer = %d bytes; want at most %d", c, limit+sse.ReadRoom)
			}
			if src.n > int64(limit+sse.ReadRoom) {
				t.Errorf("read %d bytes; want at most %d", src.n, limit+sse.ReadRoom)
			}
		})
		t.Run(fmt.Sprintf("lines/%d", maxEvent), func(t *testing.T) {
			line := "data: " + strings.Repeat("x", 50) + "\n"
			r := sse.NewReader(io.MultiReader(strings.NewReader(strings.Repeat(line, limit/len(line)+2)), &endless{}), maxEvent)
			if _, err := r.Next(); err != sse.ErrTooLarge {
				t.Fatalf("Next() error = %v; want ErrTooLarge", err)
			}
			if c := sse.BufferCap(r); c > limit+sse.ReadRoom {
				t.Errorf("buffer = %d bytes; want at most %d", c, limit+sse.ReadRoom)
			}
		})
	}
}

// TestReaderSourceError checks that an error of the source ends the Reader
// after the events before it.
func TestReaderSourceError(t *testing.T) {
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader("data: 1\n\ndata: 2"), iotest.ErrReader(boom))
	evs, err := readAll(t, src, 0)
	if err != boom || !equalEvents(evs, []sse.Event{ev("", "1")}) {
		t.Errorf("read = %s, %v; want [1], boom", fmtEvents(evs), err)
	}
}

// emptyReads returns 0, nil forever.
type emptyReads struct{}

func (emptyReads) Read([]byte) (int, error) { return 0, nil }

func TestReaderNoProgress(t *testing.T) {
	if _, err := sse.NewReader(emptyReads{}, 0).Next(); err != io.ErrNoProgress {
		t.Errorf("Next() error = %v; want io.ErrNoProgress", err)
	}
}

func TestNewReaderNegative(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewReader(r, -1) did not panic")
		}
	}()
	sse.NewReader(strings.NewReader(""), -1)
}
