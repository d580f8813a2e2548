package apikey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ManagerConfig configures a [Manager]. The zero value works.
type ManagerConfig struct {
	// Prefix starts every key issued, before an underscore: 1 to 16
	// characters of a-z and 0-9, so that keys are recognisable in code
	// and by secret scanners. Default [DefaultPrefix] ("gw"). It must be
	// the [Config.Prefix] of the Authenticator that reads the keys.
	Prefix string
}

// Spec describes a key to issue.
type Spec struct {
	// Tenant and Plan are the subscription's organization and tier.
	Tenant, Plan string
	// Name is a label for people.
	Name string
	// Scopes and Roles are granted to the key's Principal.
	Scopes, Roles []string
	// TTL is how long the key lasts from its issue; 0 for ever.
	TTL time.Duration
	// NeedsApproval issues the key [Pending]: refused until
	// [Manager.Approve]. Otherwise the key is [Approved] at once.
	NeedsApproval bool
}

// Manager issues keys and changes their state over a [Store]: approval,
// suspension, revocation and rotation. It is safe for concurrent use, and
// for use by many replicas over a shared store: each change is a
// compare-and-set on the record's version, retried on conflict.
type Manager struct {
	store  Store
	prefix string
}

// NewManager returns a Manager over store.
func NewManager(store Store, c ManagerConfig) (*Manager, error) {
	if store == nil {
		return nil, errors.New("apikey: NewManager: nil Store")
	}
	prefix, err := checkPrefix(c.Prefix)
	if err != nil {
		return nil, err
	}
	return &Manager{store: store, prefix: prefix}, nil
}

// Issue creates a key for a new subscription and returns the key, which
// is shown this once and kept nowhere, with its record.
func (m *Manager) Issue(ctx context.Context, s Spec) (key string, rec *Record, err error) {
	if s.TTL < 0 {
		return "", nil, fmt.Errorf("apikey: Issue: negative TTL %v", s.TTL)
	}
	state := Approved
	if s.NeedsApproval {
		state = Pending
	}
	now := time.Now()
	r := &Record{
		Tenant: s.Tenant, Plan: s.Plan, Name: s.Name,
		Scopes: slices.Clone(s.Scopes), Roles: slices.Clone(s.Roles),
		State: state, Created: now,
	}
	if s.TTL > 0 {
		r.Expires = now.Add(s.TTL)
	}
	return m.create(ctx, r)
}

// create gives r a fresh id and secret and stores it.
func (m *Manager) create(ctx context.Context, r *Record) (string, *Record, error) {
	fresh := r.Subscription == ""
	for range 3 { // an 80-bit id collides only by accident of the store
		key, id, h := generate(m.prefix)
		r.ID, r.Hash = id, h
		if fresh {
			r.Subscription = id
		}
		err := m.store.Create(ctx, r)
		if errors.Is(err, ErrExists) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		r.Version = 1
		return key, r, nil
	}
	return "", nil, fmt.Errorf("apikey: Issue: %w three times", ErrExists)
}

// Approve makes a pending or suspended key active.
func (m *Manager) Approve(ctx context.Context, id string) error {
	return m.transition(ctx, id, Approved)
}

// Suspend refuses an active key until it is approved again.
func (m *Manager) Suspend(ctx context.Context, id string) error {
	return m.transition(ctx, id, Suspended)
}

// Revoke refuses a key for ever.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	return m.transition(ctx, id, Revoked)
}

// ErrTransition reports a state change that [State.CanBecome] forbids.
var ErrTransition = errors.New("apikey: state transition not allowed")

func (m *Manager) transition(ctx context.Context, id string, to State) error {
	return m.update(ctx, id, func(r *Record) error {
		if !r.State.CanBecome(to) {
			return fmt.Errorf("%w: %s from %s to %s", ErrTransition, id, r.State, to)
		}
		r.State = to
		return nil
	})
}

// maxRetries bounds the compare-and-set attempts of one change.
const maxRetries = 16

// update reads the record of id, applies change to a copy and writes it
// back if no one changed it meanwhile, retrying otherwise.
func (m *Manager) update(ctx context.Context, id string, change func(*Record) error) error {
	for range maxRetries {
		cur, err := m.store.Get(ctx, id)
		if err != nil {
			return err
		}
		r := cur.Clone()
		if err := change(r); err != nil {
			return err
		}
		err = m.store.Update(ctx, r)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("apikey: %s: %w %d times", id, ErrConflict, maxRetries)
}

// Rotate issues a new key for the subscription of key id, with the same
// tenant, plan, scopes, roles, name, state and expiry, and makes the old
// key expire after overlap (at once for 0), so that clients can move to
// the new key meanwhile. It returns the new key, shown this once.
// Rotating a revoked key, or one already rotated, fails, as does a
// rotation during which the key's state changed (the new key is then
// deleted).
func (m *Manager) Rotate(ctx context.Context, id string, overlap time.Duration) (key string, rec *Record, err error) {
	if overlap < 0 {
		return "", nil, fmt.Errorf("apikey: Rotate: negative overlap %v", overlap)
	}
	old, err := m.store.Get(ctx, id)
	if err != nil {
		return "", nil, err
	}
	if old.State == Revoked || old.ReplacedBy != "" {
		return "", nil, fmt.Errorf("%w: %s is %s or already rotated", ErrTransition, id, old.State)
	}
	n := old.Clone()
	n.ReplacedBy, n.Created, n.Version = "", time.Now(), 0
	key, rec, err = m.create(ctx, n)
	if err != nil {
		return "", nil, err
	}
	end := rec.Created.Add(overlap)
	err = m.update(ctx, id, func(r *Record) error {
		if r.ReplacedBy != "" {
			return fmt.Errorf("%w: %s rotated concurrently", ErrTransition, id)
		}
		// The new key took its state from the first read, which may be
		// stale (a cache) or overtaken (a Revoke or Suspend meanwhile):
		// the state written with ReplacedBy must be the one copied.
		if r.State != n.State {
			return fmt.Errorf("%w: %s became %s during the rotation", ErrTransition, id, r.State)
		}
		r.ReplacedBy = rec.ID
		if r.Expires.IsZero() || end.Before(r.Expires) {
			r.Expires = end
		}
		return nil
	})
	if err != nil {
		// An error that refused the update is final. Any other (a reply
		// lost after the store wrote) leaves it unknown whether the old
		// key now points at the new one: read it again, since deleting a
		// new key the old one points at would lock the subscription out.
		bg := context.WithoutCancel(ctx)
		if !errors.Is(err, ErrTransition) && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
			if cur, gerr := m.store.Get(bg, id); gerr == nil && cur.ReplacedBy == rec.ID {
				return key, rec, nil
			}
		}
		// The new key must not outlive a failed rotation.
		if derr := m.store.Delete(bg, rec.ID); derr != nil && !errors.Is(derr, ErrNotFound) {
			return "", nil, fmt.Errorf("%w (and the new key %s could not be deleted: %v)", err, rec.ID, derr)
		}
		return "", nil, err
	}
	return key, rec, nil
}
