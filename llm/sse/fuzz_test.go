package sse_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/vivremotion/gateway/llm/sse"
)

// refParse is a plain reading of the standard's rules, with the package's
// deviations, to compare the Reader with: it splits the whole input into
// lines first and keeps strings, with no care for speed or memory.
func refParse(in string) ([]sse.Event, error) {
	in = strings.TrimPrefix(in, "\xEF\xBB\xBF")
	var (
		evs      []sse.Event
		data     strings.Builder
		hasData  bool
		typ      string
		id       string
		retry    time.Duration
		hasRetry bool
		pending  bool
	)
	for {
		i := strings.IndexAny(in, "\r\n")
		if i < 0 {
			if pending || (in != "" && in[0] != ':') {
				return evs, io.ErrUnexpectedEOF
			}
			return evs, io.EOF
		}
		line := in[:i]
		if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
			i++
		}
		in = in[i+1:]
		switch {
		case line == "":
			if hasData || typ != "" {
				d := strings.TrimSuffix(data.String(), "\n")
				evs = append(evs, sse.Event{Type: typ, Data: []byte(d), ID: id, Retry: retry, HasRetry: hasRetry})
			}
			data.Reset()
			hasData, typ, pending = false, "", false
		case line[0] == ':':
		default:
			pending = true
			name, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch name {
			case "data":
				data.WriteString(value + "\n")
				hasData = true
			case "event":
				typ = value
			case "id":
				if !strings.Contains(value, "\x00") {
					id = value
				}
			case "retry":
				if value != "" && strings.Trim(value, "0123456789") == "" {
					// Saturating, as the standard gives no limit.
					const limit = math.MaxInt64 / int64(time.Millisecond)
					digits := strings.TrimLeft(value, "0")
					n, err := strconv.ParseInt("0"+digits, 10, 64)
					if err != nil || n > limit {
						retry = math.MaxInt64
					} else {
						retry = time.Duration(n) * time.Millisecond
					}
					hasRetry = true
				}
			}
		}
	}
}

// FuzzReader checks, for any input, that the Reader does not panic, keeps
// its memory within the bound, reads the same events however the input is
// cut into Reads, agrees with refParse, and that what a Writer writes of
// the input as a payload reads back as the payload.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"data: 1\n\n", "event: a\r\ndata: 1\r\n\r\n", "data: 1\rdata: 2\r\r", "\xEF\xBB\xBFdata: x\n\n",
		": c\nid: 1\nretry: 10\ndata\n\n", "event: ping\n\n", "data: cut", "id: a\x00b\ndata: 1\n\n",
		"retry: 99999999999999999999\ndata: 1\n\n",
	} {
		f.Add([]byte(s), uint16(0))
		f.Add([]byte(s), uint16(5))
	}
	f.Fuzz(func(t *testing.T, in []byte, bound uint16) {
		maxEvent := int(bound)
		// Every chunking reads the same events and ends the same way.
		r := sse.NewReader(bytes.NewReader(in), maxEvent)
		whole, wholeErr := drain(r)
		limit := maxEvent
		if limit == 0 {
			limit = sse.DefaultMaxEvent
		}
		if c := sse.BufferCap(r); c > limit+sse.ReadRoom {
			t.Fatalf("buffer = %d bytes; want at most %d", c, limit+sse.ReadRoom)
		}
		one, oneErr := drain(sse.NewReader(iotest.OneByteReader(bytes.NewReader(in)), maxEvent))
		if oneErr != wholeErr || !equalEvents(one, whole) {
			t.Fatalf("one byte at a time: %s, %v; whole: %s, %v", fmtEvents(one), oneErr, fmtEvents(whole), wholeErr)
		}
		// Unbounded, the Reader agrees with the plain reading of the rules.
		if len(in) <= sse.DefaultMaxEvent {
			got, err := drain(sse.NewReader(bytes.NewReader(in), 0))
			want, wantErr := refParse(string(in))
			if err != wantErr || !equalEvents(got, want) {
				t.Fatalf("Reader: %s, %v; reference: %s, %v", fmtEvents(got), err, fmtEvents(want), wantErr)
			}
		}
		// A Writer's event of this payload reads back as the payload.
		typ := "t"
		if len(in) > 0 && in[0]%2 == 0 {
			typ = ""
		}
		rec := httptest.NewRecorder()
		if err := sse.NewWriter(rec).WriteEvent(typ, in); err != nil {
			t.Fatal(err)
		}
		back, err := drain(sse.NewReader(rec.Body, 0))
		want := []sse.Event{ev(typ, normalize(string(in)))}
		if err != io.EOF || !equalEvents(back, want) {
			t.Fatalf("round trip of %q = %s, %v; want %s, EOF", in, fmtEvents(back), err, fmtEvents(want))
		}
	})
}

// drain reads every event of r, cloned, and the error that ends it.
func drain(r *sse.Reader) ([]sse.Event, error) {
	var evs []sse.Event
	for {
		e, err := r.Next()
		if err != nil {
			if errors.Is(err, sse.ErrTooLarge) {
				return evs, sse.ErrTooLarge
			}
			return evs, err
		}
		evs = append(evs, e.Clone())
	}
}
