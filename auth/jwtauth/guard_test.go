package jwtauth_test

import (
	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/jwtauth"
)

var (
	_ auth.Authenticator = (*jwtauth.Authenticator)(nil)
	_ auth.Challenger    = (*jwtauth.Authenticator)(nil)
)
