package openai

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

// Limits on what a provider reads.
const (
	// MaxResponseBody bounds a non-streamed response body: 32 MiB.
	MaxResponseBody = 32 << 20
	// maxErrorBody bounds an error body: 1 MiB.
	maxErrorBody = 1 << 20
	// DefaultTimeout bounds a non-streamed call when Config.Timeout is 0.
	DefaultTimeout = 10 * time.Minute
	// DefaultBaseURL is OpenAI's API.
	DefaultBaseURL = "https://api.openai.com/v1"
	// DefaultAzureAPIVersion is the api-version [NewAzure] uses when none
	// is given: the latest generally available data-plane inference
	// version of Azure OpenAI's deployment-based API.
	DefaultAzureAPIVersion = "2024-10-21"
)

// Config configures a [Provider] made by [New] or [NewCompatible]. Its
// zero value is a provider of OpenAI's API with no key (refused by [New]:
// OpenAI needs one).
type Config struct {
	// APIKey is sent as "Authorization: Bearer <APIKey>". Required by
	// [New] unless Header holds an Authorization; optional for
	// [NewCompatible] (local servers need none).
	APIKey string
	// BaseURL is the API's root, to which /chat/completions and
	// /embeddings are added. Default [DefaultBaseURL] for [New]; required
	// by [NewCompatible] (e.g. "http://localhost:11434/v1" for Ollama,
	// "https://api.groq.com/openai/v1", "https://api.deepseek.com").
	BaseURL string
	// Name is [Provider.Name]. Default "openai" for [New]; required by
	// [NewCompatible].
	Name string
	// Transport makes the HTTP calls. nil: an http.Transport of the
	// provider's own, with a 10 s dial timeout, a 10 s TLS handshake
	// timeout and a 10 minute response header timeout.
	Transport http.RoundTripper
	// Timeout bounds a whole non-streamed call (Chat, Embed, a Forward
	// that is not streamed). 0 means [DefaultTimeout] (10 minutes).
	// Streams are bounded by their context only.
	Timeout time.Duration
	// Header is added to every request (e.g. OpenAI-Organization,
	// OpenAI-Project). nil: none. It is copied at construction.
	Header http.Header
}

// AzureConfig configures a [Provider] of Azure OpenAI, made by
// [NewAzure].
type AzureConfig struct {
	// Endpoint is the resource's endpoint, e.g.
	// "https://my-resource.openai.azure.com". Required.
	Endpoint string
	// APIKey is sent as the "api-key" header. Required unless Header
	// holds an Authorization (a Microsoft Entra ID token).
	APIKey string
	// APIVersion is the api-version query parameter. Default
	// [DefaultAzureAPIVersion].
	APIVersion string
	// Deployments maps model names to deployment names. nil: the model
	// name is the deployment's. When not nil, a model it does not list is
	// refused with an [*llm.Error] of kind [llm.ErrNotFound]. It is
	// copied at construction.
	Deployments map[string]string
	// Name is [Provider.Name]. Default "azure".
	Name string
	// Transport, Timeout and Header are as in [Config].
	Transport http.RoundTripper
	Timeout   time.Duration
	Header    http.Header
}

// Provider is an [llm.Provider] that speaks OpenAI's chat completions and
// embeddings API: OpenAI itself, Azure OpenAI, or a compatible server. It
// implements [llm.Streamer], [llm.Embedder] and [llm.Passthrough], and is
// safe for concurrent use.
type Provider struct {
	name          string
	base          string // chat and embeddings URLs are base + path; "" for Azure
	azureEndpoint string
	azureVersion  string
	deployments   map[string]string
	header        http.Header // auth and Config.Header, set on every request
	client        *http.Client
	timeout       time.Duration
	compatible    bool   // encode for compatible servers (max_tokens, no developer role)
	embedFormat   string // the encoding_format Embed asks for
}

// New returns a [Provider] of OpenAI's API. It fails on a malformed
// BaseURL, a negative Timeout, or no API key.
func New(c Config) (*Provider, error) {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.Name == "" {
		c.Name = "openai"
	}
	if c.APIKey == "" && c.Header.Get("Authorization") == "" {
		return nil, errors.New("openai: New needs an APIKey")
	}
	return newProvider(c, false, EncodingBase64)
}

// NewCompatible returns a [Provider] of an OpenAI-compatible server
// (Ollama, vLLM, Groq, Mistral, DeepSeek, Together, ...). BaseURL and
// Name are required; APIKey is optional. The output cap is sent as
// max_tokens and developer messages as system ones, which all of them
// read, and embeddings are asked for as floats.
func NewCompatible(c Config) (*Provider, error) {
	if c.BaseURL == "" {
		return nil, errors.New("openai: NewCompatible needs a BaseURL")
	}
	if c.Name == "" {
		return nil, errors.New("openai: NewCompatible needs a Name")
	}
	return newProvider(c, true, EncodingFloat)
}

