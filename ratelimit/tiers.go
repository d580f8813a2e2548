package ratelimit

import (
	"errors"
	"net/http"
)

// Tiers chooses a request's Limiter by its client's plan or tenant, for
// [Middleware]: each tier has its own limits and its own per-key state.
type Tiers struct {
	// Of returns the tier of a request, such as a plan name an
	// authenticating middleware put in the context. Required. It runs on
	// every request: returning a string the request already holds costs no
	// allocation.
	Of func(r *http.Request) string
	// Limits maps each tier to its Limiter. It is copied when the
	// middleware is built.
	Limits map[string]Limiter
	// Default limits requests whose tier is not in Limits. Required, so
	// that a client of an unknown tier is never unlimited by mistake.
	Default Limiter
}

func (t *Tiers) check() error {
	if t.Of == nil {
		return errors.New("ratelimit: Tiers.Of is nil")
	}
	if t.Default == nil {
		return errors.New("ratelimit: Tiers.Default is nil")
	}
	for name, l := range t.Limits {
		if l == nil {
			return errors.New("ratelimit: Tiers.Limits[" + name + "] is nil")
		}
	}
	return nil
}
