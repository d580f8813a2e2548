package introspect

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/vivremotion/gateway/auth"
)

// Config configures an [Introspector]. Only Endpoint is required.
type Config struct {
	// Endpoint is the URL of the introspection endpoint (RFC 7662 section
	// 2). Required. It must be https, unless AllowHTTP is set.
	Endpoint string
	// AllowHTTP permits an http:// Endpoint. The client's credentials and
	// the tokens then cross the network in clear: only for a server on the
	// same host or a network that is trusted. Default false.
	AllowHTTP bool

	// ClientID and ClientSecret authenticate the gateway to the endpoint
	// with client_secret_basic: HTTP Basic over the form-urlencoded id and
	// secret (RFC 6749 section 2.3.1). A secret needs an id.
	ClientID     string
	ClientSecret string
	// BearerToken, instead, authenticates the gateway with
	// `Authorization: Bearer` (RFC 7662 section 2.1 allows either). Setting
	// both it and ClientID is an error. With neither, the request carries
	// no Authorization header, for an endpoint that knows the gateway by
	// its TLS client certificate (configured in Client).
	BearerToken string

	// Client makes the calls. Nil means a client of its own over a clone
	// of http.DefaultTransport that follows no redirects. A Client given
	// here is used as it is: one that follows redirects may resend the
	// gateway's credentials and the token to another place.
	Client *http.Client
	// Timeout bounds each call, from sending the request to the end of the
	// answer's body. Default 5s.
	Timeout time.Duration
	// MaxResponseBytes bounds the size of an answer's body; a longer one is
	// a failure (503). Default 16 KiB.
	MaxResponseBytes int64
	// MaxTokenLength bounds the bearer token, in bytes; a longer one is
	// refused (401 invalid_token) without a call. Default 4096.
	MaxTokenLength int

	// Audience, when set, must be named by the answer's "aud" (a string,
	// or an array of strings); otherwise the token is refused (401). Empty
	// means any audience, or none.
	Audience string
	// Issuer, when set, must equal the answer's "iss"; otherwise the token
	// is refused (401). Empty means any issuer.
	Issuer string

	// SubjectFromSubOnly takes the Principal's Subject from the answer's
	// "sub" alone. By default, an answer without "sub" gives its
	// "username", else its "client_id": a client's id may then equal a
	// user's subject, and a policy keyed on Subject cannot tell them apart
	// (the Claims still can). With it set, an answer without "sub" gives
	// an empty Subject. Default false.
	SubjectFromSubOnly bool

	// TenantClaim, PlanClaim and RolesClaim name the members of the answer
	// that become the Principal's Tenant, Plan (strings) and Roles (an
	// array of strings, or one space-separated string). Empty means the
	// field stays empty.
	TenantClaim string
	PlanClaim   string
	RolesClaim  string

	// Realm is the realm of the Bearer challenge. Default "api". It may
	// not hold quotes, backslashes or control characters.
	Realm string

	// CacheSize bounds the number of active tokens whose answers are
	// cached. Default 10000.
	CacheSize int
	// NegativeCacheSize bounds the number of refused tokens whose answers
	// are cached, apart from the active ones, so that a flood of bad tokens
	// cannot push good ones out. Default 10000.
	NegativeCacheSize int
	// MaxTTL bounds how long an active answer is cached: until the
	// answer's "exp" or MaxTTL, whichever comes first. It is the longest a
	// revoked token is still accepted. Default 1 minute.
	MaxTTL time.Duration
	// NegativeTTL is how long a refusal is cached. Default 10s.
	NegativeTTL time.Duration

	// MaxInflight bounds the calls to the endpoint under way at once (one
	// per token not cached; requests with the same token share one). A
	// request that would start one more fails at once with 503
	// ([ErrTooManyCalls]). Default 64; it may not be negative.
	MaxInflight int
	// FailureCooldown is how long after a call that found the endpoint in
	// trouble (unreachable, too slow, a 5xx or 429 answer) requests for
	// tokens not cached fail at once with 503 ([ErrCoolingDown]) instead of
	// calling, so that a struggling endpoint is not flooded. Cached answers
	// are still served. A 4xx or an answer that is not an introspection
	// response fails that call alone: a token crafted to provoke one must
	// not lock every other token out. Default 1s; negative turns it off.
	FailureCooldown time.Duration
}

