package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/internal/upstream"
)

// DefaultBaseURL is the Gemini API's public endpoint.
const DefaultBaseURL = "https://generativelanguage.googleapis.com/v1beta"

// maxBody bounds the bodies read from the provider: responses and errors.
const maxBody = 32 << 20

// Config configures a [Provider]. Its zero value talks to the public
// Gemini API without a key.
type Config struct {
	// APIKey is sent in the x-goog-api-key header; "" sends none (for a
	// proxy in front of the API that adds it).
	APIKey string
	// BaseURL is the API's base, up to the version; default
	// [DefaultBaseURL]. It must be an absolute http or https URL without
	// query or fragment.
	BaseURL string
	// Name is the provider's [Provider.Name]; default "gemini".
	Name string
	// Transport sends the requests; nil means a transport of the
	// provider's own with 10 s dial and TLS handshake timeouts and a
	// response-header timeout of Timeout.
	Transport http.RoundTripper
	// Timeout bounds a whole call that is not streamed (Chat, Embed, and
	// Forward of a request that is not streamed); 0 means 10 minutes.
	// Streams are bounded by their context only. A call it ends fails
	// with an [*llm.Error] of kind [llm.ErrTimeout].
	Timeout time.Duration
	// Header holds extra headers sent with every request; nil for none.
	// It may not set x-goog-api-key (use APIKey).
	Header http.Header
}

// Provider is a Gemini API backend: generateContent,
// streamGenerateContent and batchEmbedContents. It implements
// [llm.Provider], [llm.Streamer], [llm.Embedder] and [llm.Passthrough],
// and is safe for concurrent use.
type Provider struct {
	name    string
	base    string
	key     string
	header  http.Header
	timeout time.Duration
	client  *http.Client
}

// New returns a provider for c. It fails when BaseURL is not an absolute
// http(s) URL, Timeout is negative, or Header holds an invalid field or
// sets x-goog-api-key.
func New(c Config) (*Provider, error) {
	p := &Provider{name: c.Name, key: c.APIKey, timeout: c.Timeout}
	if p.name == "" {
		p.name = string(llm.FormatGemini)
	}
	if p.timeout < 0 {
		return nil, fmt.Errorf("gemini: negative Timeout %v", c.Timeout)
	}
	if p.timeout == 0 {
		p.timeout = 10 * time.Minute
	}
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("gemini: BaseURL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("gemini: BaseURL %q: want an absolute http(s) URL without user, query or fragment", base)
	}
	p.base = strings.TrimRight(base, "/")
	if !httpguts.ValidHeaderFieldValue(c.APIKey) {
		return nil, errors.New("gemini: APIKey holds characters not allowed in a header")
	}
	p.header = make(http.Header, len(c.Header))
	for k, vs := range c.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, fmt.Errorf("gemini: Header: invalid field name %q", k)
		}
		if strings.EqualFold(k, "x-goog-api-key") {
			return nil, errors.New("gemini: Header sets x-goog-api-key; use APIKey")
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, fmt.Errorf("gemini: Header: invalid value for %q", k)
			}
			p.header.Add(k, v)
		}
	}
	rt := c.Transport
	if rt == nil {
		rt = upstream.Transport(p.timeout) // a generateContent answers headers only when done
	}
	// A redirect is not followed: Go would copy x-goog-api-key to the
	// new location, another host's included. The 3xx is answered as an
	// error.
	p.client = upstream.Client(rt)
	return p, nil
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.name }

// Format returns [llm.FormatGemini].
func (p *Provider) Format() llm.Format { return llm.FormatGemini }

// call posts body to model's method and returns the whole answer, or the
// provider's error.
func (p *Provider) call(ctx context.Context, model, method string, body []byte) ([]byte, error) {
	resp, err := p.post(ctx, model, method, body)
	if err != nil {
		return nil, err
	}
	return p.answer(ctx, resp)
}

