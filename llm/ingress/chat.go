package ingress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/sse"
)

// chat serves a chat request of a client that speaks f.
func (h *Handler) chat(w http.ResponseWriter, r *http.Request, f clientFormat) {
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	// The model and whether to stream decide the route; the rest is
	// decoded only when the request is translated.
	hd, err := readHead(body)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	rt, ok := h.router.Route(hd.model)
	if !ok {
		if _, derr := f.decode(body); derr != nil && hd.model == "" {
			h.fail(w, r, f, derr) // the codec's own words for what is missing
			return
		}
		h.fail(w, r, f, unknownModel(hd.model))
		return
	}
	u := Usage{Model: hd.model, Upstream: rt.UpstreamModel(), Provider: rt.Provider.Name(), Stream: hd.stream}
	if pt, ok := rt.Provider.(llm.Passthrough); ok && pt.Format() == f.format() {
		u.Passthrough = true
		h.passthrough(w, r, f, pt, llm.OpChat, body, hd, &u)
		return
	}
	req, err := f.decode(body)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	req.Model = u.Upstream
	if req.Stream {
		h.stream(w, r, f, rt.Provider, req, &u)
		return
	}
	res, err := rt.Provider.Chat(r.Context(), req)
	if err != nil {
		h.fail(w, r, f, h.providerError(rt.Provider, err))
		return
	}
	res.Model = u.Model // the name the client asked for
	out, losses, err := f.encodeResponse(res)
	if err != nil {
		h.fail(w, r, f, &llm.Error{Kind: llm.ErrServer, Message: "the response cannot be written in the client's format: " + err.Error()})
		return
	}
	h.reportLosses(w, r, append(res.Losses, losses...))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	u.Usage = res.Usage
	h.used(r, u)
}

// stream serves a streamed chat request translated for p.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, f clientFormat, p llm.Provider, req *llm.Request, u *Usage) {
	var st llm.Stream
	if s, ok := p.(llm.Streamer); ok {
		var err error
		if st, err = s.Stream(r.Context(), req); err != nil {
			h.fail(w, r, f, h.providerError(p, err))
			return
		}
	} else {
		res, err := p.Chat(r.Context(), req)
		if err != nil {
			h.fail(w, r, f, h.providerError(p, err))
			return
		}
		st = replay(res)
	}
	defer st.Close()
	// The first event is EventStart, with the request's losses: they go in
	// the head, which waits for it. An error before it is answered as an
	// error, in the client's format.
	first, err := st.Next()
	if err != nil {
		h.fail(w, r, f, h.providerError(p, err))
		return
	}
	if first.Type == llm.EventError && first.Err != nil {
		h.fail(w, r, f, asLLMError(p, first.Err))
		return
	}
	losses := first.Losses
	sse.SetHeaders(w.Header())
	sw := sse.NewWriter(w)
	enc := f.newStreamEncoder(sw, req)
	h.reportLosses(w, r, losses)
	w.WriteHeader(http.StatusOK)
	var last *llm.Usage
	var late []llm.Loss // the provider's, known only at the end
	failed := false     // an EventError came: the usage is of a stream cut short
	ev := first
	for {
		if ev.Type != llm.EventStart {
			late = append(late, ev.Losses...)
		}
		if ev.Type == llm.EventStart {
			ev.Model = u.Model
		}
		if ev.Type == llm.EventError {
			failed = true
			if ev.Err != nil {
				ev.Err = asLLMError(p, ev.Err) // the gateway's credentials stay its own
			}
		}
		if ev.Type == llm.EventUsage && ev.Usage != nil {
			usage := *ev.Usage
			last = &usage
		}
		if werr := enc.Encode(ev); werr != nil {
			err = werr // the client is gone: the deferred Close ends the call
			break
		}
		if ev, err = st.Next(); err != nil {
			break
		}
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	if err != nil && r.Context().Err() == nil {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "ingress: stream failed",
			slog.String("provider", p.Name()), slog.String("model", u.Model), slog.String("error", err.Error()))
	}
	var cerr error // not a typed nil: Close must see no error at all
	if e := asLLMError(p, err); e != nil {
		cerr = e
	}
	enc.Close(cerr)
	// What the client's format could not carry of the events is known
	// only now, after the head: it goes in a trailer, and in the log.
	if ls := append(late, enc.Losses()...); len(ls) > 0 {
		fields := lossFields(ls)
		w.Header().Set(http.TrailerPrefix+"Gateway-Loss", strings.Join(fields, ", "))
		for _, l := range ls {
			h.logger.LogAttrs(r.Context(), slog.LevelDebug, "ingress: translation loss",
				slog.String("field", l.Field), slog.String("reason", l.Reason))
		}
	}
	if last != nil {
		u.Usage = *last
		if err != nil || failed {
			u.Usage.Source = llm.UsageCutShort
		}
	} else {
		u.Usage.Source = llm.UsageCutShort
	}
	h.used(r, *u)
}

