package jwtauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth"
)

// Config configures an [Authenticator]. Exactly one of Keys and JWKS must
// be set; every other field's zero value is a sound default.
type Config struct {
	// Keys are fixed verification keys, from [ParsePEM], [ParseJWK],
	// [ParseJWKSet] or written out. Each is pinned to its algorithm.
	Keys []Key
	// JWKS is a key set fetched from a URL and kept fresh ([NewJWKS]).
	// The Authenticator does not own it: close it after the last use.
	JWKS *JWKS

	// Issuer, when set, must equal the token's "iss". Default: not checked.
	Issuer string
	// Audience, when set, must contain one of the token's "aud" values.
	// An empty entry is an error. Default: not checked.
	Audience []string
	// Leeway is the clock skew allowed for "exp", "nbf" and "iat".
	// Default 0; it must be between 0 and [MaxLeeway] (5 minutes): a
	// larger one would keep expired tokens usable.
	Leeway time.Duration
	// AllowNoExpiry accepts tokens without "exp". Default: "exp" is
	// required. Tokens without "exp" are never cached.
	AllowNoExpiry bool
	// CheckIssuedAt rejects tokens whose "iat" is in the future (beyond
	// Leeway). Default: "iat" is not checked.
	CheckIssuedAt bool
	// RequiredClaims are claims every token must carry (with any non-null
	// value). Default: none beyond "exp".
	RequiredClaims []string
	// Type, when set, must match the token's "typ" header, compared
	// without case and without an "application/" prefix (RFC 8725
	// section 3.11), such as "at+jwt" (RFC 9068). Default: not checked.
	Type string

	// TenantClaim names the claim read as [auth.Principal.Tenant]: a
	// string, at a dotted path when the name itself is not a claim.
	// Default: no tenant.
	TenantClaim string
	// PlanClaim names the claim read as [auth.Principal.Plan], like
	// TenantClaim. Default: no plan.
	PlanClaim string
	// RolesClaim names the claim read as [auth.Principal.Roles]: an array
	// of strings or a space-separated string, at a dotted path such as
	// "realm_access.roles" when the name itself is not a claim.
	// Default "roles".
	RolesClaim string

	// MaxTokenBytes bounds the length of a token, checked before any
	// parsing. Default 8192 bytes.
	MaxTokenBytes int
	// CacheSize bounds the number of verified tokens kept, so that a
	// repeated token is not verified again; the cache never holds more.
	// Default 10000; negative turns the cache off.
	CacheSize int
	// Realm is the realm of the WWW-Authenticate challenge. Default "api".
	Realm string
}

// Defaults of [Config].
const (
	DefaultMaxTokenBytes = 8192
	DefaultCacheSize     = 10000
	DefaultRolesClaim    = "roles"
	DefaultRealm         = "api"
)

// MaxLeeway is the largest [Config.Leeway] that [New] accepts.
const MaxLeeway = 5 * time.Minute

// Authenticator authenticates requests by a JWT in "Authorization:
// Bearer" (RFC 6750 section 2.1), signed by one of its keys. It is safe
// for concurrent use.
type Authenticator struct {
	static         *keySet
	jwks           *JWKS
	parsers        map[string]*jwt.Parser // by algorithm, each allowing only it
	requiredClaims []string
	typ            string
	leeway         time.Duration
	tenantClaim    string
	planClaim      string
	rolesClaim     string
	maxTokenBytes  int
	cache          *tokenCache // nil when off
	challenge      string
}