func newProvider(c Config, compatible bool, embedFormat string) (*Provider, error) {
	base, err := checkURL(c.BaseURL, "BaseURL")
	if err != nil {
		return nil, err
	}
	p := &Provider{name: c.Name, base: base, compatible: compatible, embedFormat: embedFormat}
	if err := p.setCommon(c.Transport, c.Timeout, c.Header); err != nil {
		return nil, err
	}
	if c.APIKey != "" {
		p.header.Set("Authorization", "Bearer "+c.APIKey)
	}
	return p, nil
}

// NewAzure returns a [Provider] of Azure OpenAI: requests go to
// {Endpoint}/openai/deployments/{deployment}/chat/completions (or
// /embeddings) with ?api-version=, the key in the api-key header. It fails
// on a malformed Endpoint, no key, a negative Timeout, or an empty name in
// Deployments.
func NewAzure(c AzureConfig) (*Provider, error) {
	if c.Endpoint == "" {
		return nil, errors.New("openai: NewAzure needs an Endpoint")
	}
	endpoint, err := checkURL(c.Endpoint, "Endpoint")
	if err != nil {
		return nil, err
	}
	if c.APIKey == "" && c.Header.Get("Authorization") == "" {
		return nil, errors.New("openai: NewAzure needs an APIKey")
	}
	p := &Provider{name: c.Name, azureEndpoint: endpoint, azureVersion: c.APIVersion, embedFormat: EncodingBase64}
	if p.name == "" {
		p.name = "azure"
	}
	if p.azureVersion == "" {
		p.azureVersion = DefaultAzureAPIVersion
	}
	if c.Deployments != nil {
		p.deployments = make(map[string]string, len(c.Deployments))
		for model, dep := range c.Deployments {
			if model == "" || dep == "" {
				return nil, fmt.Errorf("openai: NewAzure: Deployments maps %q to %q; both must be named", model, dep)
			}
			p.deployments[model] = dep
		}
	}
	if err := p.setCommon(c.Transport, c.Timeout, c.Header); err != nil {
		return nil, err
	}
	if c.APIKey != "" {
		p.header.Set("api-key", c.APIKey)
	}
	return p, nil
}

func (p *Provider) setCommon(t http.RoundTripper, timeout time.Duration, h http.Header) error {
	if timeout < 0 {
		return fmt.Errorf("openai: negative Timeout %v", timeout)
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if t == nil {
		t = upstream.Transport(10 * time.Minute)
	}
	p.timeout = timeout
	p.client = upstream.Client(t)
	p.header = h.Clone()
	if p.header == nil {
		p.header = make(http.Header)
	}
	p.header.Set("Content-Type", "application/json")
	return nil
}

func checkURL(raw, field string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("openai: %s %q is not an http(s) URL without query", field, raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.name }

// Format returns [llm.FormatOpenAI].
func (p *Provider) Format() llm.Format { return llm.FormatOpenAI }

// url returns where a request for op on model goes.
func (p *Provider) url(op llm.Operation, model string) (string, error) {
	path := "/chat/completions"
	if op == llm.OpEmbed {
		path = "/embeddings"
	}
	if p.azureEndpoint == "" {
		return p.base + path, nil
	}
	dep := model
	if p.deployments != nil {
		var ok bool
		if dep, ok = p.deployments[model]; !ok {
			return "", &llm.Error{Kind: llm.ErrNotFound, Code: "model_not_found", Provider: p.name,
				Message: fmt.Sprintf("no deployment for model %q", model)}
		}
	}
	if dep == "" {
		return "", &llm.Error{Kind: llm.ErrInvalidRequest, Param: "model", Provider: p.name, Message: "model is required"}
	}
	return p.azureEndpoint + "/openai/deployments/" + url.PathEscape(dep) + path + "?api-version=" + url.QueryEscape(p.azureVersion), nil
}

// post sends body and returns the response whatever its status.
func (p *Provider) post(ctx context.Context, op llm.Operation, model string, body []byte, stream bool) (*http.Response, error) {
	u, err := p.url(op, model)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range p.header {
		hr.Header[k] = v
	}
	if stream {
		hr.Header.Set("Accept", "text/event-stream")
	} else {
		hr.Header.Set("Accept", "application/json")
	}
	resp, err := p.client.Do(hr)
	if err != nil {
		return nil, p.transportError(ctx, err)
	}
	return resp, nil
}

// transportError describes a call that got no response.
func (p *Provider) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil && context.Cause(ctx) == errTimeout {
		return &llm.Error{Kind: llm.ErrTimeout, Provider: p.name, Message: fmt.Sprintf("no answer within %v", p.timeout)}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("openai: %s: %w", p.name, ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is known to the caller; keep the message short
	}
	return &llm.Error{Kind: llm.ErrUnavailable, Provider: p.name, Message: "request failed: " + err.Error()}
}

// errTimeout is the cause of a context canceled by the provider's Timeout.
var errTimeout = errors.New("openai: provider timeout")

// failure makes an *llm.Error of a non-2xx response and closes it.
func (p *Provider) failure(resp *http.Response) *llm.Error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := DecodeError(resp.StatusCode, resp.Header, body)
	e.Provider = p.name
	return e
}

// readAll reads a response body of at most MaxResponseBody bytes.
func (p *Provider) readAll(ctx context.Context, r io.Reader) ([]byte, error) {
	body, err := upstream.ReadBounded(r, MaxResponseBody)
	switch {
	case errors.Is(err, upstream.ErrTooLarge):
		return nil, &llm.Error{Kind: llm.ErrServer, Provider: p.name, Message: "the response is larger than 32 MiB"}
	case err != nil:
		return nil, p.transportError(ctx, err)
	}
	return body, nil
}

// answer returns the body of resp, a response to a call that is not
// streamed, or the provider's failure when its status is not 2xx.
func (p *Provider) answer(ctx context.Context, resp *http.Response) ([]byte, error) {
	if resp.StatusCode/100 != 2 {
		return nil, p.failure(resp)
	}
	defer resp.Body.Close()
	return p.readAll(ctx, resp.Body)
}

// Chat sends req and returns the whole response. The losses of its
// translation are in Response.Losses. A failure the provider reported is
// an [*llm.Error] with Provider set; so is a call that got no answer
// (ErrUnavailable) or none within Timeout (ErrTimeout).
func (p *Provider) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	r := *req
	r.Stream, r.StreamUsage = false, false
	body, losses, err := encodeRequest(&r, p.compatible)
	if err != nil {
		return nil, withProvider(err, p.name)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, p.timeout, errTimeout)
	defer cancel()
	resp, err := p.post(ctx, llm.OpChat, req.Model, body, false)
	if err != nil {
		return nil, err
	}
	data, err := p.answer(ctx, resp)
	if err != nil {
		return nil, err
	}
	res, err := DecodeResponse(data)
	if err != nil {
		return nil, withProvider(err, p.name)
	}
	res.Losses = append(losses, res.Losses...)
	return res, nil
}

