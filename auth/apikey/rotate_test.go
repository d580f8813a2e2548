package apikey_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/auth/apikey"
)

func TestRotateOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a := setup(t, nil, apikey.Config{})
		oldKey, old := issue(t, m, apikey.Spec{Tenant: "acme", Plan: "gold", Scopes: []string{"read"}})
		time.Sleep(time.Minute)
		newKey, rec, err := m.Rotate(ctx, old.ID, 10*time.Minute)
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if rec.ID == old.ID || rec.Subscription != old.ID || rec.Plan != "gold" || newKey == oldKey {
			t.Fatalf("Rotate record = %+v; want a new id in subscription %s, plan gold", rec, old.ID)
		}
		pOld := wantOK(t, a, bearer(oldKey), old)
		pNew := wantOK(t, a, bearer(newKey), rec)
		if pOld.Subject != pNew.Subject {
			t.Errorf("Subjects %q and %q differ; want the subscription's", pOld.Subject, pNew.Subject)
		}
		time.Sleep(10*time.Minute - time.Nanosecond)
		wantOK(t, a, bearer(oldKey), old)
		time.Sleep(time.Nanosecond)
		wantRefused(t, a, bearer(oldKey), apikey.ErrExpired, "api key expired")
		wantOK(t, a, bearer(newKey), rec)

		if _, _, err := m.Rotate(ctx, old.ID, 0); !errors.Is(err, apikey.ErrTransition) {
			t.Errorf("Rotate(already rotated) = %v; want ErrTransition", err)
		}
		// A second rotation of the new key, with no overlap, ends it at once.
		k3, r3, err := m.Rotate(ctx, rec.ID, 0)
		if err != nil {
			t.Fatalf("Rotate(new, 0): %v", err)
		}
		wantRefused(t, a, bearer(newKey), apikey.ErrExpired, "api key expired")
		wantOK(t, a, bearer(k3), r3)
	})
}

// TestRotateKeepsEarlierExpiry: an overlap does not extend a key that
// expires sooner, and the new key keeps the subscription's expiry.
func TestRotateKeepsEarlierExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a := setup(t, nil, apikey.Config{})
		oldKey, old := issue(t, m, apikey.Spec{TTL: time.Hour})
		_, rec, err := m.Rotate(ctx, old.ID, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !rec.Expires.Equal(old.Expires) {
			t.Errorf("new key expires %v; want %v", rec.Expires, old.Expires)
		}
		time.Sleep(time.Hour)
		wantRefused(t, a, bearer(oldKey), apikey.ErrExpired, "api key expired")
	})
}

func TestRotateRevokedFails(t *testing.T) {
	m, _ := setup(t, nil, apikey.Config{})
	_, rec := issue(t, m, apikey.Spec{})
	if err := m.Revoke(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Rotate(ctx, rec.ID, time.Minute); !errors.Is(err, apikey.ErrTransition) {
		t.Errorf("Rotate(revoked) = %v; want ErrTransition", err)
	}
	if _, _, err := m.Rotate(ctx, rec.ID, -time.Minute); err == nil {
		t.Errorf("Rotate(negative overlap) succeeded")
	}
}

// revokeOnCreate is a Store that revokes victim once a record is created:
// a revocation that lands while Rotate runs, between its read and its
// update of the old key.
type revokeOnCreate struct {
	apikey.Store
	m      *apikey.Manager
	victim string
	once   atomic.Bool
}

func (s *revokeOnCreate) Create(ctx context.Context, r *apikey.Record) error {
	if err := s.Store.Create(ctx, r); err != nil {
		return err
	}
	if s.once.CompareAndSwap(false, true) {
		return s.m.Revoke(ctx, s.victim)
	}
	return nil
}

// TestRotateRacesRevoke: a key revoked while Rotate runs gets no
// replacement, and the new key issued meanwhile is deleted.
func TestRotateRacesRevoke(t *testing.T) {
	mem := apikey.NewMemoryStore()
	plain, a := setup(t, mem, apikey.Config{})
	_, rec := issue(t, plain, apikey.Spec{})
	m, _ := setup(t, &revokeOnCreate{Store: mem, m: plain, victim: rec.ID}, apikey.Config{})
	newKey, _, err := m.Rotate(ctx, rec.ID, time.Hour)
	if !errors.Is(err, apikey.ErrTransition) {
		t.Fatalf("Rotate(revoked meanwhile) = %q, %v; want ErrTransition", newKey, err)
	}
	recs, err := mem.List(ctx, "")
	if err != nil || len(recs) != 1 || recs[0].ID != rec.ID || recs[0].State != apikey.Revoked {
		t.Errorf("records after the failed Rotate: %v, %v; want only %s, revoked", recs, err, rec.ID)
	}
	if newKey != "" {
		wantRefused(t, a, bearer(newKey), apikey.ErrInvalidKey, "invalid api key")
	}
}

// TestRotatedKeyFollowsReplacement: during the overlap, the old key of a
// rotated subscription is refused when the current key is suspended or
// revoked, and works again when it is approved again.
func TestRotatedKeyFollowsReplacement(t *testing.T) {
	m, a := setup(t, nil, apikey.Config{})
	oldKey, old := issue(t, m, apikey.Spec{})
	_, mid, err := m.Rotate(ctx, old.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, cur, err := m.Rotate(ctx, mid.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, a, bearer(oldKey), old)
	if err := m.Suspend(ctx, cur.ID); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, a, bearer(oldKey), apikey.ErrSuspended, "api key suspended") // two rotations back
	if err := m.Approve(ctx, cur.ID); err != nil {
		t.Fatal(err)
	}
	wantOK(t, a, bearer(oldKey), old)
	if err := m.Revoke(ctx, cur.ID); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, a, bearer(oldKey), apikey.ErrRevoked, "api key revoked")
}