// Introspector is an [auth.Authenticator] for opaque bearer tokens: it asks
// an OAuth2 introspection endpoint (RFC 7662) about each token it has not
// seen lately, and caches the answers. It is safe for concurrent use and
// holds no goroutine, so it needs no Close.
type Introspector struct {
	endpoint    string
	authz       string // the Authorization header of a call, or ""
	client      *http.Client
	timeout     time.Duration
	maxBody     int64
	maxToken    int
	audience    string
	issuer      string
	tenantClaim string
	planClaim   string
	rolesClaim  string
	challenge   string
	maxTTL      time.Duration
	negTTL      time.Duration
	subOnly     bool
	maxInflight int64
	cooldown    time.Duration // 0: none

	inflight  atomic.Int64 // calls to the endpoint under way
	downUntil atomic.Int64 // Unix nanoseconds: misses fail fast until then

	positive *cache
	negative *cache
	flight   flight
}

// Method is the [auth.Principal] Method of the principals an
// [Introspector] vouches for.
const Method = "introspection"

// errNone is the error for a request without a bearer token.
var errNone = auth.ErrNoCredentials

// New returns an [Introspector] for cfg, or an error that says what in cfg
// is wrong. It does not modify cfg and makes no call.
func New(cfg Config) (*Introspector, error) {
	in := &Introspector{
		client:      cfg.Client,
		timeout:     orDefault(cfg.Timeout, 5*time.Second),
		maxBody:     orDefault(cfg.MaxResponseBytes, 16<<10),
		maxToken:    orDefault(cfg.MaxTokenLength, 4096),
		audience:    cfg.Audience,
		issuer:      cfg.Issuer,
		tenantClaim: cfg.TenantClaim,
		planClaim:   cfg.PlanClaim,
		rolesClaim:  cfg.RolesClaim,
		maxTTL:      orDefault(cfg.MaxTTL, time.Minute),
		negTTL:      orDefault(cfg.NegativeTTL, 10*time.Second),
		subOnly:     cfg.SubjectFromSubOnly,
		maxInflight: int64(orDefault(cfg.MaxInflight, 64)),
		cooldown:    max(0, orDefault(cfg.FailureCooldown, time.Second)),
	}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("introspect: Timeout %v is negative", cfg.Timeout)
	case cfg.MaxResponseBytes < 0:
		return nil, fmt.Errorf("introspect: MaxResponseBytes %d is negative", cfg.MaxResponseBytes)
	case cfg.MaxTokenLength < 0:
		return nil, fmt.Errorf("introspect: MaxTokenLength %d is negative", cfg.MaxTokenLength)
	case cfg.CacheSize < 0:
		return nil, fmt.Errorf("introspect: CacheSize %d is negative", cfg.CacheSize)
	case cfg.NegativeCacheSize < 0:
		return nil, fmt.Errorf("introspect: NegativeCacheSize %d is negative", cfg.NegativeCacheSize)
	case cfg.MaxTTL < 0:
		return nil, fmt.Errorf("introspect: MaxTTL %v is negative", cfg.MaxTTL)
	case cfg.NegativeTTL < 0:
		return nil, fmt.Errorf("introspect: NegativeTTL %v is negative", cfg.NegativeTTL)
	case cfg.MaxInflight < 0:
		return nil, fmt.Errorf("introspect: MaxInflight %d is negative", cfg.MaxInflight)
	}

	if cfg.Endpoint == "" {
		return nil, errors.New("introspect: Endpoint is required")
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("introspect: Endpoint: %w", err)
	}
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("introspect: Endpoint %q has no host", cfg.Endpoint)
	case u.User != nil:
		return nil, errors.New("introspect: Endpoint may not hold credentials; use ClientID and ClientSecret")
	case u.Fragment != "":
		return nil, fmt.Errorf("introspect: Endpoint %q has a fragment", cfg.Endpoint)
	case u.Scheme == "https":
	case u.Scheme == "http" && cfg.AllowHTTP:
	case u.Scheme == "http":
		return nil, fmt.Errorf("introspect: Endpoint %q is not https (set AllowHTTP to permit it)", cfg.Endpoint)
	default:
		return nil, fmt.Errorf("introspect: Endpoint %q: scheme must be https", cfg.Endpoint)
	}
	in.endpoint = u.String()

	switch {
	case cfg.BearerToken != "" && (cfg.ClientID != "" || cfg.ClientSecret != ""):
		return nil, errors.New("introspect: set either BearerToken or ClientID and ClientSecret, not both")
	case cfg.BearerToken != "":
		if !auth.IsB64Token(cfg.BearerToken) {
			return nil, errors.New("introspect: BearerToken holds characters a bearer token may not (RFC 6750 section 2.1)")
		}
		in.authz = "Bearer " + cfg.BearerToken
	case cfg.ClientSecret != "" && cfg.ClientID == "":
		return nil, errors.New("introspect: ClientSecret needs a ClientID")
	case cfg.ClientID != "":
		// RFC 6749 section 2.3.1: each is form-urlencoded before Basic.
		creds := url.QueryEscape(cfg.ClientID) + ":" + url.QueryEscape(cfg.ClientSecret)
		in.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(creds))
	}

	realm := cfg.Realm
	if realm == "" {
		realm = "api"
	}
	for _, c := range []byte(realm) {
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			return nil, fmt.Errorf("introspect: Realm %q may not hold quotes, backslashes or control characters", realm)
		}
	}
	in.challenge = `Bearer realm="` + realm + `"`

	if in.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		in.client = &http.Client{
			Transport: t,
			// A redirect would resend the client's credentials elsewhere,
			// or turn the POST into a GET: treat it as a failure.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	in.positive = newCache(orDefault(cfg.CacheSize, 10000))
	in.negative = newCache(orDefault(cfg.NegativeCacheSize, 10000))
	return in, nil
}