// answer reads resp whole, within maxBody, and returns its body, or the
// provider's error when its status is not 2xx.
func (p *Provider) answer(ctx context.Context, resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := upstream.ReadBounded(resp.Body, maxBody)
	if err != nil {
		return nil, p.transportError(ctx, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, p.providerError(resp, b)
	}
	return b, nil
}

// Chat sends req to models/{req.Model}:generateContent. Losses of the
// translation are in the response's Losses; a failure the provider
// reported is an [*llm.Error] with Provider set.
func (p *Provider) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	body, losses, err := EncodeRequest(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, p.timeout, errTimeout)
	defer cancel()
	b, err := p.call(ctx, req.Model, ":generateContent", body)
	if err != nil {
		return nil, err
	}
	res, err := DecodeResponse(b)
	if err != nil {
		var le *llm.Error
		if errors.As(err, &le) {
			le.Provider = p.name
		}
		return nil, err
	}
	if res.Model == "" {
		res.Model = req.Model
	}
	res.Losses = append(losses, res.Losses...)
	return res, nil
}

// Stream sends req to models/{req.Model}:streamGenerateContent?alt=sse.
// The losses of the translation are on the EventStart. Canceling ctx or
// closing the stream ends the HTTP call.
func (p *Provider) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	body, losses, err := EncodeRequest(req)
	if err != nil {
		return nil, err
	}
	resp, err := p.post(ctx, req.Model, ":streamGenerateContent?alt=sse", body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		_, err := p.answer(ctx, resp)
		return nil, err
	}
	return &providerStream{streamDecoder: newStreamDecoder(resp.Body, losses), name: p.name, model: req.Model}, nil
}

// providerStream sets the provider's name on the errors of its stream,
// and the model asked for on its start when Gemini gave no modelVersion.
type providerStream struct {
	*streamDecoder
	name, model string
}

func (s *providerStream) Next() (llm.Event, error) {
	ev, err := s.streamDecoder.Next()
	if ev.Err != nil {
		ev.Err.Provider = s.name
	}
	if ev.Type == llm.EventStart && ev.Model == "" {
		ev.Model = s.model
	}
	return ev, err
}

// maxEmbedBatch is the most requests batchEmbedContents takes at once.
const maxEmbedBatch = 100

// Embed sends req to models/{req.Model}:batchEmbedContents, one request
// per input, in batches of at most 100 sent one after the other, their
// vectors joined in order. Dimensions is outputDimensionality; User is
// not sent. The API reports no token counts for embeddings, so Usage is
// zero. Timeout bounds the whole call, all batches.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error) {
	if len(req.Input) == 0 {
		return nil, &llm.Error{Kind: llm.ErrInvalidRequest, Param: "input", Message: "no input to embed"}
	}
	name, _, err := p.resource(req.Model)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, p.timeout, errTimeout)
	defer cancel()
	res := &llm.EmbeddingResponse{Model: req.Model, Embeddings: make([][]float32, 0, len(req.Input))}
	for start := 0; start < len(req.Input); start += maxEmbedBatch {
		batch := req.Input[start:min(start+maxEmbedBatch, len(req.Input))]
		vecs, err := p.embedBatch(ctx, req, name, batch)
		if err != nil {
			return nil, err
		}
		res.Embeddings = append(res.Embeddings, vecs...)
	}
	return res, nil
}

