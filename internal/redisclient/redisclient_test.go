package redisclient

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestChecks(t *testing.T) {
	var nilClient *redis.Client
	for _, tc := range []struct {
		name      string
		c         redis.UniversalClient
		isNil     bool
		deadlines bool
	}{
		{"nil interface", nil, true, true},
		{"nil *Client", nilClient, true, false},
		{"deadlines off", redis.NewClient(&redis.Options{}), false, false},
		{"deadlines on", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true}), false, true},
		{"ring, deadlines on", redis.NewRing(&redis.RingOptions{ContextTimeoutEnabled: true}), false, true},
	} {
		if got := IsNil(tc.c); got != tc.isNil {
			t.Errorf("%s: IsNil = %v; want %v", tc.name, got, tc.isNil)
		}
		if tc.isNil {
			continue
		}
		if got := HonoursDeadlines(tc.c); got != tc.deadlines {
			t.Errorf("%s: HonoursDeadlines = %v; want %v", tc.name, got, tc.deadlines)
		}
	}
}
