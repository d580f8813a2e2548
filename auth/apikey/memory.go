package apikey

import (
	"context"
	"fmt"
	"sync"
)

// MemoryStore is a [Store] in the process's memory, for one replica or
// for tests. Its zero value is not usable: call [NewMemoryStore].
type MemoryStore struct {
	mu   sync.RWMutex       // guards keys
	keys map[string]*Record // sealed copies, never changed once stored
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{keys: make(map[string]*Record)}
}

// Get returns the record of id. It does not allocate.
func (s *MemoryStore) Get(_ context.Context, id string) (*Record, error) {
	s.mu.RLock()
	r := s.keys[id]
	s.mu.RUnlock()
	if r == nil {
		return nil, ErrNotFound
	}
	return r, nil
}

// Create keeps a copy of r with Version 1.
func (s *MemoryStore) Create(_ context.Context, r *Record) error {
	if err := r.validate(); err != nil {
		return err
	}
	c := r.Clone()
	c.Version = 1
	c.Seal()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys[c.ID] != nil {
		return fmt.Errorf("%w: %s", ErrExists, c.ID)
	}
	s.keys[c.ID] = c
	return nil
}

// Update replaces the record of r.ID when its version is r.Version.
func (s *MemoryStore) Update(_ context.Context, r *Record) error {
	if err := r.validate(); err != nil {
		return err
	}
	c := r.Clone()
	c.Version = r.Version + 1
	c.Seal()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.keys[c.ID]
	switch {
	case old == nil:
		return fmt.Errorf("%w: %s", ErrNotFound, c.ID)
	case old.Version != r.Version:
		return fmt.Errorf("%w: %s at version %d, not %d", ErrConflict, c.ID, old.Version, r.Version)
	}
	s.keys[c.ID] = c
	return nil
}

// Delete removes the record of id.
func (s *MemoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	delete(s.keys, id)
	s.mu.Unlock()
	return nil
}

// List returns the records of tenant's keys.
func (s *MemoryStore) List(_ context.Context, tenant string) ([]*Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Record
	for _, r := range s.keys {
		if r.Tenant == tenant {
			out = append(out, r)
		}
	}
	return out, nil
}
