package llm

import (
	"context"
	"net/http"
)

// clientHeaderKey is the context key of the client's header fields.
type clientHeaderKey struct{}

// WithClientHeader returns ctx carrying h: fields of the client's request
// that a provider may pass on to its API, such as anthropic-beta. The
// ingress puts there the fields its configuration names; a provider takes
// only those it knows (package anthropic: anthropic-beta).
func WithClientHeader(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, clientHeaderKey{}, h)
}

// ClientHeader returns the fields [WithClientHeader] put in ctx, nil when
// there are none.
func ClientHeader(ctx context.Context) http.Header {
	h, _ := ctx.Value(clientHeaderKey{}).(http.Header)
	return h
}