// embedBatch sends one batchEmbedContents request for inputs.
func (p *Provider) embedBatch(ctx context.Context, req *llm.EmbeddingRequest, name string, inputs []string) ([][]float32, error) {
	type part struct {
		Text string `json:"text"`
	}
	type one struct {
		Model   string `json:"model"`
		Content struct {
			Parts [1]part `json:"parts"`
		} `json:"content"`
		OutputDimensionality int `json:"outputDimensionality,omitempty"`
	}
	var in struct {
		Requests []one `json:"requests"`
	}
	in.Requests = make([]one, len(inputs))
	for i, text := range inputs {
		r := &in.Requests[i]
		r.Model, r.OutputDimensionality = name, req.Dimensions
		r.Content.Parts[0].Text = text
	}
	body, err := json.Marshal(&in)
	if err != nil {
		return nil, err
	}
	b, err := p.call(ctx, req.Model, ":batchEmbedContents", body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Embeddings []struct {
			Values []float32 `json:"values"`
		} `json:"embeddings"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, &llm.Error{Kind: llm.ErrServer, Provider: p.name, Message: "gemini: malformed embeddings: " + err.Error()}
	}
	if len(out.Embeddings) != len(inputs) {
		return nil, &llm.Error{Kind: llm.ErrServer, Provider: p.name, Message: fmt.Sprintf("gemini: %d embeddings for %d inputs", len(out.Embeddings), len(inputs))}
	}
	vecs := make([][]float32, len(out.Embeddings))
	for i := range out.Embeddings {
		vecs[i] = out.Embeddings[i].Values
	}
	return vecs, nil
}

// Forward sends body, a request in Gemini's format, for model: chat to
// generateContent (streamGenerateContent?alt=sse when stream), embed to
// batchEmbedContents when body has "requests", else embedContent. The
// model goes in the URL. A call that is not streamed is bounded by
// Timeout until its body is closed.
func (p *Provider) Forward(ctx context.Context, op llm.Operation, model string, body []byte, stream bool) (*http.Response, error) {
	var method string
	switch op {
	case llm.OpChat:
		method = ":generateContent"
		if stream {
			method = ":streamGenerateContent?alt=sse"
		}
	case llm.OpEmbed:
		var probe struct {
			Requests json.RawMessage `json:"requests"`
		}
		method = ":embedContent"
		if json.Unmarshal(body, &probe) == nil && probe.Requests != nil {
			method = ":batchEmbedContents"
		}
	default:
		return nil, fmt.Errorf("gemini: unknown operation %d", op)
	}
	if stream {
		return p.post(ctx, model, method, body)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, p.timeout, errTimeout)
	resp, err := p.post(ctx, model, method, body)
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

// post sends body to {base}/{resource path of model}{method}.
func (p *Provider) post(ctx context.Context, model, method string, body []byte) (*http.Response, error) {
	_, urlPath, err := p.resource(model)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/"+urlPath+method, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range p.header {
		hreq.Header[k] = vs
	}
	hreq.Header.Set("Content-Type", "application/json")
	if p.key != "" {
		hreq.Header.Set("x-goog-api-key", p.key)
	}
	resp, err := p.client.Do(hreq)
	if err != nil {
		return nil, p.transportError(ctx, err)
	}
	return resp, nil
}

// errTimeout is the cause of a call's context when Timeout expires.
var errTimeout = errors.New("gemini: Timeout expired")

// transportError wraps a failure to reach the provider or read its
// answer: an [*llm.Error] of kind [llm.ErrTimeout] when the call's Timeout
// expired, else a canceled or expired ctx is returned as ctx's error.
func (p *Provider) transportError(ctx context.Context, err error) error {
	if context.Cause(ctx) == errTimeout {
		return &llm.Error{Kind: llm.ErrTimeout, Provider: p.name, Message: "gemini: no answer within " + p.timeout.String()}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("gemini: %s: %w", p.name, context.Cause(ctx))
	}
	return fmt.Errorf("gemini: %s: %w", p.name, err)
}

func (p *Provider) providerError(resp *http.Response, body []byte) *llm.Error {
	e := DecodeError(resp.StatusCode, resp.Header, body)
	e.Provider = p.name
	return e
}

// collections are the resource collections a model's name may start
// with: a base model, or a model tuned by the caller.
var collections = []string{"models", "tunedModels"}

// resource is the model's resource name ("models/gemini-2.5-flash",
// "tunedModels/my-model") and its URL path, each segment escaped. A name
// that does not start with a collection is a base model's id, escaped
// whole ("a/b" is models/a%2Fb). Errors are [*llm.Error]s of kind
// [llm.ErrInvalidRequest].
func (p *Provider) resource(model string) (name, urlPath string, err error) {
	bad := func(msg string) (string, string, error) {
		return "", "", &llm.Error{Kind: llm.ErrInvalidRequest, Param: "model", Message: msg, Provider: p.name}
	}
	if model == "" {
		return bad("no model named")
	}
	for _, c := range collections {
		id, ok := strings.CutPrefix(model, c+"/")
		if !ok {
			continue
		}
		if id == "" || id == "." || id == ".." || strings.Contains(id, "/") {
			return bad(fmt.Sprintf("model %q: want %s/{id} with an id of one segment", model, c))
		}
		return model, c + "/" + url.PathEscape(id), nil
	}
	if model == "." || model == ".." {
		return bad(fmt.Sprintf("model %q is not a model's id", model))
	}
	return "models/" + model, "models/" + url.PathEscape(model), nil
}

// errTooLarge reports a response over maxBody.
var errTooLarge = upstream.ErrTooLarge
