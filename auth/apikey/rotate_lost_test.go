package apikey_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vivremotion/gateway/auth/apikey"
)

// lostReply is a Store whose Update writes, then reports a failure, as a
// Redis call whose reply is lost after the script ran does.
type lostReply struct{ apikey.Store }

func (s lostReply) Update(ctx context.Context, r *apikey.Record) error {
	if err := s.Store.Update(ctx, r); err != nil {
		return err
	}
	return errors.New("i/o timeout")
}

// TestRotateLostReply: when the update that points the old key at the new
// one is written but its reply is lost, Rotate finds the write and
// returns the new key, which works, instead of deleting it and leaving
// the old key pointing at nothing.
func TestRotateLostReply(t *testing.T) {
	mem := apikey.NewMemoryStore()
	plain, a := setup(t, mem, apikey.Config{})
	oldKey, old := issue(t, plain, apikey.Spec{})
	m, _ := setup(t, lostReply{mem}, apikey.Config{})
	newKey, _, err := m.Rotate(ctx, old.ID, time.Hour)
	if err != nil || newKey == "" {
		t.Fatalf("Rotate with a lost reply = %q, %v; want the new key", newKey, err)
	}
	for name, k := range map[string]string{"old (in its overlap)": oldKey, "new": newKey} {
		if _, err := a.Authenticate(bearer(k)); err != nil {
			t.Errorf("Authenticate(%s key) = %v; want it accepted", name, err)
		}
	}
}