// replay makes a stream of the events a whole response adds up to, for a
// provider that cannot stream.
func replay(res *llm.Response) llm.Stream {
	evs := []llm.Event{{Type: llm.EventStart, ID: res.ID, Model: res.Model, Losses: res.Losses}}
	tools := 0
	for i, p := range res.Message.Parts {
		start := llm.Event{Type: llm.EventPartStart, Index: i, PartType: p.Type}
		delta := llm.Event{Type: llm.EventDelta, Index: i, PartType: p.Type, Text: p.Text, Signature: p.Signature}
		if p.Type == llm.PartToolCall && p.ToolCall != nil {
			start.ToolCall = &llm.ToolCall{ID: p.ToolCall.ID, Name: p.ToolCall.Name}
			start.ToolIndex, delta.ToolIndex = tools, tools
			delta.Arguments = p.ToolCall.Arguments
			tools++
		}
		evs = append(evs, start, delta, llm.Event{Type: llm.EventPartEnd, Index: i, PartType: p.Type, ToolIndex: start.ToolIndex})
	}
	usage := res.Usage
	evs = append(evs,
		llm.Event{Type: llm.EventFinish, FinishReason: res.FinishReason, RawFinishReason: res.RawFinishReason, StopSequence: res.StopSequence},
		llm.Event{Type: llm.EventUsage, Usage: &usage})
	return &replayed{evs: evs}
}

type replayed struct {
	evs []llm.Event
	i   int
}

func (s *replayed) Next() (llm.Event, error) {
	if s.i >= len(s.evs) {
		return llm.Event{}, io.EOF
	}
	s.i++
	return s.evs[s.i-1], nil
}

func (s *replayed) Close() error { return nil }

