package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"

	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/crypto/bcrypt"
)

// BasicUser is one user of [Basic]: a bcrypt hash of the password and
// what the [Principal] says about the user.
type BasicUser struct {
	// Hash is the bcrypt hash of the password, as htpasswd -B or
	// bcrypt.GenerateFromPassword writes it ("$2a$", "$2b$" or "$2y$").
	// Required.
	Hash string
	// Tenant, Plan, Scopes and Roles go into the Principal as they are.
	Tenant string
	Plan   string
	Scopes []string
	Roles  []string
}

// BasicConfig configures [NewBasic]. Every field's zero value works.
type BasicConfig struct {
	// Realm is sent in the challenge, `Basic realm="..", charset="UTF-8"`
	// (RFC 7617). It must be printable ASCII without '"' or '\'. Empty:
	// "restricted".
	Realm string
	// Users maps a user name to the user. A name may not hold ':'. Nil:
	// nobody, until [Basic.SetUsers].
	Users map[string]BasicUser
	// MinCost is the lowest bcrypt cost a hash may have; a user with a
	// cheaper hash is an error at construction. Zero: 10
	// (bcrypt.DefaultCost). It may not be below 4 (bcrypt.MinCost).
	// Every user's hash must have the same cost, whatever it is: an
	// unknown user is checked against a hash of that cost, and a user
	// with a cheaper hash would answer faster, telling that it exists.
	MinCost int
	// MaxHeaderBytes bounds the Authorization header's value; a longer one
	// is refused before it is decoded. Zero: 1024 bytes. At most 4096.
	MaxHeaderBytes int
	// CacheSize bounds the cache of recent successful logins, which spares
	// a repeated login the bcrypt comparison (about 50 ms at cost 10). An
	// entry is keyed by a SHA-256 of the credentials under a secret key
	// made at construction, never the password itself, and holds the
	// user's entry, so that [Basic.SetUsers] revokes it at once. Zero:
	// 1024 entries; negative: no cache.
	CacheSize int
}

// Basic authenticates HTTP Basic credentials (RFC 7617) against bcrypt
// hashes. It is an [Authenticator] and a [Challenger]. Build it with
// [NewBasic]; it is safe for concurrent use.
type Basic struct {
	challenge string
	minCost   int
	maxLen    int
	users     atomic.Pointer[basicTable]
	secret    [32]byte // keys the cache's hashes
	cache     *basicCache
}

// basicTable is one generation of users, swapped whole by SetUsers.
type basicTable struct {
	users map[string]*basicEntry
	dummy []byte // the hash an unknown user is compared against
}

type basicEntry struct {
	hash []byte
	p    *Principal // shared with every request of the user: read-only
}

const (
	basicMaxHeader = 4096
	basicScheme    = "Basic "
	// basicMaxPassword is the most bcrypt reads of a password.
	basicMaxPassword = 72
)

// basicInvalid is the one error of every refused login, whatever the cause.
func basicInvalid() *Error {
	return &Error{Status: http.StatusUnauthorized, Description: "invalid credentials"}
}