// hashToken returns the SHA-256 of token, the key of its cache entries.
// It reads token's bytes in place: []byte(token) would copy a token longer
// than 32 bytes to the heap, and Sum256 only reads them.
func hashToken(token string) key {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Challenge returns the WWW-Authenticate challenge, `Bearer realm="..."`.
func (in *Introspector) Challenge() string { return in.challenge }

// Authenticate reads the request's `Authorization: Bearer` token and
// returns the Principal the introspection endpoint vouches for. It returns
// [auth.ErrNoCredentials] when the request has no bearer token; see
// [Introspector.Introspect] for the rest. A cached answer costs no
// allocation.
func (in *Introspector) Authenticate(r *http.Request) (*auth.Principal, error) {
	tok, err := bearerToken(r.Header, in.maxToken)
	if err != nil {
		return nil, err
	}
	return in.Introspect(r.Context(), tok)
}

// Introspect returns the Principal for token, from the cache or from the
// introspection endpoint. It returns an [*auth.Error]:
//
//   - 401 invalid_token when the token is not active, expired, not yet
//     valid, or for another audience or issuer ([ErrInactive],
//     [ErrExpired], [ErrNotYetValid], [ErrAudience], [ErrIssuer]); such
//     answers are cached for [Config.NegativeTTL];
//   - 401 invalid_token ([ErrMalformed]) when token is empty or longer
//     than [Config.MaxTokenLength], without a call;
//   - 503 when the endpoint could not answer ([ErrUnavailable]); nothing is
//     cached, and the next request asks again.
//
// Concurrent calls for the same token that is not cached make one call to
// the endpoint. A caller whose ctx ends stops waiting and gets ctx's
// error, wrapped as 503; the call itself goes on, bounded by
// [Config.Timeout], for the others. The returned Principal is shared:
// treat it as read-only.
func (in *Introspector) Introspect(ctx context.Context, token string) (*auth.Principal, error) {
	if token == "" || len(token) > in.maxToken {
		return nil, errMalformedToken
	}
	k := hashToken(token)
	now := time.Now()
	if a, ok := in.positive.get(&k, now); ok {
		return a.p, a.err
	}
	if a, ok := in.negative.get(&k, now); ok {
		return a.p, a.err
	}
	c, leader := in.flight.join(&k)
	if !leader {
		select {
		case <-c.done:
			return c.a.p, c.a.err
		case <-ctx.Done():
			return nil, unavailable(ctx.Err())
		}
	}
	var a answer
	defer func() { in.flight.finish(&k, c, a) }() // deferred: waiters are freed even if the call panics
	a.err = unavailable(errors.New("introspection panicked"))
	a = in.introspect(ctx, &k, token)
	return a.p, a.err
}

// introspect asks the endpoint about token and caches the answer when it
// is one. It runs as the leader of the calls for k.
func (in *Introspector) introspect(ctx context.Context, k *key, token string) answer {
	// Between the lookup and join, another leader may have finished.
	now := time.Now()
	if a, ok := in.positive.get(k, now); ok {
		return a
	}
	if a, ok := in.negative.get(k, now); ok {
		return a
	}
	if now.UnixNano() < in.downUntil.Load() {
		return answer{err: errCoolingDown}
	}
	if in.inflight.Add(1) > in.maxInflight {
		in.inflight.Add(-1)
		return answer{err: errTooManyCalls}
	}
	defer in.inflight.Add(-1)
	// The call serves every waiter, so the leader's client going away does
	// not cut it short; the timeout does.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.timeout)
	defer cancel()
	resp, err := in.call(ctx, token)
	if err != nil {
		if troubled(err) {
			in.failed()
		}
		return answer{err: unavailable(err)}
	}
	now = time.Now()
	p, refusal, until := in.judge(resp, now)
	switch {
	case p == nil && until.IsZero():
		// An answer that is not one: a failure, but of this call alone,
		// which one token could provoke; no cooldown for the others.
	case p != nil:
		in.positive.put(k, answer{p: p}, until)
	case !until.IsZero():
		in.negative.put(k, answer{err: refusal}, until)
	}
	return answer{p: p, err: refusal}
}

// statusError is an endpoint's answer with a status other than 200.
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("endpoint answered %d", int(e)) }