// algorithms are those a Key may be pinned to.
var algorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// New returns an Authenticator for cfg, or an error when cfg is not
// usable: no keys or both kinds, a key whose material does not fit its
// algorithm, a duplicate key id, a negative limit, a realm that cannot be
// quoted.
func New(cfg Config) (*Authenticator, error) {
	a := &Authenticator{
		jwks:           cfg.JWKS,
		requiredClaims: append([]string(nil), cfg.RequiredClaims...),
		typ:            normType(cfg.Type),
		leeway:         cfg.Leeway,
		tenantClaim:    cfg.TenantClaim,
		planClaim:      cfg.PlanClaim,
		rolesClaim:     cfg.RolesClaim,
		maxTokenBytes:  cfg.MaxTokenBytes,
	}
	switch {
	case cfg.JWKS != nil && len(cfg.Keys) > 0:
		return nil, errors.New("jwtauth: set Keys or JWKS, not both")
	case cfg.JWKS != nil && cfg.JWKS.set.Load() == nil:
		return nil, errors.New("jwtauth: JWKS not made by NewJWKS")
	case cfg.JWKS == nil:
		if len(cfg.Keys) == 0 {
			return nil, errors.New("jwtauth: no keys: set Keys or JWKS")
		}
		s, err := newKeySet(cfg.Keys)
		if err != nil {
			return nil, err
		}
		a.static = s
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("jwtauth: negative Leeway %v", cfg.Leeway)
	}
	if cfg.Leeway > MaxLeeway {
		return nil, fmt.Errorf("jwtauth: Leeway %v above MaxLeeway %v", cfg.Leeway, MaxLeeway)
	}
	if slices.Contains(cfg.Audience, "") {
		// It would match a token whose "aud" holds "" next to anything.
		return nil, errors.New("jwtauth: empty entry in Audience")
	}
	if cfg.MaxTokenBytes < 0 {
		return nil, fmt.Errorf("jwtauth: negative MaxTokenBytes %d", cfg.MaxTokenBytes)
	}
	if a.maxTokenBytes == 0 {
		a.maxTokenBytes = DefaultMaxTokenBytes
	}
	if a.rolesClaim == "" {
		a.rolesClaim = DefaultRolesClaim
	}
	for _, c := range a.requiredClaims {
		if c == "" {
			return nil, errors.New("jwtauth: empty name in RequiredClaims")
		}
	}
	realm := cfg.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	for _, r := range realm {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return nil, fmt.Errorf("jwtauth: Realm %q cannot be quoted", realm)
		}
	}
	a.challenge = `Bearer realm="` + realm + `"`
	switch {
	case cfg.CacheSize == 0:
		a.cache = newTokenCache(DefaultCacheSize)
	case cfg.CacheSize > 0:
		a.cache = newTokenCache(cfg.CacheSize)
	}

	opts := []jwt.ParserOption{jwt.WithLeeway(cfg.Leeway), jwt.WithStrictDecoding()}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if len(cfg.Audience) > 0 {
		opts = append(opts, jwt.WithAudience(slices.Clone(cfg.Audience)...)) // the parser keeps the slice
	}
	if !cfg.AllowNoExpiry {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if cfg.CheckIssuedAt {
		opts = append(opts, jwt.WithIssuedAt())
	}
	a.parsers = make(map[string]*jwt.Parser, len(algorithms))
	for _, alg := range algorithms {
		a.parsers[alg] = jwt.NewParser(append(slices.Clip(opts), jwt.WithValidMethods([]string{alg}))...)
	}
	return a, nil
}

// Challenge returns the WWW-Authenticate challenge: Bearer realm="...".
func (a *Authenticator) Challenge() string { return a.challenge }

// The errors the client is told about, by description; Err says why.
func invalidToken(desc string, cause error) error {
	return &auth.Error{Code: auth.CodeInvalidToken, Description: desc, Err: cause}
}

func invalidRequest(desc string) error {
	return &auth.Error{Code: auth.CodeInvalidRequest, Description: desc}
}

// The causes of rejection, for errors.Is on the Err of an [*auth.Error].
var (
	ErrMalformed    = errors.New("jwtauth: malformed token")
	ErrTooLarge     = errors.New("jwtauth: token too large")
	ErrAlgNone      = errors.New("jwtauth: unsigned token (alg none)")
	ErrAlgMismatch  = errors.New("jwtauth: token alg differs from the key's")
	ErrUnknownKey   = errors.New("jwtauth: no key for the token's kid")
	ErrCritical     = errors.New("jwtauth: token has critical header extensions")
	ErrType         = errors.New("jwtauth: token typ not accepted")
	ErrMissingClaim = errors.New("jwtauth: required claim missing")
)

// Authenticate returns the Principal of the request's bearer token. It
// wraps [auth.ErrNoCredentials] when the request has no "Authorization:
// Bearer" header; every other failure is an [*auth.Error]. A token seen
// before and still valid is answered from the cache without allocating.
func (a *Authenticator) Authenticate(r *http.Request) (*auth.Principal, error) {
	tok, err := bearer(r.Header)
	if err != nil {
		return nil, err
	}
	if len(tok) > a.maxTokenBytes {
		return nil, invalidToken("token too large", ErrTooLarge)
	}
	now := time.Now()
	if a.cache != nil {
		if p := a.cache.get(tok, now.UnixNano()); p != nil {
			return p, nil
		}
	}
	return a.verify(r.Context(), tok, now)
}

// bearer reads the token of "Authorization: Bearer <token>" without
// allocating.
func bearer(h http.Header) (string, error) {
	tok, err := auth.BearerToken(h)
	switch {
	case err == nil, errors.Is(err, auth.ErrNoCredentials):
		return tok, err
	case errors.Is(err, auth.ErrBearerDuplicate):
		return "", errDuplicateHeader
	case errors.Is(err, auth.ErrBearerEmpty):
		return "", errEmptyToken
	}
	return "", errMalformedHeader
}

// The refusals of a malformed Authorization header, made once so that
// refusing allocates nothing.
var (
	errDuplicateHeader = invalidRequest("more than one Authorization header")
	errEmptyToken      = invalidRequest("empty bearer token")
	errMalformedHeader = invalidToken("malformed token", ErrMalformed)
)

