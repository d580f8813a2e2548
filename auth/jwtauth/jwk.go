package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// ErrSkipped reports a JWK that is not for verifying signatures (its "use"
// is not "sig", or its "key_ops" lack "verify"), whose "kty" is not
// understood, or that has no "alg" and no default fits it. [ParseJWKSet]
// leaves such keys out; [ParseJWK] returns the error.
var ErrSkipped = errors.New("jwtauth: JWK not usable for verification")

// maxJWKSetKeys bounds the keys taken from one JWK Set.
const maxJWKSetKeys = 100

// jwk holds the members of a JWK (RFC 7517 section 4, RFC 7518 section 6,
// RFC 8037) that verification needs.
type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Kid    string   `json:"kid"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	K      string   `json:"k"`
}

// ParseJWK reads one JWK (RFC 7517) as a [Key]: kty RSA, EC (P-256, P-384,
// P-521), OKP (Ed25519) or oct. The key is pinned to its "alg" member;
// when it has none, to the first of defaultAlgs that fits its type
// (RS256 for an RSA key, say). A "use" other than "sig", or "key_ops"
// without "verify", make the key unusable ([ErrSkipped]). Private members
// ("d" and the like) are ignored: only the public part is kept.
func ParseJWK(data []byte, defaultAlgs ...string) (Key, error) {
	var j jwk
	if err := json.Unmarshal(data, &j); err != nil {
		return Key{}, fmt.Errorf("%w: JWK: %v", ErrKey, err)
	}
	return j.key(defaultAlgs)
}

// ParseJWKSet reads a JWK Set (RFC 7517 section 5) as Keys. Keys that are
// not for signatures, of an unknown kty, or with no usable algorithm are
// left out, as section 5 asks; a malformed key of a known kind, a
// duplicate kid or more than 100 keys are errors.
//
// ParseJWKSet is strict, for sets written into the configuration; a
// [JWKS] skips the unusable keys of a fetched set instead.
func ParseJWKSet(data []byte, defaultAlgs ...string) ([]Key, error) {
	raws, err := jwkSetMembers(data)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(raws))
	seen := make(map[string]bool, len(raws))
	for _, raw := range raws {
		k, err := ParseJWK(raw, defaultAlgs...)
		if errors.Is(err, ErrSkipped) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("%w: JWK Set: duplicate kid %q", ErrKey, k.ID)
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// jwkSetMembers returns the members of a JWK Set's "keys", at most
// maxJWKSetKeys of them.
func jwkSetMembers(data []byte) ([]json.RawMessage, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%w: JWK Set: %v", ErrKey, err)
	}
	if set.Keys == nil {
		return nil, fmt.Errorf("%w: JWK Set: no \"keys\" member", ErrKey)
	}
	if len(set.Keys) > maxJWKSetKeys {
		return nil, fmt.Errorf("%w: JWK Set: %d keys, at most %d", ErrKey, len(set.Keys), maxJWKSetKeys)
	}
	return set.Keys, nil
}

// b64 decodes a base64url member without padding.
func b64(name, s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: JWK: missing %q", ErrKey, name)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: JWK: member %q is not base64url", ErrKey, name)
	}
	return b, nil
}

// algsFor lists the algorithms that fit a JWK's type.
func (j *jwk) algsFor() []string {
	switch j.Kty {
	case "RSA":
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case "EC":
		switch j.Crv {
		case "P-256":
			return []string{"ES256"}
		case "P-384":
			return []string{"ES384"}
		case "P-521":
			return []string{"ES512"}
		}
	case "OKP":
		return []string{"EdDSA"}
	case "oct":
		return []string{"HS256", "HS384", "HS512"}
	}
	return nil
}

func (j *jwk) key(defaultAlgs []string) (Key, error) {
	if j.Use != "" && j.Use != "sig" {
		return Key{}, fmt.Errorf("%w: kid %q has use %q", ErrSkipped, j.Kid, j.Use)
	}
	if j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify") {
		return Key{}, fmt.Errorf("%w: kid %q: key_ops lack \"verify\"", ErrSkipped, j.Kid)
	}
	fits := j.algsFor()
	if fits == nil {
		return Key{}, fmt.Errorf("%w: kid %q: kty %q crv %q not supported", ErrSkipped, j.Kid, j.Kty, j.Crv)
	}
	alg := j.Alg
	if alg == "" {
		for _, a := range defaultAlgs {
			if slices.Contains(fits, a) {
				alg = a
				break
			}
		}
		if alg == "" {
			return Key{}, fmt.Errorf("%w: kid %q has no \"alg\" and no default algorithm fits kty %q", ErrSkipped, j.Kid, j.Kty)
		}
	} else if !slices.Contains(algorithms, alg) {
		// An encryption or key-wrapping algorithm (RFC 7518 sections 4,
		// 5): not a key for verifying signatures.
		return Key{}, fmt.Errorf("%w: kid %q: alg %q is not a signature algorithm", ErrSkipped, j.Kid, alg)
	} else if !slices.Contains(fits, alg) {
		return Key{}, fmt.Errorf("%w: kid %q: alg %q does not fit kty %q", ErrAlgorithm, j.Kid, alg, j.Kty)
	}
	var mat any
	switch j.Kty {
	case "RSA":
		n, err := b64("n", j.N)
		if err != nil {
			return Key{}, err
		}
		e, err := b64("e", j.E)
		if err != nil {
			return Key{}, err
		}
		if len(e) > 4 {
			return Key{}, fmt.Errorf("%w: JWK: RSA exponent too large", ErrKey)
		}
		ev := int(new(big.Int).SetBytes(e).Int64())
		if ev < 3 || ev%2 == 0 {
			return Key{}, fmt.Errorf("%w: JWK: bad RSA exponent", ErrKey)
		}
		mat = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
	case "EC":
		x, err := b64("x", j.X)
		if err != nil {
			return Key{}, err
		}
		y, err := b64("y", j.Y)
		if err != nil {
			return Key{}, err
		}
		curve := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[j.Crv]
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return Key{}, fmt.Errorf("%w: JWK: %s coordinates must be %d bytes", ErrKey, j.Crv, size)
		}
		// The uncompressed point form, which ParseUncompressedPublicKey
		// checks is on the curve.
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return Key{}, fmt.Errorf("%w: JWK: EC point: %v", ErrKey, err)
		}
		mat = pub
	case "OKP":
		if j.Crv != "Ed25519" {
			return Key{}, fmt.Errorf("%w: kid %q: OKP curve %q not supported", ErrSkipped, j.Kid, j.Crv)
		}
		x, err := b64("x", j.X)
		if err != nil {
			return Key{}, err
		}
		if len(x) != ed25519.PublicKeySize {
			return Key{}, fmt.Errorf("%w: JWK: Ed25519 key must be %d bytes", ErrKey, ed25519.PublicKeySize)
		}
		mat = ed25519.PublicKey(x)
	case "oct":
		k, err := b64("k", j.K)
		if err != nil {
			return Key{}, err
		}
		mat = k
	}
	k := Key{ID: j.Kid, Algorithm: alg, Material: mat}
	if _, err := k.check(); err != nil {
		return Key{}, err
	}
	return k, nil
}