// troubled reports whether err, a failed call's, says the endpoint itself
// is in trouble (unreachable, too slow, 5xx, 429), which starts the
// cooldown. A 4xx answers the call alone: one crafted token could provoke
// it, and must not lock every other token out.
func troubled(err error) bool {
	var st statusError
	if errors.As(err, &st) {
		return st >= 500 || st == http.StatusTooManyRequests
	}
	return true
}

// failed starts the cooldown after a failed call.
func (in *Introspector) failed() {
	if in.cooldown > 0 {
		in.downUntil.Store(time.Now().Add(in.cooldown).UnixNano())
	}
}

// call posts token to the endpoint (RFC 7662 section 2.1) and returns the
// decoded answer (section 2.2), or why there is none.
func (in *Introspector) call(ctx context.Context, token string) (map[string]any, error) {
	form := "token=" + url.QueryEscape(token) + "&token_type_hint=access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.endpoint, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
	req.Header["Accept"] = []string{"application/json"}
	if in.authz != "" {
		req.Header["Authorization"] = []string{in.authz}
	}
	res, err := in.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the endpoint's; the cause is enough
		}
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		// Drain a little so the connection may be reused; never quote it.
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		return nil, statusError(res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, in.maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > in.maxBody {
		return nil, fmt.Errorf("answer longer than %d bytes", in.maxBody)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errors.New("answer is not a JSON object") // the JSON error could quote the body
	}
	if m == nil {
		return nil, errors.New("answer is not a JSON object")
	}
	return m, nil
}

