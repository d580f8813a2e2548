package apikey_test

import (
	"testing"

	"github.com/vivremotion/gateway/auth/apikey"
)

func TestStateCanBecome(t *testing.T) {
	const (
		P = apikey.Pending
		A = apikey.Approved
		S = apikey.Suspended
		R = apikey.Revoked
	)
	allowed := map[[2]apikey.State]bool{
		{P, A}: true, {P, R}: true,
		{A, S}: true, {A, R}: true,
		{S, A}: true, {S, R}: true,
	}
	all := []apikey.State{0, P, A, S, R, 9}
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]apikey.State{from, to}]
			if got := from.CanBecome(to); got != want {
				t.Errorf("%v.CanBecome(%v) = %v; want %v", from, to, got, want)
			}
		}
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[apikey.State]string{
		0: "invalid", apikey.Pending: "pending", apikey.Approved: "approved",
		apikey.Suspended: "suspended", apikey.Revoked: "revoked", 9: "invalid",
	} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q; want %q", s, got, want)
		}
	}
}
