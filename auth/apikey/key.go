package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
)

// The shape of a key: "<prefix>_<id>_<secret>", the id and the secret in
// lower-case base32 without padding (RFC 4648 alphabet, lower-cased), so
// that a key needs no escaping in a header, a query string or a URL.
const (
	// idBytes random bytes name a key: 80 bits, 16 characters.
	idBytes = 10
	idLen   = 16
	// secretBytes random bytes are the secret: 160 bits, 32 characters.
	secretBytes = 20
	secretLen   = 32
	// maxPrefixLen bounds [Config.Prefix] and [ManagerConfig.Prefix].
	maxPrefixLen = 16
	// DefaultPrefix is the prefix of keys when none is configured.
	DefaultPrefix = "gw"
)

var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Hash is the SHA-256 digest of a key's secret: what a [Store] keeps
// instead of the key.
type Hash [sha256.Size]byte

// hashSecret returns the digest of secret. A secret is 32 bytes, which
// sha256.Sum256's conversion keeps on the stack: no allocation.
func hashSecret(secret string) Hash {
	return sha256.Sum256([]byte(secret))
}

// equal compares two digests in constant time.
func (h *Hash) equal(o *Hash) bool {
	return subtle.ConstantTimeCompare(h[:], o[:]) == 1
}

// generate returns a new key with prefix, its id and the digest of its
// secret, from crypto/rand.
func generate(prefix string) (key, id string, h Hash) {
	var b [idBytes + secretBytes]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24 and later)
	id = encoding.EncodeToString(b[:idBytes])
	secret := encoding.EncodeToString(b[idBytes:])
	return prefix + "_" + id + "_" + secret, id, hashSecret(secret)
}

// parse splits key into its id and secret, without allocating, when key
// has the shape of a key with prefix. The substrings share key's memory.
func parse(prefix, key string) (id, secret string, ok bool) {
	if len(key) != len(prefix)+1+idLen+1+secretLen || key[:len(prefix)] != prefix {
		return "", "", false
	}
	rest := key[len(prefix):]
	if rest[0] != '_' || rest[1+idLen] != '_' {
		return "", "", false
	}
	id, secret = rest[1:1+idLen], rest[2+idLen:]
	if !inAlphabet(id) || !inAlphabet(secret) {
		return "", "", false
	}
	return id, secret, true
}

// hasPrefix reports whether key starts with prefix and an underscore: a
// key of this package, well formed or not.
func hasPrefix(prefix, key string) bool {
	return len(key) > len(prefix) && key[:len(prefix)] == prefix && key[len(prefix)] == '_'
}

func inAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// checkPrefix validates a configured prefix: 1 to 16 characters of a-z
// and 0-9, and returns the default for "".
func checkPrefix(p string) (string, error) {
	if p == "" {
		return DefaultPrefix, nil
	}
	if len(p) > maxPrefixLen {
		return "", fmt.Errorf("apikey: prefix %q longer than %d characters", p, maxPrefixLen)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return "", fmt.Errorf("apikey: prefix %q: only a-z and 0-9 are allowed", p)
		}
	}
	return p, nil
}

// ValidID reports whether id has the shape of a key id.
func ValidID(id string) bool {
	return len(id) == idLen && inAlphabet(id)
}

var errBadID = errors.New("apikey: malformed key id")
