package store_test

import (
	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/cache/store"
)

var (
	_ gateway.Cache = (*store.Memory)(nil)
	_ gateway.Cache = (*store.Redis)(nil)
	_ store.Purger  = (*store.Memory)(nil)
	_ store.Purger  = (*store.Redis)(nil)
)
