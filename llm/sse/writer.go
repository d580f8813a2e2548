package sse

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrInvalidType is returned by [Writer.WriteEvent] for an event type
// that holds a CR or LF, which would end the "event" line and let the rest
// of the type be read as other fields. Nothing is written, and the Writer
// stays usable.
var ErrInvalidType = errors.New("sse: event type contains a line break")

// Writer writes server-sent events to an HTTP response and flushes each
// one at once, so that the client sees it without waiting for more.
//
// A Writer is not safe for concurrent use: a relay that also sends
// keep-alive comments does both from one goroutine.
type Writer struct {
	w     http.ResponseWriter
	flush *http.ResponseController // made once, not per event
	buf   []byte                   // the event being written, reused
	err   error                    // the first write or flush error; sticky
}

// SetHeaders sets the response headers of an event stream: Content-Type
// text/event-stream, Cache-Control no-cache, and X-Accel-Buffering no
// (which asks nginx and proxies like it not to buffer the stream). Call it
// before the first write.
func SetHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
}

// NewWriter returns a [Writer] to w. It does not set headers; see
// [SetHeaders]. Each event is flushed through an [http.ResponseController]
// of w, so w (or a writer it unwraps to) must support flushing.
func NewWriter(w http.ResponseWriter) *Writer {
	return &Writer{w: w, flush: http.NewResponseController(w)}
}

// WriteEvent writes one event and flushes it: an "event" line when typ is
// not "", then one "data" line for each line of data, then a blank line.
// Data is split at every line end (CRLF, LF or CR), so no payload can add
// fields to the event; a reader joins the lines with "\n", so data with
// CRLF or CR line ends arrives with LF ones. An empty data is sent as one
// empty data line, which a [Reader] returns as an event with empty Data.
//
// A typ holding CR or LF is refused with [ErrInvalidType]. Any error of the
// underlying writer, or of flushing, is returned, and the Writer stays
// failed: later calls return the same error.
func (w *Writer) WriteEvent(typ string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if strings.ContainsAny(typ, "\r\n") {
		return ErrInvalidType
	}
	b := w.buf[:0]
	if typ != "" {
		b = append(b, "event: "...)
		b = append(b, typ...)
		b = append(b, '\n')
	}
	for {
		i, n := lineEnd(data)
		b = append(b, "data: "...)
		if i < 0 {
			b = append(b, data...)
			b = append(b, '\n')
			break
		}
		b = append(b, data[:i]...)
		b = append(b, '\n')
		data = data[i+n:]
	}
	b = append(b, '\n')
	w.buf = b
	return w.send()
}

// WriteData writes an event with data and no type, as WriteEvent("", data).
func (w *Writer) WriteData(data []byte) error {
	return w.WriteEvent("", data)
}

// WriteComment writes a comment and flushes it: ": text" then a blank
// line. Readers ignore comments; they keep an idle connection from being
// closed by proxies that time out silent ones. A text with line ends is
// written as one comment line per line.
func (w *Writer) WriteComment(text string) error {
	if w.err != nil {
		return w.err
	}
	b := w.buf[:0]
	for {
		i, n := lineEndString(text)
		b = append(b, ": "...)
		if i < 0 {
			b = append(b, text...)
			b = append(b, '\n')
			break
		}
		b = append(b, text[:i]...)
		b = append(b, '\n')
		text = text[i+n:]
	}
	b = append(b, '\n')
	w.buf = b
	return w.send()
}

// send writes w.buf and flushes.
func (w *Writer) send() error {
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = err
		return err
	}
	if err := w.flush.Flush(); err != nil {
		w.err = fmt.Errorf("sse: flush: %w", err)
		return w.err
	}
	return nil
}

// lineEnd returns the index of the first line end in b and its length (2
// for CRLF, else 1), or -1.
func lineEnd(b []byte) (i, n int) {
	i = bytes.IndexByte(b, '\n')
	j := i
	if j < 0 {
		j = len(b)
	}
	if cr := bytes.IndexByte(b[:j], '\r'); cr >= 0 {
		if cr+1 < len(b) && b[cr+1] == '\n' {
			return cr, 2
		}
		return cr, 1
	}
	if i >= 0 {
		return i, 1
	}
	return -1, 0
}

// lineEndString is lineEnd for a string.
func lineEndString(s string) (i, n int) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			return i, 1
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				return i, 2
			}
			return i, 1
		}
	}
	return -1, 0
}