// NewBasic returns a [Basic] for c. It fails for a realm that cannot be
// quoted, a user name with ':', a hash that is not bcrypt or is cheaper
// than MinCost, users whose hashes differ in cost, or bounds out of
// range. It computes one bcrypt hash of its
// own (the one unknown users are compared against). c is copied.
func NewBasic(c BasicConfig) (*Basic, error) {
	realm := c.Realm
	if realm == "" {
		realm = "restricted"
	}
	if !validQuoted(realm) {
		return nil, fmt.Errorf("auth: Basic realm %q cannot be quoted", realm)
	}
	b := &Basic{
		challenge: `Basic realm="` + realm + `", charset="UTF-8"`,
		minCost:   c.MinCost,
		maxLen:    c.MaxHeaderBytes,
	}
	switch {
	case b.minCost == 0:
		b.minCost = bcrypt.DefaultCost
	case b.minCost < bcrypt.MinCost || b.minCost > bcrypt.MaxCost:
		return nil, fmt.Errorf("auth: Basic MinCost %d is outside %d..%d", c.MinCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	switch {
	case b.maxLen == 0:
		b.maxLen = 1024
	case b.maxLen < len(basicScheme)+4 || b.maxLen > basicMaxHeader:
		return nil, fmt.Errorf("auth: Basic MaxHeaderBytes %d is outside %d..%d", c.MaxHeaderBytes, len(basicScheme)+4, basicMaxHeader)
	}
	if c.CacheSize >= 0 {
		n := c.CacheSize
		if n == 0 {
			n = 1024
		}
		b.cache = &basicCache{max: n, m: make(map[[32]byte]*basicEntry)}
	}
	if _, err := rand.Read(b.secret[:]); err != nil {
		return nil, err
	}
	if err := b.SetUsers(c.Users); err != nil {
		return nil, err
	}
	return b, nil
}

// SetUsers replaces the users, as [NewBasic] checks them. Logins of a user
// who is gone, or whose hash changed, stop working at once, cached ones
// included. On error nothing changes.
func (b *Basic) SetUsers(users map[string]BasicUser) error {
	t := &basicTable{users: make(map[string]*basicEntry, len(users))}
	cost, costOf := b.minCost, ""
	for name, u := range users {
		if strings.IndexByte(name, ':') >= 0 || name == "" {
			return fmt.Errorf("auth: Basic user name %q is empty or holds ':'", name)
		}
		c, err := bcrypt.Cost([]byte(u.Hash))
		if err != nil {
			return fmt.Errorf("auth: Basic user %q: hash is not bcrypt: %w", name, err)
		}
		if c < b.minCost {
			return fmt.Errorf("auth: Basic user %q: bcrypt cost %d is below MinCost %d", name, c, b.minCost)
		}
		switch {
		case costOf == "":
			cost, costOf = c, name
		case c != cost:
			return fmt.Errorf("auth: Basic user %q: bcrypt cost %d differs from the cost %d of user %q: all users need one cost", name, c, cost, costOf)
		}
		t.users[name] = &basicEntry{
			hash: []byte(u.Hash),
			p: &Principal{
				Subject: name, Tenant: u.Tenant, Plan: u.Plan,
				Scopes: slices.Clone(u.Scopes), Roles: slices.Clone(u.Roles),
				Method: "basic",
			},
		}
	}
	// An unknown user costs a bcrypt comparison as dear as a known one,
	// so that timing does not tell which users exist: hence one cost.
	var pw [16]byte
	rand.Read(pw[:])
	dummy, err := bcrypt.GenerateFromPassword(pw[:], cost)
	if err != nil {
		return err
	}
	t.dummy = dummy
	b.users.Store(t)
	return nil
}

// Challenge returns `Basic realm="..", charset="UTF-8"`.
func (b *Basic) Challenge() string { return b.challenge }

// Authenticate checks the request's Basic credentials. It returns
// [ErrNoCredentials] when there is no Authorization header or it holds
// another scheme, and an [*Error] (401) when the header is too long,
// malformed, or names an unknown user or a wrong password, the same for
// all. A cached login costs no allocation.
func (b *Basic) Authenticate(r *http.Request) (*Principal, error) {
	v := r.Header.Get("Authorization")
	if len(v) < len(basicScheme) || !strings.EqualFold(v[:len(basicScheme)], basicScheme) {
		return nil, ErrNoCredentials
	}
	if len(v) > b.maxLen {
		return nil, basicInvalid()
	}
	enc := strings.TrimLeft(v[len(basicScheme):], " ")
	// The secret, then the decoded "user:password": the cache's key is the
	// SHA-256 of both. On the stack: nothing escapes.
	var buf [32 + basicMaxHeader*3/4]byte
	copy(buf[:32], b.secret[:])
	n, err := base64.StdEncoding.Decode(buf[32:], unsafe.Slice(unsafe.StringData(enc), len(enc)))
	if err != nil {
		return nil, basicInvalid()
	}
	cred := buf[32 : 32+n]
	i := slices.Index(cred, ':')
	if i <= 0 {
		return nil, basicInvalid()
	}
	user, pass := cred[:i], cred[i+1:]
	if len(pass) > basicMaxPassword {
		// bcrypt reads only the first 72 bytes: a longer password would
		// match whatever follows them. Refused whoever the user is.
		return nil, basicInvalid()
	}
	t := b.users.Load()
	e := t.users[string(user)] // no allocation: the compiler knows the string does not outlive the lookup
	key := sha256.Sum256(buf[:32+n])
	if b.cache != nil && e != nil && b.cache.get(key) == e {
		return e.p, nil
	}
	hash := t.dummy
	if e != nil {
		hash = e.hash
	}
	if bcrypt.CompareHashAndPassword(hash, pass) != nil || e == nil {
		return nil, basicInvalid()
	}
	if b.cache != nil {
		b.cache.add(key, e)
	}
	return e.p, nil
}

// basicCache maps the keyed hash of a successful login's credentials to
// the user's entry, up to max entries; when full, an arbitrary entry makes
// room (Go's map iteration order is randomized).
type basicCache struct {
	mu  sync.RWMutex // guards m
	m   map[[32]byte]*basicEntry
	max int
}

func (c *basicCache) get(k [32]byte) *basicEntry {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	return e
}

func (c *basicCache) add(k [32]byte, e *basicEntry) {
	c.mu.Lock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = e
	c.mu.Unlock()
}
