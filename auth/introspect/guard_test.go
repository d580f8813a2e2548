package introspect_test

import (
	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/introspect"
)

var (
	_ auth.Authenticator = (*introspect.Introspector)(nil)
	_ auth.Challenger    = (*introspect.Introspector)(nil)
)
