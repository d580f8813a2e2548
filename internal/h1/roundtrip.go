package h1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"time"
)

// exchangeState is what roundTrip tracks about the request body.
type exchangeState struct {
	body     io.ReadCloser
	clen     int64 // -1: chunked
	trailer  http.Header
	pending  bool // the body waits for 100 Continue
	used     bool // the body was read, in part or in full
	owned    bool // the body writer goroutine owns the body
	released bool // the body was closed
}

// roundTrip sends req on c, which it owns until the response body ends. It
// closes body, or leaves it to the body writer goroutine, except when it
// returns a *retryableError without bodyOwn: then the caller decides.
func (c *conn) roundTrip(req *http.Request, body io.ReadCloser) (*http.Response, error) {
	ctx := req.Context()
	c.ctx = ctx
	c.ctxFired.Store(false)
	c.nread, c.nwritten = 0, 0
	if ctx.Done() != nil {
		c.stopCtx = context.AfterFunc(ctx, c.onCtxDone)
	}
	st := exchangeState{body: body, trailer: req.Trailer}
	if hasBody(body) {
		st.clen = req.ContentLength
		if st.clen == 0 {
			st.clen = -1 // a body of unknown length
		}
		st.pending = true
	}
	expect := st.pending && expectsContinue(req.Header)
	c.writeHead(req, st.clen)
	if st.pending && !expect && st.clen > 0 && st.clen <= int64(c.bw.Available()) {
		// The body fits the head's write.
		if err := c.sendSmallBody(&st); err != nil {
			return nil, c.fail(err, &st)
		}
	}
	if err := c.bw.Flush(); err != nil {
		return nil, c.fail(err, &st)
	}
	if !st.pending {
		traceWrote(ctx, nil)
	} else if !expect {
		c.startBodyWriter(&st)
	}
	return c.readResponse(req, &st)
}

// traceWrote tells the request's httptrace.ClientTrace, if any, that the
// request has been written: after it, the transport no longer reads any of
// it (a caller may then reuse its parts once the response is done).
func traceWrote(ctx context.Context, err error) {
	if tr := httptrace.ContextClientTrace(ctx); tr != nil && tr.WroteRequest != nil {
		tr.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	}
}

// sendSmallBody buffers a body that fits the write buffer, and closes it.
func (c *conn) sendSmallBody(st *exchangeState) error {
	st.used = true
	st.pending = false
	err := c.writeSmallBody(st.body, st.clen)
	st.body.Close()
	st.released = true
	return err
}

func (c *conn) startBodyWriter(st *exchangeState) {
	st.used = true
	st.pending = false
	st.owned = true
	st.released = true
	c.launchBodyWriter(st.body, st.clen, st.trailer)
}

// sendBody sends the body after 100 Continue or its timeout.
func (c *conn) sendBody(st *exchangeState) error {
	if st.clen > 0 && st.clen <= int64(c.bw.Available()) {
		if err := c.sendSmallBody(st); err != nil {
			return err
		}
		if err := c.bw.Flush(); err != nil {
			return err
		}
		traceWrote(c.ctx, nil)
		return nil
	}
	c.startBodyWriter(st)
	return nil
}

// fail ends the exchange after err: the conn is closed, and the error says
// whether the request may be retried on another conn.
func (c *conn) fail(err error, st *exchangeState) error {
	fired := c.ctxFired.Load()
	writerBusy := false // the body writer may still be using c.bw and c.nwritten
	if c.writeDone != nil {
		// The body writer's own error explains a read that failed because
		// it closed the conn. Wait for it briefly, and not at all after a
		// cancellation: it may be stuck reading the caller's body.
		c.nc.Close()
		werr := c.writerResult(!fired)
		writerBusy = werr == errWriterBusy
		if werr != nil && isBodyErr(werr) {
			err = werr
		}
	}
	if fired {
		if cerr := c.ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("h1: %w (%w)", cerr, err)
		}
	}
	retry := c.reused && c.nread == 0 && !fired && isConnLost(err) && !isBodyErr(err)
	written := st.owned || c.nwritten > 0 // a writer starts after the head went out
	if !writerBusy {
		c.bw.Reset(c) // else the closed conn makes the writer give up on its own
	}
	c.done(false)
	if retry {
		return &retryableError{err: err, written: written, bodyUsed: st.used, bodyOwn: st.owned}
	}
	if !st.released {
		st.released = true
		closeBody(st.body)
	}
	return err
}

func isBodyErr(err error) bool {
	var be *bodyError
	return errors.As(err, &be)
}

