package sse_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/llm/sse"
)

// writeStep is one call on a Writer.
type writeStep struct {
	call string // "event", "data" or "comment"
	typ  string
	data string
}

func runWriter(t *testing.T, steps []writeStep) (string, error) {
	t.Helper()
	rec := httptest.NewRecorder()
	w := sse.NewWriter(rec)
	var err error
	for _, s := range steps {
		switch s.call {
		case "event":
			err = w.WriteEvent(s.typ, []byte(s.data))
		case "data":
			err = w.WriteData([]byte(s.data))
		case "comment":
			err = w.WriteComment(s.data)
		}
		if err != nil {
			break
		}
	}
	return rec.Body.String(), err
}

func TestWriter(t *testing.T) {
	tests := []struct {
		name  string
		steps []writeStep
		want  string
		err   error
	}{
		{"data", []writeStep{{"data", "", `{"a":1}`}}, "data: {\"a\":1}\n\n", nil},
		{"typed", []writeStep{{"event", "message_start", `{"a":1}`}}, "event: message_start\ndata: {\"a\":1}\n\n", nil},
		{"untyped event", []writeStep{{"event", "", "x"}}, "data: x\n\n", nil},
		{"lf", []writeStep{{"data", "", "a\nb"}}, "data: a\ndata: b\n\n", nil},
		{"crlf and cr", []writeStep{{"data", "", "a\r\nb\rc\n\rd"}}, "data: a\ndata: b\ndata: c\ndata: \ndata: d\n\n", nil},
		{"empty", []writeStep{{"data", "", ""}}, "data: \n\n", nil},
		{"trailing newline", []writeStep{{"data", "", "a\n"}}, "data: a\ndata: \n\n", nil},
		{"type only", []writeStep{{"event", "ping", ""}}, "event: ping\ndata: \n\n", nil},
		{"comment", []writeStep{{"comment", "", "keep-alive"}}, ": keep-alive\n\n", nil},
		{"empty comment", []writeStep{{"comment", "", ""}}, ": \n\n", nil},
		{"comment lines", []writeStep{{"comment", "", "a\nb\r\nc"}}, ": a\n: b\n: c\n\n", nil},
		{"injection", []writeStep{{"data", "", "x\n\nevent: evil\ndata: y"}}, "data: x\ndata: \ndata: event: evil\ndata: data: y\n\n", nil},
		{"sequence", []writeStep{{"event", "a", "1"}, {"comment", "", "k"}, {"data", "", "2"}}, "event: a\ndata: 1\n\n: k\n\ndata: 2\n\n", nil},
		{"type with lf", []writeStep{{"event", "a\nb", "1"}}, "", sse.ErrInvalidType},
		{"type with cr", []writeStep{{"event", "a\r", "1"}}, "", sse.ErrInvalidType},
		{"usable after invalid type", []writeStep{{"event", "a\r\ndata: evil", "1"}, {"data", "", "2"}}, "data: 2\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The last step's error is what the table states; an invalid
			// type in the middle is checked by its own step below.
			rec := httptest.NewRecorder()
			w := sse.NewWriter(rec)
			var err error
			for _, s := range tt.steps {
				switch s.call {
				case "event":
					err = w.WriteEvent(s.typ, []byte(s.data))
				case "data":
					err = w.WriteData([]byte(s.data))
				case "comment":
					err = w.WriteComment(s.data)
				}
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("last write error = %v; want %v", err, tt.err)
			}
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("body = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestWriterInjection checks that no data payload adds fields or events: a
// Reader gets back one untyped event with the payload, line ends
// normalized to LF.
func TestWriterInjection(t *testing.T) {
	for _, payload := range []string{
		"x\n\nevent: evil\ndata: y",
		"x\r\rid: 666\r\rretry: 1",
		"x\r\n\r\n: comment\r\nevent: evil",
		"\n\n\n",
	} {
		out, err := runWriter(t, []writeStep{{"data", "", payload}})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := readAll(t, strings.NewReader(out), 0)
		want := []sse.Event{ev("", normalize(payload))}
		if err != io.EOF || !equalEvents(evs, want) {
			t.Errorf("WriteData(%q) read back = %s, %v; want %s, EOF", payload, fmtEvents(evs), err, fmtEvents(want))
		}
	}
}

// normalize turns CRLF and CR into LF, as a round trip does.
func normalize(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// TestWriterRoundTrip writes random events, with every kind of line end in
// the payloads, and reads them back in several chunkings.
func TestWriterRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab :\n\r\x00é{}\""
	types := []string{"", "message_start", "content_block_delta", "ping", " spaced", "a:b", "é"}
	rec := httptest.NewRecorder()
	w := sse.NewWriter(rec)
	var want []sse.Event
	for range 300 {
		n := rng.IntN(40)
		var b strings.Builder
		for range n {
			b.WriteRune([]rune(alphabet)[rng.IntN(len([]rune(alphabet)))])
		}
		typ := types[rng.IntN(len(types))]
		if rng.IntN(5) == 0 {
			if err := w.WriteComment(b.String()); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := w.WriteEvent(typ, []byte(b.String())); err != nil {
			t.Fatal(err)
		}
		want = append(want, ev(typ, normalize(b.String())))
	}
	stream := rec.Body.Bytes()
	for _, c := range chunkings {
		evs, err := readAll(t, c.wrap(bytes.NewReader(stream)), 0)
		if err != io.EOF || !equalEvents(evs, want) {
			t.Errorf("%s: read back %d events, %v; want %d, EOF (first difference at %d)", c.name, len(evs), err, len(want), firstDiff(evs, want))
		}
	}
}

func firstDiff(a, b []sse.Event) int {
	for i := range min(len(a), len(b)) {
		if !equalEvents(a[i:i+1], b[i:i+1]) {
			return i
		}
	}
	return min(len(a), len(b))
}

// failingWriter is a ResponseWriter whose writes fail after n bytes.
type failingWriter struct {
	httptest.ResponseRecorder
	left int
	err  error
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		return 0, f.err
	}
	f.left -= len(p)
	return f.ResponseRecorder.Write(p)
}

// TestWriterStaysFailed checks that an error of the underlying writer is
// returned and then returned again by every later call.
func TestWriterStaysFailed(t *testing.T) {
	boom := errors.New("client gone")
	fw := &failingWriter{ResponseRecorder: *httptest.NewRecorder(), left: len("data: 1\n\n"), err: boom}
	w := sse.NewWriter(fw)
	if err := w.WriteData([]byte("1")); err != nil {
		t.Fatalf("first WriteData = %v; want nil", err)
	}
	if err := w.WriteData([]byte("2")); err != boom {
		t.Fatalf("second WriteData = %v; want %v", err, boom)
	}
	fw.left = 1 << 20 // the writer would work again; the Writer stays failed
	for name, call := range map[string]func() error{
		"WriteData":    func() error { return w.WriteData([]byte("3")) },
		"WriteEvent":   func() error { return w.WriteEvent("a", []byte("3")) },
		"WriteComment": func() error { return w.WriteComment("k") },
	} {
		if err := call(); err != boom {
			t.Errorf("%s after failure = %v; want %v", name, err, boom)
		}
	}
	if got := fw.Body.String(); got != "data: 1\n\n" {
		t.Errorf("body = %q; want only the first event", got)
	}
}

// noFlush is a ResponseWriter that cannot flush.
type noFlush struct{ w http.ResponseWriter }

func (n noFlush) Header() http.Header         { return n.w.Header() }
func (n noFlush) Write(p []byte) (int, error) { return n.w.Write(p) }
func (n noFlush) WriteHeader(code int)        { n.w.WriteHeader(code) }

func TestWriterCannotFlush(t *testing.T) {
	w := sse.NewWriter(noFlush{httptest.NewRecorder()})
	err := w.WriteData([]byte("1"))
	if !errors.Is(err, http.ErrNotSupported) {
		t.Fatalf("WriteData to a writer that cannot flush = %v; want http.ErrNotSupported", err)
	}
	if again := w.WriteComment("k"); again != err {
		t.Errorf("WriteComment after failure = %v; want %v", again, err)
	}
}

func TestSetHeaders(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}}
	sse.SetHeaders(h)
	for k, v := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q; want [%q]", k, got, v)
		}
	}
}

