package apikey_test

import (
	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/apikey"
)

var (
	_ auth.Authenticator = (*apikey.Authenticator)(nil)
	_ auth.Challenger    = (*apikey.Authenticator)(nil)
	_ apikey.Store       = (*apikey.MemoryStore)(nil)
	_ apikey.Store       = (*apikey.RedisStore)(nil)
)