// readResponse reads the response head, after any 1xx, and sets up the body.
func (c *conn) readResponse(req *http.Request, st *exchangeState) (*http.Response, error) {
	t := c.pool.t
	var headerDeadline, expectDeadline time.Time
	if d := t.ResponseHeaderTimeout; d > 0 {
		headerDeadline = time.Now().Add(d)
	}
	expect := st.pending
	if expect {
		expectDeadline = time.Now().Add(t.expectTimeout())
		if !headerDeadline.IsZero() && headerDeadline.Before(expectDeadline) {
			expectDeadline = headerDeadline
		}
		c.setReadDeadline(expectDeadline)
	} else if !headerDeadline.IsZero() {
		c.setReadDeadline(headerDeadline)
	}
	var ex *exchange
	for n1xx := 0; ; n1xx++ {
		if expect {
			// Wait for the first byte of an answer, or for the timeout.
			if _, err := c.br.Peek(1); err != nil {
				if !isTimeout(err) || c.ctxFired.Load() ||
					!headerDeadline.IsZero() && !time.Now().Before(headerDeadline) {
					return nil, c.headErr(err, st)
				}
				expect = false
				c.setReadDeadline(headerDeadline)
				if err := c.sendBody(st); err != nil {
					return nil, c.fail(err, st)
				}
				continue
			}
			c.setReadDeadline(headerDeadline)
			expect = false
		}
		raw, err := readBlock(c.br, &c.head, t.maxHeaderBytes(), false)
		if err != nil {
			return nil, c.headErr(err, st)
		}
		ex = new(exchange) // a 1xx's header went to the trace hook: never reuse
		res := &ex.res
		if err := parseHead(string(raw), res, &c.keyBuf, ex.vals[:]); err != nil {
			return nil, c.fail(err, st)
		}
		code := res.StatusCode
		if code >= 200 || code == http.StatusSwitchingProtocols {
			break
		}
		if n1xx >= maxInformational {
			return nil, c.fail(errors.New("h1: too many 1xx responses"), st)
		}
		if code == http.StatusContinue {
			if st.pending {
				c.setReadDeadline(headerDeadline)
				if err := c.sendBody(st); err != nil {
					return nil, c.fail(err, st)
				}
			}
			continue
		}
		if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.Got1xxResponse != nil {
			if err := tr.Got1xxResponse(code, textproto.MIMEHeader(res.Header)); err != nil {
				return nil, c.fail(err, st)
			}
		}
		if st.pending {
			// Still no 100 Continue: wait for it, or for the rest of the
			// expect timeout, as before this 1xx.
			expect = true
			c.setReadDeadline(expectDeadline)
		}
	}
	if !headerDeadline.IsZero() {
		c.setReadDeadline(time.Time{})
	}
	res := &ex.res
	res.Request = req
	res.TLS = c.tlsState
	keep := !st.pending && !req.Close && !hasToken(req.Header["Connection"], "close")
	if st.pending {
		// A final answer came before 100 Continue: the body is never sent,
		// and the server may still expect it, so the conn cannot be reused.
		st.pending = false
		st.released = true
		closeBody(st.body)
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		return c.upgrade(res, st)
	}
	kind, n, fkeep, err := frame(res, req.Method)
	if err != nil {
		return nil, c.fail(err, st)
	}
	keep = keep && fkeep
	res.ContentLength = n
	if kind == bodyLength && n <= 0 || kind == bodyNone {
		if kind == bodyNone && req.Method != http.MethodHead {
			res.ContentLength = 0
		}
		res.Body = http.NoBody
		c.done(keep)
		return res, nil
	}
	b := &ex.body
	b.c = c
	b.owner = c
	b.gen = c.gen
	b.kind = kind
	b.keep = keep
	b.res = res
	b.maxHdr = t.maxHeaderBytes()
	if kind == bodyLength {
		b.remain = n
	}
	res.Body = b
	return res, nil
}

