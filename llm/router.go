package llm

import (
	"errors"
	"fmt"
	"slices"
)

// Route sends the requests for one model name to a provider.
type Route struct {
	// Model is the name clients ask for, e.g. "gpt-4o-mini" or an alias
	// such as "fast". Required; unique in a [Router].
	Model string
	// Provider serves the model. Required.
	Provider Provider
	// Upstream is the provider's name for the model; "" means Model.
	Upstream string
	// OwnedBy is what the models list says owns the model; "" means the
	// provider's Name.
	OwnedBy string
}

// UpstreamModel returns the provider's name for the route's model.
func (r *Route) UpstreamModel() string {
	if r.Upstream != "" {
		return r.Upstream
	}
	return r.Model
}

// Router maps the model names clients ask for to providers. It is
// immutable once built and safe for concurrent use.
type Router struct {
	byModel map[string]*Route
	routes  []Route
}

// NewRouter returns a Router over routes, in the order given (the order of
// the models list). It fails on a route without a Model or a Provider, and
// on a model named twice.
func NewRouter(routes ...Route) (*Router, error) {
	if len(routes) == 0 {
		return nil, errors.New("llm: a router needs at least one route")
	}
	r := &Router{byModel: make(map[string]*Route, len(routes)), routes: slices.Clone(routes)}
	for i := range r.routes {
		rt := &r.routes[i]
		switch {
		case rt.Model == "":
			return nil, fmt.Errorf("llm: route %d has no Model", i)
		case rt.Provider == nil:
			return nil, fmt.Errorf("llm: route %q has no Provider", rt.Model)
		case r.byModel[rt.Model] != nil:
			return nil, fmt.Errorf("llm: model %q is routed twice", rt.Model)
		}
		if rt.OwnedBy == "" {
			rt.OwnedBy = rt.Provider.Name()
		}
		r.byModel[rt.Model] = rt
	}
	return r, nil
}

// Route returns the route of model, and whether there is one.
func (r *Router) Route(model string) (*Route, bool) {
	rt, ok := r.byModel[model]
	return rt, ok
}

// Routes returns the routes in their order. The caller must not modify
// them.
func (r *Router) Routes() []Route { return r.routes }
