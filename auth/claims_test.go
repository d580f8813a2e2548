package auth_test

import (
	"slices"
	"testing"

	"github.com/vivremotion/gateway/auth"
)

func TestClaimStrings(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want []string
	}{
		{"read  write ", []string{"read", "write"}},
		{[]any{"a", 1, "", "b", nil}, []string{"a", "b"}},
		{[]any{}, []string{}},
		{42.0, nil},
		{nil, nil},
	} {
		if got := auth.ClaimStrings(tc.in); !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("ClaimStrings(%#v) = %#v; want %#v", tc.in, got, tc.want)
		}
	}
}