// headErr turns a failure to read the head into the error to return.
func (c *conn) headErr(err error, st *exchangeState) error {
	if isTimeout(err) && !c.ctxFired.Load() {
		err = &timeoutError{"h1: timeout awaiting response headers"}
	}
	return c.fail(err, st)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// upgrade hands the conn over as the Body of a 101 response.
func (c *conn) upgrade(res *http.Response, st *exchangeState) (*http.Response, error) {
	if c.stopCtx != nil {
		fired := !c.stopCtx()
		c.stopCtx = nil
		if fired {
			return nil, c.fail(errors.New("h1: upgrade cancelled"), st)
		}
	}
	if c.writeDone != nil && !c.waitWriter() {
		return nil, c.fail(errors.New("h1: request body not written before upgrade"), st)
	}
	res.Body = &upgradeBody{c: c}
	res.ContentLength = -1
	return res, nil
}

// bodyNone marks a response without a body.
const bodyNone bodyKind = 255

var chunked = "chunked"

// frame decides how res's body is delimited (RFC 9112 §6.3), fills in
// ContentLength's value (n), TransferEncoding, Close and Trailer, and says
// whether the framing allows the conn to be reused.
func frame(res *http.Response, method string) (kind bodyKind, n int64, keep bool, err error) {
	h := res.Header
	keep = true
	if conns, ok := h["Connection"]; ok {
		res.Close = hasToken(conns, "close")
		if res.ProtoMinor == 0 && !hasToken(conns, "keep-alive") {
			res.Close = true
		}
	} else {
		res.Close = res.ProtoMinor == 0
	}
	if res.Close {
		keep = false
	}

	te, isChunked := h["Transfer-Encoding"]
	if isChunked {
		if len(te) != 1 || !strings.EqualFold(te[0], chunked) {
			return 0, 0, false, fmt.Errorf("h1: unsupported transfer encoding %q", strings.Join(te, ", "))
		}
		delete(h, "Transfer-Encoding")
		res.TransferEncoding = []string{chunked}
		if res.ProtoMinor == 0 {
			keep = false // RFC 9112 §6.1: a 1.0 message must not carry it
		}
	}

	n = -1
	if cl, ok := h["Content-Length"]; ok {
		if isChunked {
			// Transfer-Encoding overrides Content-Length, and the conn is
			// suspect: do not reuse it (RFC 9112 §6.1).
			delete(h, "Content-Length")
			keep = false
		} else if n, err = parseContentLength(cl); err != nil {
			return 0, 0, false, err
		}
	}

	code := res.StatusCode
	if method == http.MethodHead || code < 200 || code == http.StatusNoContent || code == http.StatusNotModified {
		if method != http.MethodHead {
			n = 0
		}
		return bodyNone, n, keep, nil
	}
	if isChunked {
		if tv, ok := h["Trailer"]; ok {
			delete(h, "Trailer")
			tr, err := announcedTrailer(tv)
			if err != nil {
				return 0, 0, false, err
			}
			res.Trailer = tr
		}
		return bodyChunked, -1, keep, nil
	}
	if n >= 0 {
		return bodyLength, n, keep, nil
	}
	return bodyUntilClose, -1, false, nil
}

// parseContentLength parses the Content-Length field's lines, each maybe a
// list, which must all hold the same number.
func parseContentLength(vv []string) (int64, error) {
	n := int64(-1)
	for _, v := range vv {
		for {
			part, rest, more := strings.Cut(v, ",")
			part = trimOWS(part)
			if part == "" {
				return 0, errors.New("h1: empty Content-Length")
			}
			m, err := parseDigits(part)
			if err != nil {
				return 0, err
			}
			if n >= 0 && m != n {
				return 0, errors.New("h1: conflicting Content-Length values")
			}
			n = m
			if !more {
				break
			}
			v = rest
		}
	}
	return n, nil
}

func parseDigits(s string) (int64, error) {
	if len(s) > 18 {
		return 0, fmt.Errorf("h1: bad Content-Length %q", s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := s[i]
		if d < '0' || d > '9' {
			return 0, fmt.Errorf("h1: bad Content-Length %q", s)
		}
		n = n*10 + int64(d-'0')
	}
	return n, nil
}

// announcedTrailer builds the Trailer map from the Trailer field's names,
// with nil values, as net/http does.
func announcedTrailer(vv []string) (http.Header, error) {
	var tr http.Header
	for _, v := range vv {
		for v != "" {
			var k string
			k, v, _ = strings.Cut(v, ",")
			k = trimOWS(k)
			if k == "" {
				continue
			}
			if !validToken(k) {
				return nil, fmt.Errorf("h1: bad trailer key %q", k)
			}
			k = textproto.CanonicalMIMEHeaderKey(k)
			switch k {
			case "Transfer-Encoding", "Trailer", "Content-Length":
				return nil, fmt.Errorf("h1: bad trailer key %q", k)
			}
			if tr == nil {
				tr = make(http.Header)
			}
			tr[k] = nil
		}
	}
	return tr, nil
}