// judge turns an answer into a Principal and how long to cache it, or into
// the refusal to return and how long to cache that. An answer it cannot
// read as RFC 7662 says is a failure: judge returns a 503 error and a zero
// until, not to be cached.
func (in *Introspector) judge(m map[string]any, now time.Time) (p *auth.Principal, refusal error, until time.Time) {
	negUntil := now.Add(in.negTTL)
	active, ok := m["active"].(bool)
	if !ok {
		return nil, unavailable(errors.New(`answer has no boolean "active"`)), time.Time{}
	}
	if !active {
		return nil, errInactive, negUntil
	}
	// An active refresh token is not an access token (RFC 7662 section
	// 2.2 lets the answer say which it is): a client must not use one as
	// a bearer token.
	if tt, _ := m["token_type"].(string); strings.EqualFold(tt, "refresh_token") {
		return nil, errTokenType, negUntil
	}
	exp, hasExp, err := numericDate(m, "exp")
	if err != nil {
		return nil, unavailable(err), time.Time{}
	}
	nbf, hasNbf, err := numericDate(m, "nbf")
	if err != nil {
		return nil, unavailable(err), time.Time{}
	}
	if hasExp && !now.Before(exp) {
		return nil, errExpired, negUntil
	}
	if hasNbf && now.Before(nbf) {
		// The refusal lasts no longer than the wait for nbf.
		return nil, errNotYetValid, minTime(negUntil, nbf)
	}
	if in.issuer != "" {
		if iss, _ := m["iss"].(string); iss != in.issuer {
			return nil, errIssuer, negUntil
		}
	}
	if in.audience != "" && !hasAudience(m["aud"], in.audience) {
		return nil, errAudience, negUntil
	}

	p = &auth.Principal{Method: Method, Claims: m}
	// Subject: "sub", else (unless SubjectFromSubOnly) "username", else
	// "client_id", which may collide with a user's "sub".
	subjectFrom := [...]string{"sub", "username", "client_id"}
	names := subjectFrom[:]
	if in.subOnly {
		names = names[:1]
	}
	for _, name := range names {
		if s, _ := m[name].(string); s != "" {
			p.Subject = s
			break
		}
	}
	if s, ok := m["scope"].(string); ok {
		p.Scopes = strings.Fields(s)
	}
	if in.tenantClaim != "" {
		p.Tenant, _ = m[in.tenantClaim].(string)
	}
	if in.planClaim != "" {
		p.Plan, _ = m[in.planClaim].(string)
	}
	if in.rolesClaim != "" {
		p.Roles = auth.ClaimStrings(m[in.rolesClaim])
	}
	until = now.Add(in.maxTTL)
	if hasExp {
		until = minTime(until, exp)
	}
	return p, nil, until
}

// numericDate reads member name of m as a NumericDate (RFC 7519 section
// 2): seconds since the epoch, perhaps with a fraction.
func numericDate(m map[string]any, name string) (t time.Time, ok bool, err error) {
	v, ok := m[name]
	if !ok || v == nil {
		return time.Time{}, false, nil
	}
	f, isNum := v.(float64)
	if !isNum || math.IsNaN(f) || f < 0 || f > 1<<40 {
		return time.Time{}, false, fmt.Errorf("answer's %q is not a date", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// hasAudience reports whether aud, a string or an array of strings, names
// want.
func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, v := range a {
			if s, _ := v.(string); s == want {
				return true
			}
		}
	}
	return false
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
