package ingress

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// rawEvents splits a server-sent event stream into the bytes of its
// events, each with the blank line that ends it, so that they can be
// relayed exactly as they came. Comments and fields other than data
// belong to the event they are written in. Lines end with LF or CRLF, as
// every provider writes them; a stream that ends lines with a bare CR is
// read as one event, which ends it at the size bound.
type rawEvents struct {
	br  *bufio.Reader
	max int
	buf []byte
}

func newRawEvents(r io.Reader, max int) *rawEvents {
	return &rawEvents{br: bufio.NewReaderSize(r, 32<<10), max: max}
}

// fieldsOf returns the type and the data of raw, one event's bytes, its
// data lines joined with "\n" and appended to dst, as an SSE reader reads
// them (a line ends with LF or CRLF; one space after the colon is dropped).
func fieldsOf(raw, dst []byte) (typ string, data []byte) {
	lines := 0
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		name, value, _ := bytes.Cut(line, []byte{':'})
		value = bytes.TrimPrefix(value, []byte{' '})
		switch string(name) {
		case "data":
			if lines > 0 {
				dst = append(dst, '\n')
			}
			dst = append(dst, value...)
			lines++
		case "event":
			typ = string(value)
		}
	}
	return typ, dst
}

// errEventTooLarge ends a stream with an event over the bound.
var errEventTooLarge = errors.New("ingress: stream event over the size bound")

// next returns the next event's bytes, valid until the next call. At the
// end of the stream it returns what was left (an event cut short, without
// its blank line) with the reader's error, io.EOF at a clean end.
func (e *rawEvents) next() ([]byte, error) {
	e.buf = e.buf[:0]
	for {
		line, err := e.br.ReadSlice('\n')
		e.buf = append(e.buf, line...)
		if len(e.buf) > e.max {
			return nil, errEventTooLarge
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil:
			return e.buf, err
		}
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			return e.buf, nil // a blank line: the event is whole
		}
	}
}
