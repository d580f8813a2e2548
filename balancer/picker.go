package balancer

import "net/http"

// Picker picks an upstream for a request among ups, nil when none fits. It
// has the method set of the root package's Balancer, declared here for the
// policies that wrap another, as [Sticky] does. Every policy in this
// package is a Picker.
type Picker interface {
	Pick(r *http.Request, ups []*Upstream) *Upstream
}