func withProvider(err error, name string) error {
	var e *llm.Error
	if errors.As(err, &e) {
		e.Provider = name
	}
	return err
}

// Stream sends req with stream and stream_options.include_usage set, and
// returns its events; EventStart carries the losses of the translation.
// Canceling ctx or closing the stream closes the connection.
func (p *Provider) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	r := *req
	r.Stream, r.StreamUsage = true, true
	body, losses, err := encodeRequest(&r, p.compatible)
	if err != nil {
		return nil, withProvider(err, p.name)
	}
	resp, err := p.post(ctx, llm.OpChat, req.Model, body, true)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, p.failure(resp)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		// A server that does not stream answers with the whole response.
		data, err := p.answer(ctx, resp)
		if err != nil {
			return nil, err
		}
		res, err := DecodeResponse(data)
		if err != nil {
			return nil, withProvider(err, p.name)
		}
		return &providerStream{Stream: &eventStream{events: responseEvents(res)}, losses: losses, name: p.name}, nil
	}
	return &providerStream{Stream: NewStreamDecoder(resp.Body), losses: losses, name: p.name}, nil
}

// providerStream adds the provider's name and the request's losses to a
// decoded stream.
type providerStream struct {
	llm.Stream
	losses []llm.Loss
	name   string
}

func (s *providerStream) Next() (llm.Event, error) {
	ev, err := s.Stream.Next()
	switch {
	case err != nil:
	case ev.Type == llm.EventStart:
		ev.Losses = append(s.losses, ev.Losses...)
	case ev.Type == llm.EventError && ev.Err != nil:
		ev.Err.Provider = s.name
	}
	return ev, err
}

// Embed returns the embeddings of req's inputs.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error) {
	body, err := EncodeEmbeddingRequest(req, p.embedFormat)
	if err != nil {
		return nil, withProvider(err, p.name)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, p.timeout, errTimeout)
	defer cancel()
	resp, err := p.post(ctx, llm.OpEmbed, req.Model, body, false)
	if err != nil {
		return nil, err
	}
	data, err := p.answer(ctx, resp)
	if err != nil {
		return nil, err
	}
	res, err := DecodeEmbeddingResponse(data)
	if err != nil {
		return nil, withProvider(err, p.name)
	}
	if len(res.Embeddings) != len(req.Input) {
		return nil, &llm.Error{Kind: llm.ErrServer, Provider: p.name, Message: fmt.Sprintf("%d embeddings for %d inputs", len(res.Embeddings), len(req.Input))}
	}
	return res, nil
}

// Forward sends body, a chat completions (OpChat) or embeddings
// (OpEmbed) request in OpenAI's format, as it is, and returns the
// response whatever its status; the caller closes its body. model chooses
// the Azure deployment; for other providers it is already in body. A
// call that is not streamed is bounded by Timeout until its body is
// closed.
func (p *Provider) Forward(ctx context.Context, op llm.Operation, model string, body []byte, stream bool) (*http.Response, error) {
	if stream {
		return p.post(ctx, op, model, body, true)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, p.timeout, errTimeout)
	resp, err := p.post(ctx, op, model, body, false)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody releases a call's timeout when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