// header is the part of a JOSE header that is checked before the
// signature.
type header struct {
	alg, kid, typ string
	crit          bool
}

// parseHeader decodes the protected header of a compact JWS. Members are
// matched by their exact names (encoding/json would match "ALG" too).
func parseHeader(tok string) (header, error) {
	dot := strings.IndexByte(tok, '.')
	if dot < 0 || strings.Count(tok, ".") != 2 {
		return header{}, ErrMalformed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok[:dot])
	if err != nil {
		return header{}, ErrMalformed
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return header{}, ErrMalformed
	}
	var h header
	for name, dst := range map[string]*string{"alg": &h.alg, "kid": &h.kid, "typ": &h.typ} {
		if v, ok := m[name]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return header{}, ErrMalformed
			}
		}
	}
	_, h.crit = m["crit"]
	return h, nil
}

// normType folds a media type for comparison (RFC 7515 section 4.1.9).
func normType(t string) string {
	t = strings.ToLower(t)
	return strings.TrimPrefix(t, "application/")
}

// verify checks tok fully and caches its Principal.
func (a *Authenticator) verify(ctx context.Context, tok string, now time.Time) (*auth.Principal, error) {
	h, err := parseHeader(tok)
	if err != nil {
		return nil, invalidToken("malformed token", err)
	}
	// RFC 7515 section 4.1.11: a recipient must reject a token whose crit
	// names an extension it does not understand. This verifier
	// understands none, so any crit is refused.
	if h.crit {
		return nil, invalidToken("invalid token", ErrCritical)
	}
	if h.alg == "" || strings.EqualFold(h.alg, "none") {
		return nil, invalidToken("invalid token", ErrAlgNone)
	}
	if a.typ != "" && normType(h.typ) != a.typ {
		return nil, invalidToken("invalid token", ErrType)
	}
	k := a.lookup(ctx, h.kid)
	if k == nil {
		return nil, invalidToken("invalid token", ErrUnknownKey)
	}
	// The key's pinned algorithm decides, never the token: an HS256 token
	// cannot be checked with an RSA key's bytes as its secret.
	if h.alg != k.alg {
		return nil, invalidToken("invalid token", ErrAlgMismatch)
	}
	claims := jwt.MapClaims{}
	mat := k.mat
	if _, err := a.parsers[k.alg].ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return mat, nil }); err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			return nil, invalidToken("token expired", err)
		case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return nil, invalidToken("token not yet valid", err)
		case errors.Is(err, jwt.ErrTokenMalformed):
			return nil, invalidToken("malformed token", err)
		}
		return nil, invalidToken("invalid token", err)
	}
	// jwt/v5 reads "iat" only when asked to check it; a malformed one is
	// refused all the same.
	if _, err := claims.GetIssuedAt(); err != nil {
		return nil, invalidToken("malformed token", err)
	}
	// A date far enough in the future overflows time.Time in jwt/v5 and
	// then counts as past: refuse dates beyond maxNumericDate.
	for _, name := range [...]string{"exp", "nbf", "iat"} {
		if !numericDateInRange(claims[name]) {
			return nil, invalidToken("malformed token", fmt.Errorf("%w: %q out of range", ErrMalformed, name))
		}
	}
	// A "sub" that is not a string would become an empty Subject.
	if _, err := claims.GetSubject(); err != nil {
		return nil, invalidToken("malformed token", err)
	}
	for _, c := range a.requiredClaims {
		if claims[c] == nil {
			return nil, invalidToken("invalid token", fmt.Errorf("%w: %q", ErrMissingClaim, c))
		}
	}
	p := a.principal(claims)
	if a.cache != nil {
		if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
			a.cache.put(tok, p, unixNano(exp.Add(a.leeway)), k, now.UnixNano())
		}
	}
	return p, nil
}

// maxNumericDate is the largest NumericDate accepted, 2^40 seconds
// (about the year 36812), far below where time.Time overflows.
const maxNumericDate = 1 << 40

// numericDateInRange reports whether v, a claim value, is absent or a
// number no larger than maxNumericDate. (Its type is checked by jwt/v5.)
func numericDateInRange(v any) bool {
	switch n := v.(type) {
	case float64:
		return n <= maxNumericDate
	case json.Number:
		f, err := n.Float64()
		return err == nil && f <= maxNumericDate
	}
	return true
}

// lookup finds the key for kid; with a JWKS, an unknown kid asks for a
// refresh (rate limited) and looks again.
func (a *Authenticator) lookup(ctx context.Context, kid string) *key {
	if a.static != nil {
		return a.static.lookup(kid)
	}
	if k := a.jwks.set.Load().lookup(kid); k != nil || kid == "" {
		return k
	}
	if a.jwks.refreshUnknown(ctx) {
		return a.jwks.set.Load().lookup(kid)
	}
	return nil
}
