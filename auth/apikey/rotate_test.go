package apikey_test

import (
	"errors"
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
