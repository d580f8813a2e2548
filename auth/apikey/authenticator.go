package apikey

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/vivremotion/gateway/auth"
)

// SourceKind is where a [Source] reads a key.
type SourceKind uint8

// The places a key is read from.
const (
	// FromBearer reads `Authorization: Bearer <key>`. A bearer token that
	// does not start with the key prefix is someone else's (a JWT, say):
	// the Authenticator answers [auth.ErrNoCredentials] so that the next
	// Authenticator is asked.
	FromBearer SourceKind = iota + 1
	// FromHeader reads the header Name.
	FromHeader
	// FromQuery reads the query parameter Name. Proxies and servers log
	// URLs: see the package's Security section.
	FromQuery
)

// Source is one place a key is read from.
type Source struct {
	Kind SourceKind
	// Name is the header or query parameter, for FromHeader and FromQuery.
	Name string
}

// Bearer returns the Source `Authorization: Bearer <key>`.
func Bearer() Source { return Source{Kind: FromBearer} }

// Header returns the Source of the header name, such as "X-API-Key".
func Header(name string) Source { return Source{Kind: FromHeader, Name: name} }

// Query returns the Source of the query parameter name, such as "api_key".
func Query(name string) Source { return Source{Kind: FromQuery, Name: name} }

// Config configures an [Authenticator]. The zero value needs only Store.
type Config struct {
	// Store holds the keys' records. Required.
	Store Store
	// Prefix is the prefix of the keys, as given to [ManagerConfig].
	// Default [DefaultPrefix] ("gw").
	Prefix string
	// Sources are where a key is read, in order; the first present wins.
	// Default: [Bearer], then [Header]("X-API-Key").
	Sources []Source
	// Scheme is the auth-scheme of the challenge sent with a 401:
	// "Bearer" or "ApiKey", say. Default "Bearer".
	Scheme string
	// Realm is the challenge's realm. Default "api".
	Realm string
}

// Authenticator authenticates requests by API key: an [auth.Authenticator]
// and [auth.Challenger]. Its zero value is not usable: call [New].
type Authenticator struct {
	store     Store
	prefix    string
	sources   []Source
	challenge string
}

// New returns an Authenticator for c.
func New(c Config) (*Authenticator, error) {
	if c.Store == nil {
		return nil, errors.New("apikey: New: Config.Store is nil")
	}
	prefix, err := checkPrefix(c.Prefix)
	if err != nil {
		return nil, err
	}
	a := &Authenticator{store: c.Store, prefix: prefix}
	srcs := c.Sources
	if len(srcs) == 0 {
		srcs = []Source{Bearer(), Header("X-API-Key")}
	}
	for _, s := range srcs {
		switch s.Kind {
		case FromBearer:
			s.Name = "Authorization"
		case FromHeader, FromQuery:
			if s.Name == "" || strings.ContainsAny(s.Name, " \t\r\n=&;") {
				return nil, fmt.Errorf("apikey: New: source name %q is not a header or parameter name", s.Name)
			}
			if s.Kind == FromHeader {
				s.Name = textproto.CanonicalMIMEHeaderKey(s.Name)
			}
		default:
			return nil, fmt.Errorf("apikey: New: unknown source kind %d", s.Kind)
		}
		a.sources = append(a.sources, s) // a copy: the caller's slice is not kept
	}
	scheme, realm := c.Scheme, c.Realm
	if scheme == "" {
		scheme = "Bearer"
	}
	if realm == "" {
		realm = "api"
	}
	if !token(scheme) || strings.ContainsAny(realm, "\"\\\r\n") {
		return nil, fmt.Errorf("apikey: New: bad challenge scheme %q or realm %q", scheme, realm)
	}
	a.challenge = scheme + ` realm="` + realm + `"`
	return a, nil
}

func token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// Challenge returns the WWW-Authenticate challenge, such as
// `Bearer realm="api"`.
func (a *Authenticator) Challenge() string { return a.challenge }

// The causes of a refusal, for errors.Is on the error of Authenticate.
var (
	// ErrInvalidKey is a malformed key, an unknown id or a wrong secret:
	// the client is not told which.
	ErrInvalidKey = errors.New("apikey: invalid key")
	ErrPending    = errors.New("apikey: key pending approval")
	ErrSuspended  = errors.New("apikey: key suspended")
	ErrRevoked    = errors.New("apikey: key revoked")
	ErrExpired    = errors.New("apikey: key expired")
)

