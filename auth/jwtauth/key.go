package jwtauth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
)

// Key is one verification key: its key id, the one algorithm it is pinned
// to and its material. A token is verified by a Key only when the token's
// "alg" header equals Algorithm exactly; the token never chooses how it is
// checked.
type Key struct {
	// ID is the key id, matched against the token's "kid" header. The
	// only key of a set may leave it empty: it then verifies tokens
	// whatever their kid, or with none (the signature and the pinned
	// algorithm are checked all the same).
	ID string
	// Algorithm is the JWS algorithm (RFC 7518) the key verifies: HS256,
	// HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256,
	// ES384, ES512 or EdDSA. Required.
	Algorithm string
	// Material is the key: a []byte secret for HS*, an *rsa.PublicKey for
	// RS* and PS*, an *ecdsa.PublicKey on the matching curve for ES*, an
	// ed25519.PublicKey for EdDSA.
	Material any
}

// The errors of key parsing and checking.
var (
	// ErrAlgorithm reports an algorithm that is unknown, "none", or does
	// not fit the key's material.
	ErrAlgorithm = errors.New("jwtauth: algorithm not allowed for key")
	// ErrKey reports key material that cannot be used: unsupported, too
	// small, malformed.
	ErrKey = errors.New("jwtauth: unusable key")
)

// key is a checked Key, shared by the key set and the entries of the
// token cache that it verified. removed is set when a refresh drops the
// key, so that those entries stop being trusted.
type key struct {
	id      string
	alg     string
	mat     any
	removed atomic.Bool
}

// minHMACBytes is the least secret length per algorithm: RFC 7518
// section 3.2 asks for a key at least as long as the hash output.
var minHMACBytes = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// minRSABits is the least RSA modulus accepted (RFC 7518 section 3.3).
const minRSABits = 2048

// check reports whether k's material fits its algorithm, and returns a
// private copy of it.
func (k Key) check() (*key, error) {
	switch k.Algorithm {
	case "HS256", "HS384", "HS512":
		b, ok := k.Material.([]byte)
		if !ok {
			return nil, fmt.Errorf("%w: %s needs a []byte secret, key %q has %T", ErrAlgorithm, k.Algorithm, k.ID, k.Material)
		}
		if len(b) < minHMACBytes[k.Algorithm] {
			return nil, fmt.Errorf("%w: key %q: %s secret of %d bytes, want at least %d", ErrKey, k.ID, k.Algorithm, len(b), minHMACBytes[k.Algorithm])
		}
		return &key{id: k.ID, alg: k.Algorithm, mat: bytes.Clone(b)}, nil
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		pub, ok := k.Material.(*rsa.PublicKey)
		if !ok || pub == nil || pub.N == nil {
			return nil, fmt.Errorf("%w: %s needs an *rsa.PublicKey, key %q has %T", ErrAlgorithm, k.Algorithm, k.ID, k.Material)
		}
		if pub.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("%w: key %q: RSA modulus of %d bits, want at least %d", ErrKey, k.ID, pub.N.BitLen(), minRSABits)
		}
		// A copy: the caller's key may change after New.
		return &key{id: k.ID, alg: k.Algorithm, mat: &rsa.PublicKey{N: new(big.Int).Set(pub.N), E: pub.E}}, nil
	case "ES256", "ES384", "ES512":
		pub, ok := k.Material.(*ecdsa.PublicKey)
		if !ok || pub == nil || pub.Curve == nil {
			return nil, fmt.Errorf("%w: %s needs an *ecdsa.PublicKey, key %q has %T", ErrAlgorithm, k.Algorithm, k.ID, k.Material)
		}
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[k.Algorithm]
		if pub.Curve != want {
			return nil, fmt.Errorf("%w: key %q: %s needs curve %s, key is on %s", ErrAlgorithm, k.ID, k.Algorithm, want.Params().Name, pub.Curve.Params().Name)
		}
		// Copied through its encoding, which also checks the point.
		b, err := pub.Bytes()
		var cp *ecdsa.PublicKey
		if err == nil {
			cp, err = ecdsa.ParseUncompressedPublicKey(pub.Curve, b)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %v", ErrKey, k.ID, err)
		}
		return &key{id: k.ID, alg: k.Algorithm, mat: cp}, nil
	case "EdDSA":
		pub, ok := k.Material.(ed25519.PublicKey)
		if !ok || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: EdDSA needs an ed25519.PublicKey, key %q has %T", ErrAlgorithm, k.ID, k.Material)
		}
		return &key{id: k.ID, alg: k.Algorithm, mat: ed25519.PublicKey(bytes.Clone(pub))}, nil
	case "", "none":
		return nil, fmt.Errorf("%w: key %q has algorithm %q", ErrAlgorithm, k.ID, k.Algorithm)
	}
	return nil, fmt.Errorf("%w: key %q: unknown algorithm %q", ErrAlgorithm, k.ID, k.Algorithm)
}

// same reports whether k and o are the same key: id, algorithm and
// material.
func (k *key) same(o *key) bool {
	if k.id != o.id || k.alg != o.alg {
		return false
	}
	switch m := k.mat.(type) {
	case []byte:
		b, ok := o.mat.([]byte)
		return ok && bytes.Equal(m, b)
	case interface{ Equal(crypto.PublicKey) bool }:
		return m.Equal(o.mat)
	}
	return false
}

// keySet is an immutable snapshot of the keys, by id.
type keySet struct {
	byID map[string]*key
	// only is the key when the set holds exactly one, used for tokens
	// without a "kid"; nil otherwise.
	only *key
}

// newKeySet checks keys and builds a set; a duplicate id is an error.
func newKeySet(keys []Key) (*keySet, error) {
	s := &keySet{byID: make(map[string]*key, len(keys))}
	for _, k := range keys {
		c, err := k.check()
		if err != nil {
			return nil, err
		}
		if _, dup := s.byID[c.id]; dup {
			return nil, fmt.Errorf("%w: duplicate key id %q", ErrKey, c.id)
		}
		s.byID[c.id] = c
	}
	if len(s.byID) == 1 {
		for _, k := range s.byID {
			s.only = k
		}
	}
	return s, nil
}

// lookup returns the key for a token's kid: by id; or the only key of the
// set when the token names none, or when that key has no id. Nil when
// there is no such key.
func (s *keySet) lookup(kid string) *key {
	if k, ok := s.byID[kid]; ok {
		return k
	}
	if kid == "" || s.only != nil && s.only.id == "" {
		return s.only
	}
	return nil
}

// keys returns the set's keys as Key values, each with a copy of its
// material, so that the caller cannot change what the set verifies.
func (s *keySet) keys() []Key {
	out := make([]Key, 0, len(s.byID))
	for _, k := range s.byID {
		c, err := Key{ID: k.id, Algorithm: k.alg, Material: k.mat}.check() // check copies
		if err != nil {
			continue // cannot happen: k passed check when the set was made
		}
		out = append(out, Key{ID: c.id, Algorithm: c.alg, Material: c.mat})
	}
	return out
}
