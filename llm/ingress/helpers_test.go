package ingress_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/ingress"
)

// staticProvider answers every chat with the same response, or stream of
// events, from memory; it records the requests it got.
type staticProvider struct {
	name   string
	res    llm.Response
	events []llm.Event
	err    error

	mu   sync.Mutex
	reqs []*llm.Request
	ctxs []context.Context
	// got, when not nil, is sent to (without waiting) for each request.
	got chan struct{}
}

func (p *staticProvider) Name() string { return p.name }

func (p *staticProvider) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	p.record(ctx, req)
	if p.err != nil {
		return nil, p.err
	}
	res := p.res
	return &res, nil
}

func (p *staticProvider) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	p.record(ctx, req)
	if p.err != nil {
		return nil, p.err
	}
	return &eventStream{ctx: ctx, evs: p.events}, nil
}

func (p *staticProvider) record(ctx context.Context, req *llm.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = append(p.reqs, req)
	p.ctxs = append(p.ctxs, ctx)
	if p.got != nil {
		select {
		case p.got <- struct{}{}:
		default:
		}
	}
}

// eventStream replays events; a nil entry blocks until ctx ends.
type eventStream struct {
	ctx context.Context
	evs []llm.Event
	i   int
}

func (s *eventStream) Next() (llm.Event, error) {
	if s.i >= len(s.evs) {
		return llm.Event{}, io.EOF
	}
	ev := s.evs[s.i]
	s.i++
	if ev.Type == 0 {
		<-s.ctx.Done()
		return llm.Event{}, s.ctx.Err()
	}
	return ev, nil
}

func (s *eventStream) Close() error { return nil }

// rawProvider speaks a format and takes bodies in it as they come
// (llm.Passthrough), answering each with a fixed status and body.
type rawProvider struct {
	staticProvider
	format      llm.Format
	status      int
	header      http.Header
	body        []byte
	mu2         sync.Mutex
	forwarded   [][]byte
	forwardedTo []string
}

func (p *rawProvider) Format() llm.Format { return p.format }

func (p *rawProvider) Forward(ctx context.Context, op llm.Operation, model string, body []byte, stream bool) (*http.Response, error) {
	p.mu2.Lock()
	p.forwarded = append(p.forwarded, bytes.Clone(body))
	p.forwardedTo = append(p.forwardedTo, model)
	p.mu2.Unlock()
	h := http.Header{"Content-Type": {"application/json"}}
	if stream {
		h.Set("Content-Type", "text/event-stream")
	}
	for k, vs := range p.header {
		h[k] = vs
	}
	return &http.Response{StatusCode: p.status, Header: h, Body: io.NopCloser(bytes.NewReader(p.body)), ContentLength: int64(len(p.body))}, nil
}

// newIngress returns a Handler over routes, with its usage reports.
func newIngress(t testing.TB, routes ...llm.Route) (*ingress.Handler, *usageLog) {
	t.Helper()
	r, err := llm.NewRouter(routes...)
	if err != nil {
		t.Fatal(err)
	}
	ul := &usageLog{}
	h, err := ingress.New(ingress.Config{Router: r, OnUsage: ul.add, MaxBody: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return h, ul
}

type usageLog struct {
	mu sync.Mutex
	us []ingress.Usage
}

func (l *usageLog) add(_ *http.Request, u ingress.Usage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.us = append(l.us, u)
}

func (l *usageLog) last(t *testing.T) ingress.Usage {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.us) == 0 {
		t.Fatal("OnUsage was not called")
	}
	return l.us[len(l.us)-1]
}

// post sends body to path on h and returns the recorded answer.
func post(h http.Handler, path, body string, kv ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewBufferString(body))
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Set(kv[i], kv[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func itoa(n int) string { return strconv.Itoa(n) }