// The errors Authenticate returns, made once: a refusal allocates nothing.
// The state is told only once the secret was verified, since only the
// key's owner can then be reading it.
var (
	errNoKey     = fmt.Errorf("%w: no api key", auth.ErrNoCredentials)
	errInvalid   = &auth.Error{Code: auth.CodeInvalidToken, Description: "invalid api key", Err: ErrInvalidKey}
	errPending   = &auth.Error{Code: auth.CodeInvalidToken, Description: "api key pending approval", Err: ErrPending}
	errSuspended = &auth.Error{Code: auth.CodeInvalidToken, Description: "api key suspended", Err: ErrSuspended}
	errRevoked   = &auth.Error{Code: auth.CodeInvalidToken, Description: "api key revoked", Err: ErrRevoked}
	errExpired   = &auth.Error{Code: auth.CodeInvalidToken, Description: "api key expired", Err: ErrExpired}
)

// dummy is compared with the secret of a key whose id is unknown, so that
// such a key costs the same hash and compare as a known one.
var dummy = hashSecret("the digest no secret has, really")

// testHookDummy, when set by a test, is called when dummy is compared.
var testHookDummy func()

// Authenticate reads a key from r and returns its Principal, shared with
// every request of the key: read-only. It returns an error wrapping
// [auth.ErrNoCredentials] when r carries no key, an [*auth.Error]
// (invalid_token) when the key is refused, and the Store's error when the
// store fails. A key rotated out and still in its overlap is refused like
// the key that replaced it when that one is suspended or revoked (one
// more Get per rotation followed). With [MemoryStore], or a cached
// [RedisStore] that holds the key, it allocates nothing.
func (a *Authenticator) Authenticate(r *http.Request) (*auth.Principal, error) {
	key, ok := a.read(r)
	if !ok {
		return nil, errNoKey
	}
	id, secret, ok := parse(a.prefix, key)
	if !ok {
		return nil, errInvalid
	}
	rec, err := a.store.Get(r.Context(), id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		// The store could not answer: no verdict on the key (503).
		return nil, &auth.Error{Status: http.StatusServiceUnavailable, Description: "api key store unavailable", Err: fmt.Errorf("apikey: %w", err)}
	}
	want := &dummy
	if rec != nil {
		want = &rec.Hash
	} else if testHookDummy != nil {
		testHookDummy()
	}
	h := hashSecret(secret)
	if !h.equal(want) || rec == nil {
		return nil, errInvalid
	}
	switch rec.State {
	case Approved:
	case Pending:
		return nil, errPending
	case Suspended:
		return nil, errSuspended
	default:
		return nil, errRevoked
	}
	if !rec.Expires.IsZero() && !time.Now().Before(rec.Expires) {
		return nil, errExpired
	}
	if rec.ReplacedBy != "" {
		if err := a.replacementOK(r, rec); err != nil {
			return nil, err
		}
	}
	return rec.Principal(), nil
}

// maxReplacements bounds the rotations followed from a rotated-out key
// to its subscription's current key.
const maxReplacements = 8

// replacementOK checks the keys that replaced rec, during its overlap: a
// subscription whose current key is suspended or revoked does not go on
// through a key it rotated out. A replacement that is gone counts as
// revoked, and a key more than maxReplacements rotations behind as
// expired.
func (a *Authenticator) replacementOK(r *http.Request, rec *Record) error {
	for range maxReplacements {
		next, err := a.store.Get(r.Context(), rec.ReplacedBy)
		switch {
		case errors.Is(err, ErrNotFound):
			return errRevoked
		case err != nil:
			return &auth.Error{Status: http.StatusServiceUnavailable, Description: "api key store unavailable", Err: fmt.Errorf("apikey: %w", err)}
		}
		switch next.State {
		case Approved:
		case Pending:
			return errPending
		case Suspended:
			return errSuspended
		default:
			return errRevoked
		}
		if next.ReplacedBy == "" {
			return nil
		}
		rec = next
	}
	return errExpired
}

// read returns the key from the first source that has one.
func (a *Authenticator) read(r *http.Request) (string, bool) {
	for i := range a.sources {
		s := &a.sources[i]
		switch s.Kind {
		case FromBearer:
			v := first(r.Header[s.Name])
			const bearer = "bearer "
			if len(v) > len(bearer) && strings.EqualFold(v[:len(bearer)], bearer) {
				v = strings.TrimLeft(v[len(bearer):], " ")
				if hasPrefix(a.prefix, v) {
					return v, true
				}
			}
		case FromHeader:
			if v := first(r.Header[s.Name]); v != "" {
				return v, true
			}
		case FromQuery:
			if v, ok := queryValue(r.URL.RawQuery, s.Name); ok && v != "" {
				return v, true
			}
		}
	}
	return "", false
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// queryValue returns the first value of name in the raw query, without
// allocating. A value with escapes is returned as is: a key has none, so
// it is refused as malformed.
func queryValue(q, name string) (string, bool) {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == name {
			return v, true
		}
	}
	return "", false
}