// TestWriterFlushesEachEvent serves events over a real connection and has
// the client read each one before the handler writes the next: without a
// flush per event the client would wait for bytes the server holds, and
// the test would fail at its deadline.
func TestWriterFlushesEachEvent(t *testing.T) {
	const n = 5
	read := make(chan struct{})
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		defer close(done)
		sse.SetHeaders(rw.Header())
		w := sse.NewWriter(rw)
		for i := range n {
			if err := w.WriteEvent("delta", []byte{'0' + byte(i)}); err != nil {
				t.Errorf("WriteEvent = %v", err)
				return
			}
			select {
			case <-read: // the client has the event: the handler has not returned
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()

	// The deadline only bounds a failure; a passing run does not wait.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q; want text/event-stream", ct)
	}
	r := sse.NewReader(resp.Body, 0)
	for i := range n {
		e, err := r.Next()
		if err != nil {
			t.Fatalf("event %d: Next() = %v; want the event before the handler returns", i, err)
		}
		if e.Type != "delta" || string(e.Data) != string(rune('0'+i)) {
			t.Errorf("event %d = {type=%q data=%q}; want {delta %d}", i, e.Type, e.Data, i)
		}
		select {
		case <-done:
			t.Fatalf("handler returned before the client read event %d", i)
		default:
		}
		read <- struct{}{}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next() at the end = %v; want io.EOF", err)
	}
}
