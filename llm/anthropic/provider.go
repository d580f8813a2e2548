package anthropic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/internal/upstream"
)

// Version is the anthropic-version header the provider sends.
const Version = "2023-06-01"

// DefaultBaseURL is Anthropic's public endpoint.
const DefaultBaseURL = "https://api.anthropic.com"

// maxBody bounds a response body the provider reads whole.
const maxBody = 32 << 20

// maxErrorBody bounds an error body read before a stream.
const maxErrorBody = 1 << 20

// Config configures a [Provider]. Its zero value sends requests without an
// API key to Anthropic's public endpoint.
type Config struct {
	// APIKey is sent as x-api-key; "" sends none (a gateway in front of
	// another that adds it).
	APIKey string
	// BaseURL is the API's base, without /v1; "" means DefaultBaseURL.
	BaseURL string
	// Name is the provider's [llm.Provider] name; "" means "anthropic".
	Name string
	// Transport sends the requests; nil means an http.Transport with
	// 10 s dial and TLS handshake timeouts and a 10 minute wait for
	// response headers.
	Transport http.RoundTripper
	// Timeout bounds a whole non-streamed call, reading the body
	// included; 0 means 10 minutes. Streams are bounded by their context
	// only. Negative is an error.
	Timeout time.Duration
	// Header holds headers added to every request (e.g. anthropic-beta);
	// they replace the provider's own of the same name, except x-api-key.
	// The anthropic-beta values of a client, when the ingress is told to
	// pass them on ([llm.WithClientHeader]), are sent beside them.
	Header http.Header
}

// Provider sends requests to the Anthropic messages API. It implements
// [llm.Provider], [llm.Streamer] and [llm.Passthrough]; Anthropic has no
// embeddings. It is safe for concurrent use.
type Provider struct {
	name    string
	key     string
	url     string // the messages endpoint
	timeout time.Duration
	header  http.Header
	client  *http.Client
}

// New returns a [Provider] for c. It fails on a BaseURL that is not an
// absolute http or https URL, and on a negative Timeout.
func New(c Config) (*Provider, error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("anthropic: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("anthropic: base URL %q: want an absolute http or https URL", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("anthropic: base URL %q: want no query or fragment", base)
	}
	if c.Timeout < 0 {
		return nil, fmt.Errorf("anthropic: negative timeout %v", c.Timeout)
	}
	p := &Provider{
		name:    c.Name,
		key:     c.APIKey,
		url:     strings.TrimSuffix(u.String(), "/") + "/v1/messages",
		timeout: c.Timeout,
		header:  c.Header.Clone(),
	}
	if p.name == "" {
		p.name = "anthropic"
	}
	if p.timeout == 0 {
		p.timeout = 10 * time.Minute
	}
	rt := c.Transport
	if rt == nil {
		rt = upstream.Transport(10 * time.Minute)
	}
	p.client = upstream.Client(rt)
	return p, nil
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.name }

// Format returns [llm.FormatAnthropic].
func (p *Provider) Format() llm.Format { return llm.FormatAnthropic }

// Chat sends req, not streamed, and returns the response, with the losses
// of its translation. An error response is an [*llm.Error] with Provider
// set.
func (p *Provider) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	r := *req
	r.Stream = false
	body, losses, err := EncodeRequest(&r)
	if err != nil {
		return nil, p.own(err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	resp, err := p.post(ctx, body, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := upstream.ReadBounded(resp.Body, maxBody)
	if err != nil {
		return nil, fmt.Errorf("anthropic: %s: reading response: %w", p.name, err)
	}
	if resp.StatusCode/100 != 2 {
		e := DecodeError(resp.StatusCode, resp.Header, data)
		e.Provider = p.name
		return nil, e
	}
	res, err := DecodeResponse(data)
	if err != nil {
		return nil, p.own(err)
	}
	res.Losses = append(res.Losses, losses...)
	return res, nil
}

// Stream sends req, streamed, and returns its events; the first,
// EventStart, carries the losses of the translation. Canceling ctx or
// closing the stream ends the call.
func (p *Provider) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	r := *req
	r.Stream = true
	body, losses, err := EncodeRequest(&r)
	if err != nil {
		return nil, p.own(err)
	}
	resp, err := p.post(ctx, body, true)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		data, _ := upstream.ReadBounded(resp.Body, maxErrorBody)
		e := DecodeError(resp.StatusCode, resp.Header, data)
		e.Provider = p.name
		return nil, e
	}
	return &namedStream{Stream: newStreamDecoder(resp.Body, losses), name: p.name}, nil
}

// namedStream names the provider on the errors of a stream, as on those
// of its other calls.
type namedStream struct {
	llm.Stream
	name string
}

func (s *namedStream) Next() (llm.Event, error) {
	ev, err := s.Stream.Next()
	if ev.Type == llm.EventError && ev.Err != nil && ev.Err.Provider == "" {
		e := *ev.Err
		e.Provider = s.name
		ev.Err = &e
	}
	var le *llm.Error
	if errors.As(err, &le) && le.Provider == "" {
		e := *le
		e.Provider = s.name
		err = &e
	}
	return ev, err
}

// Forward sends body, a messages request in Anthropic's format, as it is,
// and returns the response whatever its status; the caller closes its
// body. Only OpChat is served. Non-streamed calls are bounded by Timeout
// until the body is closed.
func (p *Provider) Forward(ctx context.Context, op llm.Operation, model string, body []byte, stream bool) (*http.Response, error) {
	if op != llm.OpChat {
		return nil, &llm.Error{Kind: llm.ErrNotFound, Message: "anthropic has no embeddings", Provider: p.name}
	}
	cancel := context.CancelFunc(func() {})
	if !stream {
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
	}
	resp, err := p.post(ctx, body, stream)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody releases a call's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (p *Provider) post(ctx context.Context, body []byte, stream bool) (*http.Response, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("anthropic: %s: %w", p.name, err)
	}
	h := hr.Header
	h.Set("Content-Type", "application/json")
	h.Set("Anthropic-Version", Version)
	if stream {
		h.Set("Accept", "text/event-stream")
	} else {
		h.Set("Accept", "application/json")
	}
	for k, v := range p.header {
		h[http.CanonicalHeaderKey(k)] = v
	}
	// The betas the client asked for, when the ingress passes them on
	// (llm.WithClientHeader), beside those of the configuration.
	for _, v := range llm.ClientHeader(ctx).Values("Anthropic-Beta") {
		h.Add("Anthropic-Beta", v)
	}
	h.Del("X-Api-Key")
	if p.key != "" {
		h.Set("X-Api-Key", p.key)
	}
	resp, err := p.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("anthropic: %s: %w", p.name, err)
	}
	return resp, nil
}

// own sets the provider's name on an *llm.Error.
func (p *Provider) own(err error) error {
	var e *llm.Error
	if errors.As(err, &e) {
		e.Provider = p.name
	}
	return err
}
