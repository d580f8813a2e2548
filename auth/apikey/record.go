package apikey

import (
	"fmt"
	"slices"
	"time"

	"github.com/vivremotion/gateway/auth"
)

// State is where a key stands in its life.
type State uint8

// The states of a key. The zero State is not valid: a [Record] always has
// one of these.
const (
	// Pending keys belong to a subscription that awaits approval: refused
	// until approved.
	Pending State = iota + 1
	// Approved keys are active.
	Approved
	// Suspended keys are refused until approved again.
	Suspended
	// Revoked keys are refused for ever: no transition leaves Revoked.
	Revoked
)

var stateNames = [...]string{"invalid", "pending", "approved", "suspended", "revoked"}

// String returns the state's name in lower case, as stored by [RedisStore].
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "invalid"
}

// Valid reports whether s is one of the four states.
func (s State) Valid() bool { return Pending <= s && s <= Revoked }

// CanBecome reports whether a key in state s may move to state to:
// pending → approved, approved ⇄ suspended, and anything but revoked →
// revoked. Staying in the same state is not a transition.
func (s State) CanBecome(to State) bool {
	switch to {
	case Approved:
		return s == Pending || s == Suspended
	case Suspended:
		return s == Approved
	case Revoked:
		return s.Valid() && s != Revoked
	}
	return false
}

func parseState(name string) (State, error) {
	for i := Pending; i <= Revoked; i++ {
		if stateNames[i] == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("apikey: unknown state %q", name)
}

// Record is what a [Store] keeps of a key: never the key, only the digest
// of its secret. A Record returned by a Store may be shared with other
// goroutines: treat it as read-only, and [Record.Clone] it to change it.
type Record struct {
	// ID is the key's id, the middle part of the key.
	ID string
	// Subscription is the id of the subscription the key belongs to: the
	// ID of its first key, kept by every rotation. It is the Subject of
	// the key's Principal, so that limits and logs follow the
	// subscription across rotations.
	Subscription string
	// Hash is the SHA-256 digest of the key's secret.
	Hash Hash
	// Tenant is the organization the key belongs to.
	Tenant string
	// Plan is the tier of the subscription, which rate limits are chosen by.
	Plan string
	// Name is a label for people ("ci deploys").
	Name string
	// Scopes and Roles are granted to the key's Principal.
	Scopes, Roles []string
	// State is where the key stands.
	State State
	// Created is when the key was issued.
	Created time.Time
	// Expires is when the key stops working; zero for never.
	Expires time.Time
	// ReplacedBy is the id of the key that a rotation issued to replace
	// this one, or "".
	ReplacedBy string
	// Version counts the changes the Store has made to the record: 1 when
	// created, one more at each [Store.Update]. An update succeeds only on
	// the version it read.
	Version uint64

	// principal is built by Seal when a store keeps the record, so that
	// each request that authenticates with the key shares it.
	principal *auth.Principal
}

// Clone returns a deep copy of r that the caller may change.
func (r *Record) Clone() *Record {
	c := *r
	c.Scopes = slices.Clone(r.Scopes)
	c.Roles = slices.Clone(r.Roles)
	c.principal = nil
	return &c
}

// validate checks what a Store must not keep.
func (r *Record) validate() error {
	switch {
	case !ValidID(r.ID):
		return fmt.Errorf("%w: %q", errBadID, r.ID)
	case !r.State.Valid():
		return fmt.Errorf("apikey: record %s: invalid state %d", r.ID, r.State)
	case r.Subscription == "":
		return fmt.Errorf("apikey: record %s: no subscription", r.ID)
	}
	return nil
}

// Seal builds, once, the Principal that requests with the key share, and
// returns r. A [Store] calls it on a record it keeps or decodes, before
// handing it out; a record not sealed costs a new Principal per request.
// Changing r after Seal is a data race with the requests that read it.
func (r *Record) Seal() *Record {
	r.principal = &auth.Principal{
		Subject: r.Subscription,
		Tenant:  r.Tenant,
		Plan:    r.Plan,
		Scopes:  r.Scopes,
		Roles:   r.Roles,
		Method:  "apikey",
		Claims:  map[string]any{"key_id": r.ID, "key_name": r.Name},
	}
	return r
}

// Principal returns the Principal of the key, shared by every call when
// the record comes from this package's stores: read-only.
func (r *Record) Principal() *auth.Principal {
	if r.principal != nil {
		return r.principal
	}
	return r.Clone().Seal().principal
}
