// Package sse reads and writes server-sent events (the text/event-stream
// format of the WHATWG HTML standard), the framing that OpenAI, Anthropic
// and Gemini use for streamed responses.
//
// A [Reader] parses a provider's stream into [Event] values; a [Writer]
// sends events to a client and flushes each at once. Quickstart, relaying
// a provider's stream to the client:
//
//	func relay(w http.ResponseWriter, upstream *http.Response) error {
//		defer upstream.Body.Close()
//		sse.SetHeaders(w.Header())
//		w.WriteHeader(http.StatusOK)
//		out := sse.NewWriter(w)
//		in := sse.NewReader(upstream.Body, 0) // 0: events up to 1 MiB
//		for {
//			ev, err := in.Next()
//			if err == io.EOF {
//				return nil
//			}
//			if err != nil {
//				return err // io.ErrUnexpectedEOF: the upstream cut the stream short
//			}
//			if err := out.WriteEvent(ev.Type, ev.Data); err != nil {
//				return err // the client has gone
//			}
//		}
//	}
//
// OpenAI chat completions send untyped events ("data: {...}") and end
// with "data: [DONE]"; Anthropic sends typed events ("event:
// content_block_delta" then "data: {...}") with "ping" events between;
// Gemini's streamGenerateContent?alt=sse sends untyped events with CRLF
// line ends. The Reader takes all three as they are; what an event means
// is for the caller to decide.
//
// # Parsing
//
// The Reader follows the standard's rules: lines end in CRLF, LF or CR
// (also when a CRLF is split between two reads); a UTF-8 byte order mark
// at the start is skipped; lines starting with ':' are comments; a line
// "name: value" sets a field, with one space after the colon dropped, and
// a line without a colon is a field with an empty value; unknown fields
// are ignored; an "id" holding NUL is ignored; a "retry" is taken only
// when it is all ASCII digits; a blank line dispatches the event, whose
// data is its "data" lines joined with "\n".
//
// It deviates from the standard in two ways, both for LLM streams: an
// event with a type and no data line is dispatched (with empty Data),
// because providers send typed events and a relay must not drop them; and
// the type of an event without an "event" field is "", not "message", so
// that a relay writes back what it read. An event with neither data nor
// type is not dispatched, as in the standard. A stream that ends inside an
// event is reported as io.ErrUnexpectedEOF instead of ending silently.
//
// # Security
//
// One event is bounded (the maxEvent of [NewReader], 1 MiB by default): a
// stream that sends a longer event, or a line that never ends, stops the
// Reader with [ErrTooLarge], and the Reader's memory never passes the
// bound plus a few hundred bytes. The [Writer] splits data at every line
// end and refuses event types with line ends ([ErrInvalidType]), so no
// payload can inject fields or events into the client's stream.
//
// # Performance
//
// Both sides allocate nothing per event in steady state. The Reader keeps
// one buffer, grown up to the bound and reused: each event's data is
// gathered in place in it, and [Event.Data] aliases it until the next call
// to [Reader.Next] ([Event.Clone] copies). Event types are kept as strings
// of the last 16 distinct types, so a stream's repeated types cost
// nothing; an "id" that changes costs one string. The Writer builds each
// event in a reused buffer, writes it in one Write and flushes it through
// one [http.ResponseController]. See BenchmarkReaderNext and
// BenchmarkWriterWriteEvent, and TestReaderAllocs and TestWriterAllocs,
// which hold the count at zero.
package sse
