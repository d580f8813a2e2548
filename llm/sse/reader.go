package sse

import (
	"bytes"
	"errors"
	"io"
	"math"
	"time"
)

// ErrTooLarge is returned by [Reader.Next] when one event is longer than
// the Reader's bound. The Reader is done after it: later calls return it
// again.
var ErrTooLarge = errors.New("sse: event too large")

// DefaultMaxEvent is the bound on one event that [NewReader] uses when
// given 0: 1 MiB.
const DefaultMaxEvent = 1 << 20

const (
	// readRoom is what the buffer holds beyond maxEvent, so that a Read
	// always has room; the buffer never grows past maxEvent+readRoom.
	readRoom = 512
	// initialBuffer is the buffer's first size (less when maxEvent is
	// smaller).
	initialBuffer = 4096
	// typeCacheSize and typeCacheMax bound the strings kept for event
	// types: the last typeCacheSize distinct types of at most typeCacheMax
	// bytes are reused, so a stream's repeated types cost no allocation.
	typeCacheSize = 16
	typeCacheMax  = 128
	// maxEmptyReads is how many reads returning 0 bytes and no error are
	// tolerated in a row before giving up with io.ErrNoProgress.
	maxEmptyReads = 100
)

// Event is one dispatched server-sent event.
type Event struct {
	// Type is the value of the event's "event" field, "" when it had none.
	// It is not replaced by "message" as a browser would.
	Type string
	// Data is the event's "data" lines joined with "\n". It aliases the
	// Reader's buffer: it stays valid only until the next call to
	// [Reader.Next]; use [Event.Clone] to keep it.
	Data []byte
	// ID is the last event ID: the value of the last "id" field the stream
	// sent, in this event or an earlier one ("" when none). It persists
	// across events, as the last event ID does in a browser.
	ID string
	// Retry is the reconnection time the stream last set with a "retry"
	// field, in this event or an earlier one; HasRetry reports whether it
	// has set one at all.
	Retry    time.Duration
	HasRetry bool
}

// Clone returns a copy of e whose Data does not alias a [Reader]'s buffer.
func (e Event) Clone() Event {
	if e.Data != nil {
		e.Data = bytes.Clone(e.Data)
	}
	return e
}

// Reader reads server-sent events from a byte stream by the WHATWG HTML
// parsing rules, with one deviation: an event that has a type but no data
// is dispatched (see the package documentation).
//
// A Reader is not safe for concurrent use.
type Reader struct {
	src      io.Reader
	maxEvent int

	// buf holds, in order: buf[:w] the current event's data lines, each
	// followed by '\n'; then a gap; then buf[p:e] bytes read but not yet
	// parsed. w <= p always holds because a data line is never shorter
	// than what it leaves in buf[:w].
	buf     []byte
	w, p, e int

	hasData  bool   // the event has had a data line
	typ      []byte // the event's type, reused
	pending  bool   // a field line has been seen since the last blank line
	evBytes  int    // bytes of the event's field lines, one per line end
	skipLF   bool   // the last line ended in CR: a following LF belongs to it
	started  bool   // the BOM check is done
	srcErr   error  // the error the source returned, held until buf is parsed
	err      error  // the Reader is done: Next returns this
	id       string
	retry    time.Duration
	hasRetry bool

	types    [typeCacheSize]string // recently seen event types
	nextType int                   // the slot of types to replace next
}

// NewReader returns a [Reader] of the events in r. maxEvent bounds the
// bytes of one event: its field lines so far plus the line being read,
// comments included, each line counted with one byte for its line end
// (comments do not add to the event once read); 0 means
// [DefaultMaxEvent]. A negative maxEvent panics. The Reader's buffer never
// grows past maxEvent plus a few hundred bytes.
func NewReader(r io.Reader, maxEvent int) *Reader {
	if maxEvent < 0 {
		panic("sse: NewReader with a negative maxEvent")
	}
	if maxEvent == 0 {
		maxEvent = DefaultMaxEvent
	}
	return &Reader{src: r, maxEvent: maxEvent}
}

// Next returns the next dispatched event. Its Data stays valid only until
// the next call to Next.
//
// Next returns io.EOF when the stream ends between events, and
// io.ErrUnexpectedEOF when it ends inside an event: after a field line (or
// in the middle of one) and before the blank line that would dispatch it,
// the sign of a stream cut short. It returns [ErrTooLarge] when an event
// passes the bound given to [NewReader], and any error of the underlying
// reader. After an error the Reader is done: later calls return the same
// error.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	if !r.started {
		if err := r.skipBOM(); err != nil {
			r.err = err
			return Event{}, err
		}
	}
	for {
		line, ok := r.line()
		if !ok {
			if err := r.fill(); err != nil {
				r.err = err
				return Event{}, err
			}
			continue
		}
		if len(line) == 0 {
			if ev, ok := r.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		// A comment is checked against the bound like a field line, so
		// that the outcome does not depend on how the stream was cut into
		// Reads, but it is not kept, so it does not add to the event.
		if r.evBytes+len(line)+1 > r.maxEvent {
			r.err = ErrTooLarge
			return Event{}, r.err
		}
		if line[0] == ':' {
			continue
		}
		r.evBytes += len(line) + 1
		r.field(line)
	}
}