// passthrough sends body, in the provider's own format, to pt as it came,
// with the model renamed to the route's upstream name, and copies the
// answer back, reading only its usage.
func (h *Handler) passthrough(w http.ResponseWriter, r *http.Request, f clientFormat, pt llm.Passthrough, op llm.Operation, body []byte, hd head, u *Usage) {
	stream := hd.stream
	// A stream whose client did not ask for usage is asked for it all the
	// same, so that it can be counted; the chunk that carries it is then
	// kept from the client, which sees what it asked for. (Before the
	// model is renamed: hd's offsets are of this body.)
	var hideUsage bool
	if stream && op == llm.OpChat {
		body, hideUsage = f.askStreamUsage(body, hd)
	}
	if u.Upstream != hd.model { // readHead refused a model named twice
		var err error
		if body, err = f.setModel(body, u.Upstream); err != nil {
			h.fail(w, r, f, err)
			return
		}
	}
	p := pt.(llm.Provider)
	res, err := pt.Forward(r.Context(), op, u.Upstream, body, stream)
	if err == nil && (res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden) {
		// The gateway's own credentials were refused: not the client's
		// to see (the message may quote part of the key).
		res.Body.Close()
		err = &llm.Error{Kind: llm.KindOf(res.StatusCode), Status: res.StatusCode, Message: "refused by the provider"}
	}
	if err != nil {
		h.fail(w, r, f, h.providerError(p, err))
		return
	}
	defer res.Body.Close()
	copyHeader(w.Header(), res.Header)
	if stream && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		stream = false // answered whole (some compatible servers do): passed on whole
	}
	if !stream || res.StatusCode/100 != 2 {
		b, err := io.ReadAll(io.LimitReader(res.Body, h.maxResponse+1))
		if err != nil {
			h.fail(w, r, f, h.providerError(p, err))
			return
		}
		if int64(len(b)) > h.maxResponse {
			h.fail(w, r, f, &llm.Error{Kind: llm.ErrServer, Status: http.StatusBadGateway, Provider: p.Name(), Message: "the provider's response is larger than the gateway accepts"})
			if res.StatusCode/100 == 2 {
				u.Usage.Source = llm.UsageCutShort // served, and billed, all the same
				h.used(r, *u)
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(res.StatusCode)
		w.Write(b)
		if res.StatusCode/100 == 2 {
			if usage, ok := f.responseUsage(op, b); ok {
				u.Usage = usage
			} else {
				u.Usage.Source = llm.UsageCutShort
			}
			h.used(r, *u)
		}
		return
	}
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no") // no proxy in front may hold the events back
	w.WriteHeader(res.StatusCode)
	scan := f.newUsageScanner()
	if hideUsage {
		h.relayWithoutUsage(w, res.Body, f, scan, u)
		h.used(r, *u)
		return
	}
	tee := &flushingTee{r: res.Body, w: w, rc: http.NewResponseController(w)}
	rd := sse.NewReader(tee, 0)
	var rerr error
	for {
		ev, err := rd.Next()
		if err != nil {
			rerr = err
			break
		}
		scan.Scan(ev)
	}
	if !errors.Is(rerr, io.EOF) && !tee.failed {
		// The parser gave up (an event over its bound, or malformed): the
		// rest still goes to the client, unread.
		_, rerr = io.Copy(io.Discard, tee)
		if rerr == nil {
			rerr = io.ErrUnexpectedEOF // usage unknown past the parser's end
		}
	}
	usage, ok := scan.Usage()
	u.Usage = usage
	if !ok || !errors.Is(rerr, io.EOF) {
		u.Usage.Source = llm.UsageCutShort
	}
	h.used(r, *u)
}

// relayWithoutUsage relays a stream event by event, as it came, reading
// its usage, and leaves out the events that only carry usage, which the
// client did not ask for. An event over MaxResponse bytes ends the stream.
func (h *Handler) relayWithoutUsage(w http.ResponseWriter, body io.Reader, f clientFormat, scan usageScanner, u *Usage) {
	rc := http.NewResponseController(w)
	events := newRawEvents(body, int(min(h.maxResponse, math.MaxInt32)))
	var err error
	var data []byte // reused for each event's data
	for {
		var raw []byte
		if raw, err = events.next(); err != nil && len(raw) == 0 {
			break
		}
		var ev sse.Event
		ev.Type, data = fieldsOf(raw, data[:0])
		ev.Data = data
		scan.Scan(ev)
		if f.usageOnly(ev.Data) {
			continue
		}
		if _, werr := w.Write(raw); werr != nil {
			err = werr
			break
		}
		rc.Flush()
		if err != nil {
			break
		}
	}
	usage, ok := scan.Usage()
	u.Usage = usage
	if !ok || !errors.Is(err, io.EOF) {
		u.Usage.Source = llm.UsageCutShort
	}
}

// flushingTee reads r and writes what it reads to w at once, flushing, so
// that a passed-through stream reaches the client unchanged, each piece as
// it comes, while a parser reads the same bytes for usage.
type flushingTee struct {
	r      io.Reader
	w      io.Writer
	rc     *http.ResponseController
	failed bool // a write to the client failed: it is gone
}

func (t *flushingTee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		if _, werr := t.w.Write(p[:n]); werr != nil {
			t.failed = true
			return n, werr
		}
		t.rc.Flush()
	}
	return n, err
}

