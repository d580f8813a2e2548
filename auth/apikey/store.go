package apikey

import (
	"context"
	"errors"
)

// Store keeps the [Record] of each key, by id. Implementations are safe
// for concurrent use. [MemoryStore] keeps records in the process,
// [RedisStore] in Redis for many replicas.
type Store interface {
	// Get returns the record of id, or an error wrapping [ErrNotFound].
	// The record may be shared: the caller must not change it.
	Get(ctx context.Context, id string) (*Record, error)
	// Create keeps a new record, with Version 1, or fails with
	// [ErrExists] when its id is taken. The store keeps a copy: r is not
	// changed.
	Create(ctx context.Context, r *Record) error
	// Update replaces the record of r.ID if its stored Version still is
	// r.Version, and stores it with Version+1; otherwise it fails with
	// [ErrConflict] (or [ErrNotFound]). r is not changed.
	Update(ctx context.Context, r *Record) error
	// Delete removes the record of id; deleting an absent record is not
	// an error.
	Delete(ctx context.Context, id string) error
	// List returns the records of tenant's keys, in no particular order.
	List(ctx context.Context, tenant string) ([]*Record, error)
}

// Errors from a [Store].
var (
	ErrNotFound = errors.New("apikey: key not found")
	ErrExists   = errors.New("apikey: key id already exists")
	ErrConflict = errors.New("apikey: record changed since it was read")
)
