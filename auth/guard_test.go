package auth_test

import (
	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/auth"
)

var (
	_ auth.Authenticator = (*auth.Basic)(nil)
	_ auth.Challenger    = (*auth.Basic)(nil)
	_ auth.Authenticator = (*auth.ClientCert)(nil)
	_ auth.Authenticator = (*auth.ForwardAuth)(nil)
	_ auth.Challenger    = (*auth.ForwardAuth)(nil)

	// The gateway's error writer fits the hooks as it is.
	_ auth.ErrorHandler = gateway.WriteError
)