// copyHeader copies to the client's header the fields of a provider's
// response that describe it: its type, the request ids that support asks
// for, and when to retry. Others stay behind: they describe the gateway's
// account with the provider (organization, project, its rate limits),
// its connection, or set its cookies.
func copyHeader(dst, src http.Header) {
	for _, k := range [...]string{"Content-Type", "Retry-After", "Retry-After-Ms", "X-Request-Id", "Request-Id", "Openai-Processing-Ms"} {
		if vs := src[k]; len(vs) > 0 {
			dst[k] = vs
		}
	}
}

// readBody reads r's body up to MaxBody.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &llm.Error{Kind: llm.ErrRequestTooLarge, Message: fmt.Sprintf("the request body is larger than %d bytes", h.maxBody)}
		}
		return nil, &llm.Error{Kind: llm.ErrInvalidRequest, Message: "the request body could not be read: " + err.Error()}
	}
	return b, nil
}

// providerError returns err, from provider p, as an *llm.Error.
func (h *Handler) providerError(p llm.Provider, err error) *llm.Error {
	return asLLMError(p, err)
}

func asLLMError(p llm.Provider, err error) *llm.Error {
	if err == nil {
		return nil
	}
	var e *llm.Error
	if errors.As(err, &e) {
		if e.Provider == "" && p != nil {
			c := *e
			c.Provider = p.Name()
			e = &c
		}
		if e.Provider != "" && (e.Kind == llm.ErrAuthentication || e.Kind == llm.ErrPermission) {
			// The provider refused the gateway's credentials, not the
			// client's: a fault of the gateway, whose message (which may
			// quote part of the key) stays in its log.
			return &llm.Error{Kind: llm.ErrServer, Status: http.StatusBadGateway, Provider: e.Provider,
				Message: "the provider " + strconv.Quote(e.Provider) + " refused the gateway's credentials"}
		}
		return e
	}
	name := "the provider"
	if p != nil {
		name = "provider " + strconv.Quote(p.Name())
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &llm.Error{Kind: llm.ErrTimeout, Message: name + " did not answer in time"}
	case errors.Is(err, context.Canceled):
		return &llm.Error{Kind: llm.ErrTimeout, Status: 499, Message: "the request was canceled"}
	}
	return &llm.Error{Kind: llm.ErrUnavailable, Status: http.StatusBadGateway, Message: name + " could not be reached"}
}

// fail answers r with err in the client's format f.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, f clientFormat, err error) {
	e := asLLMError(nil, err)
	if r.Context().Err() != nil {
		return // the client is gone: nobody to answer
	}
	if e.Provider != "" || e.HTTPStatus() >= 500 {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "ingress: request failed",
			slog.String("path", r.URL.Path), slog.String("provider", e.Provider),
			slog.String("kind", string(e.Kind)), slog.String("error", e.Message))
	}
	status, body := f.encodeError(e)
	hdr := w.Header()
	if e.RetryAfter > 0 {
		hdr.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(e.RetryAfter.Seconds())), 10))
	}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// reportLosses names the losses of a translation in the Gateway-Loss
// response field, and logs each at Debug.
func (h *Handler) reportLosses(w http.ResponseWriter, r *http.Request, losses []llm.Loss) {
	if len(losses) == 0 {
		return
	}
	for _, l := range losses {
		h.logger.LogAttrs(r.Context(), slog.LevelDebug, "ingress: translation loss",
			slog.String("field", l.Field), slog.String("reason", l.Reason))
	}
	w.Header().Set("Gateway-Loss", strings.Join(lossFields(losses), ", "))
}

// lossFields returns the distinct fields of losses, fit for a header.
func lossFields(losses []llm.Loss) []string {
	fields := make([]string, 0, len(losses))
	for _, l := range losses {
		if f := headerSafe(l.Field); f != "" && !contains(fields, f) {
			fields = append(fields, f)
		}
	}
	return fields
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// headerSafe drops the bytes a field value cannot hold, and commas, which
// separate the list.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == ',' {
			return -1
		}
		return r
	}, s)
}

// used reports u to OnUsage.
func (h *Handler) used(r *http.Request, u Usage) {
	if h.onUsage != nil {
		h.onUsage(r, u)
	}
}