// skipBOM skips a UTF-8 byte order mark at the start of the stream,
// reading until it has three bytes, or fewer that cannot start a BOM, or
// the end of the stream.
func (r *Reader) skipBOM() error {
	const bom = "\xEF\xBB\xBF"
	for r.e-r.p < len(bom) && r.srcErr == nil && bytes.HasPrefix([]byte(bom), r.buf[r.p:r.e]) {
		if err := r.fill(); err != nil {
			return err
		}
	}
	if bytes.HasPrefix(r.buf[r.p:r.e], []byte(bom)) {
		r.p += len(bom)
	}
	r.started = true
	return nil
}

// line returns the next complete line of buf[p:e] without its line end and
// moves p past it; ok is false when no complete line is buffered.
func (r *Reader) line() (line []byte, ok bool) {
	if r.skipLF && r.p < r.e {
		if r.buf[r.p] == '\n' {
			r.p++
		}
		r.skipLF = false
	}
	s := r.buf[r.p:r.e]
	i := bytes.IndexByte(s, '\n')
	j := i
	if j < 0 {
		j = len(s)
	}
	cr := bytes.IndexByte(s[:j], '\r')
	switch {
	case cr >= 0:
		line = s[:cr]
		r.p += cr + 1
		if cr+1 < len(s) {
			if s[cr+1] == '\n' {
				r.p++
			}
		} else {
			r.skipLF = true // the LF, if any, is in the next Read
		}
	case i >= 0:
		line = s[:i]
		r.p += i + 1
	default:
		return nil, false
	}
	return line, true
}

// field processes one field line: name, an optional colon, and a value
// whose one leading space is dropped.
func (r *Reader) field(line []byte) {
	r.pending = true
	name, value := line, line[:0]
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) { // no allocation: the compiler compares in place
	case "data":
		// buf[:w] ends before line starts and value is shorter than line,
		// so the copy and its '\n' stay within the bytes already parsed.
		r.w += copy(r.buf[r.w:], value)
		r.buf[r.w] = '\n'
		r.w++
		r.hasData = true
	case "event":
		r.typ = append(r.typ[:0], value...)
	case "id":
		if bytes.IndexByte(value, 0) < 0 && string(value) != r.id {
			r.id = string(value)
		}
	case "retry":
		if ms, ok := parseRetry(value); ok {
			r.retry, r.hasRetry = ms, true
		}
	}
}

// parseRetry returns the duration of a retry value in milliseconds; ok is
// false unless the value is one or more ASCII digits. Values past the
// range of time.Duration saturate.
func parseRetry(v []byte) (d time.Duration, ok bool) {
	if len(v) == 0 {
		return 0, false
	}
	const limit = math.MaxInt64 / int64(time.Millisecond)
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= limit {
			n = n*10 + int64(c-'0')
		}
	}
	if n > limit {
		return math.MaxInt64, true
	}
	return time.Duration(n) * time.Millisecond, true
}

// dispatch ends the current event at a blank line. It returns the event
// and true if the event has data or a type.
func (r *Reader) dispatch() (Event, bool) {
	dispatch := r.hasData || len(r.typ) > 0
	var ev Event
	if dispatch {
		ev = Event{ID: r.id, Retry: r.retry, HasRetry: r.hasRetry}
		if r.hasData {
			ev.Data = r.buf[: r.w-1 : r.w-1] // without the last '\n'
		} else {
			ev.Data = r.buf[:0:0]
		}
		ev.Type = r.internType()
	}
	r.w = 0
	r.hasData = false
	r.typ = r.typ[:0]
	r.pending = false
	r.evBytes = 0
	return ev, dispatch
}

// internType returns r.typ as a string, reusing one of the strings of the
// recent types so that a stream's repeated types allocate nothing.
func (r *Reader) internType() string {
	if len(r.typ) == 0 {
		return ""
	}
	for _, s := range r.types {
		if s == string(r.typ) {
			return s
		}
	}
	s := string(r.typ)
	if len(s) <= typeCacheMax {
		r.types[r.nextType] = s
		r.nextType = (r.nextType + 1) % typeCacheSize
	}
	return s
}

// fill reads more of the stream into buf. It returns the error that ends
// the Reader: the end of the stream (io.EOF or io.ErrUnexpectedEOF),
// ErrTooLarge, or the source's error.
func (r *Reader) fill() error {
	partial := r.e - r.p
	if r.srcErr != nil {
		if r.srcErr != io.EOF {
			return r.srcErr
		}
		if r.pending || (partial > 0 && r.buf[r.p] != ':') {
			return io.ErrUnexpectedEOF
		}
		return io.EOF
	}
	if r.started && r.evBytes+partial > r.maxEvent {
		return ErrTooLarge
	}
	// Move the partial line down to the end of the data, then make room.
	if r.p > r.w {
		copy(r.buf[r.w:], r.buf[r.p:r.e])
		r.p, r.e = r.w, r.w+partial
	}
	if limit := r.maxEvent + readRoom; len(r.buf)-r.e < readRoom && len(r.buf) < limit {
		n := max(min(2*len(r.buf), limit), min(initialBuffer, limit))
		buf := make([]byte, n)
		copy(buf, r.buf[:r.e])
		r.buf = buf
	}
	if r.e == len(r.buf) {
		// Cannot happen: the buffer is at its bound only when the event
		// has passed maxEvent, which the check above caught.
		return ErrTooLarge
	}
	for range maxEmptyReads {
		n, err := r.src.Read(r.buf[r.e:])
		if n < 0 || n > len(r.buf)-r.e {
			return errors.New("sse: invalid count from Read")
		}
		r.e += n
		if err != nil {
			r.srcErr = err
			return nil
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}
