package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// JWKSConfig configures a [JWKS].
type JWKSConfig struct {
	// URL is where the JWK Set is fetched. Required. It must be https,
	// unless AllowHTTP is set, and may not hold credentials (userinfo).
	URL string
	// AllowHTTP permits an http:// URL. The keys then cross the network in
	// clear, and anyone on the path can replace them with keys of their
	// own: only for a server on the same host or a network that is
	// trusted. Default false.
	AllowHTTP bool
	// Client fetches the set. Nil means a client of its own with Timeout
	// that follows no redirects. A Client given here is used as it is: one
	// that follows redirects takes the keys from wherever it is sent.
	Client *http.Client
	// Timeout bounds each fetch, whatever Client. Default 10 seconds.
	Timeout time.Duration
	// MaxBytes bounds the size of the set read. Default 1 MiB.
	MaxBytes int64
	// DefaultAlgs pin the keys of the set that have no "alg" member: such a
	// key gets the first of these that fits its type (see [ParseJWK]);
	// keys that none fits are left out. Default: none, so every key must
	// name its "alg".
	DefaultAlgs []string
	// RefreshInterval is how often the set is fetched again when the
	// answer has no Cache-Control max-age. Default 15 minutes.
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two background
	// fetches, whatever max-age says, and the wait before trying again
	// after a failed fetch. Default 1 minute.
	MinRefreshInterval time.Duration
	// MaxRefreshInterval is the most time between two background fetches,
	// whatever max-age says. Default 24 hours.
	MaxRefreshInterval time.Duration
	// UnknownKIDInterval is the least time between two fetches caused by
	// tokens with an unknown kid (and since the last fetch of any kind).
	// Default 30 seconds.
	UnknownKIDInterval time.Duration
	// Logger receives failed fetches and the keys of a fetched set that
	// were skipped, without credentials. Default: none.
	Logger *slog.Logger
}

// Defaults of [JWKSConfig].
const (
	DefaultJWKSTimeout        = 10 * time.Second
	DefaultJWKSMaxBytes       = 1 << 20
	DefaultRefreshInterval    = 15 * time.Minute
	DefaultMinRefreshInterval = time.Minute
	DefaultMaxRefreshInterval = 24 * time.Hour
	DefaultUnknownKIDInterval = 30 * time.Second
)

// ErrFetch reports a JWK Set that could not be fetched or used.
var ErrFetch = errors.New("jwtauth: JWKS fetch failed")

// JWKS is a key set fetched from a URL and kept fresh by one goroutine it
// owns, until [JWKS.Close]: again after the answer's Cache-Control
// max-age (within the configured bounds), and on demand when a token
// names an unknown kid, at most once per UnknownKIDInterval, all the
// requests that wait for it sharing that one fetch. Keys that leave the
// set stop verifying at once, cached tokens included. A failed fetch
// keeps the keys already known. It is safe for concurrent use.
type JWKS struct {
	cfg    JWKSConfig
	logURL string // the URL as logged: u.Redacted()
	client *http.Client
	set    atomic.Pointer[keySet]
	ctx    context.Context
	cancel context.CancelFunc
	kick   chan struct{} // capacity 1: a fetch is wanted
	done   chan struct{} // closed when the goroutine has ended

	mu        sync.Mutex
	inflight  *fetchCall // the fetch under way, or wanted; nil when none
	lastFetch time.Time  // when the latest fetch began
	closed    bool
}

// fetchCall is one fetch that requests wait for.
type fetchCall struct{ done chan struct{} }

// NewJWKS fetches the set at cfg.URL once, under ctx, and returns it with
// its refreshing goroutine started; it returns an error when cfg is not
// usable or the first fetch fails (or yields no usable key), so that a
// gateway never starts unable to verify anything.
func NewJWKS(ctx context.Context, cfg JWKSConfig) (*JWKS, error) {
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		return nil, errors.New("jwtauth: JWKS URL does not parse") // err would quote the URL, credentials and all
	case u.User != nil:
		return nil, errors.New("jwtauth: JWKS URL may not hold credentials (userinfo)")
	case u.Host == "":
		return nil, fmt.Errorf("jwtauth: JWKS URL %q has no host", cfg.URL)
	case u.Scheme == "https":
	case u.Scheme == "http" && cfg.AllowHTTP:
	case u.Scheme == "http":
		return nil, fmt.Errorf("jwtauth: JWKS URL %q is not https (set AllowHTTP to permit it)", cfg.URL)
	default:
		return nil, fmt.Errorf("jwtauth: JWKS URL %q: scheme must be https", cfg.URL)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Timeout", &cfg.Timeout, DefaultJWKSTimeout},
		{"RefreshInterval", &cfg.RefreshInterval, DefaultRefreshInterval},
		{"MinRefreshInterval", &cfg.MinRefreshInterval, DefaultMinRefreshInterval},
		{"MaxRefreshInterval", &cfg.MaxRefreshInterval, DefaultMaxRefreshInterval},
		{"UnknownKIDInterval", &cfg.UnknownKIDInterval, DefaultUnknownKIDInterval},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("jwtauth: negative JWKS %s %v", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.MinRefreshInterval > cfg.MaxRefreshInterval {
		return nil, fmt.Errorf("jwtauth: JWKS MinRefreshInterval %v above MaxRefreshInterval %v", cfg.MinRefreshInterval, cfg.MaxRefreshInterval)
	}
	if cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("jwtauth: negative JWKS MaxBytes %d", cfg.MaxBytes)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultJWKSMaxBytes
	}
	for _, a := range cfg.DefaultAlgs {
		if !slices.Contains(algorithms, a) {
			return nil, fmt.Errorf("jwtauth: JWKS DefaultAlgs: unknown algorithm %q", a)
		}
	}
	cfg.DefaultAlgs = append([]string(nil), cfg.DefaultAlgs...)
	j := &JWKS{
		cfg:    cfg,
		logURL: u.Redacted(),
		client: cfg.Client,
		kick:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	if j.client == nil {
		j.client = &http.Client{
			Timeout: cfg.Timeout,
			// A redirect would take the keys from another place than the
			// one configured: treat it as a failed fetch.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	j.lastFetch = time.Now()
	wait, err := j.fetch(ctx)
	if err != nil {
		return nil, err
	}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	go j.run(wait)
	return j, nil
}

// Keys returns copies of the keys of the set as last fetched: writing to
// them changes nothing the set verifies.
func (j *JWKS) Keys() []Key { return j.set.Load().keys() }

// Close stops the refreshing goroutine and waits for it to end. Requests
// waiting for a fetch are released. The keys already fetched stay usable.
func (j *JWKS) Close() error {
	j.cancel()
	<-j.done
	return nil
}

// run is the one goroutine: it fetches when the timer fires or a request
// asks, until Close.
func (j *JWKS) run(wait time.Duration) {
	defer close(j.done)
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-j.ctx.Done():
			j.mu.Lock()
			j.closed = true
			c := j.inflight
			j.inflight = nil
			j.mu.Unlock()
			if c != nil {
				close(c.done)
			}
			return
		case <-t.C:
		case <-j.kick:
		}
		j.mu.Lock()
		c := j.inflight
		if c == nil {
			c = &fetchCall{done: make(chan struct{})}
			j.inflight = c
		}
		select { // one fetch answers every request so far
		case <-j.kick:
		default:
		}
		j.lastFetch = time.Now()
		j.mu.Unlock()

		wait, err := j.fetch(j.ctx)
		if err != nil {
			if j.cfg.Logger != nil && j.ctx.Err() == nil {
				j.cfg.Logger.Warn("jwtauth: JWKS refresh failed; keeping the known keys", "url", j.logURL, "err", err)
			}
			wait = j.cfg.MinRefreshInterval
		}
		j.mu.Lock()
		j.inflight = nil
		j.mu.Unlock()
		close(c.done)
		t.Reset(wait)
	}
}

// refreshUnknown asks for a fetch because a token named an unknown kid,
// and waits for it (or for ctx). It reports whether a fetch ended, so
// that the kid is worth looking up again; false when the last fetch was
// too recent.
func (j *JWKS) refreshUnknown(ctx context.Context) bool {
	j.mu.Lock()
	c := j.inflight
	if c == nil {
		if j.closed || time.Since(j.lastFetch) < j.cfg.UnknownKIDInterval {
			j.mu.Unlock()
			return false
		}
		c = &fetchCall{done: make(chan struct{})}
		j.inflight = c
		j.lastFetch = time.Now() // counts from the request, so that the rate holds before the goroutine wakes
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	j.mu.Unlock()
	select {
	case <-c.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// fetch gets, parses and installs the set; it returns how long to wait
// before the next background fetch.
func (j *JWKS) fetch(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, j.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.cfg.URL, nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w: status %d", ErrFetch, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, j.cfg.MaxBytes+1))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	if int64(len(body)) > j.cfg.MaxBytes {
		return 0, fmt.Errorf("%w: set larger than %d bytes", ErrFetch, j.cfg.MaxBytes)
	}
	keys, err := j.parseSet(body)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	if len(keys) == 0 {
		return 0, fmt.Errorf("%w: no usable key in the set", ErrFetch)
	}
	next, err := newKeySet(keys)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	j.install(next)
	return j.interval(resp.Header), nil
}

// install makes next the current set. A key that is unchanged keeps its
// identity, so that the tokens it verified stay cached; the others are
// marked removed, which invalidates their cached tokens.
func (j *JWKS) install(next *keySet) {
	prev := j.set.Load()
	if prev != nil {
		for id, k := range next.byID {
			if old := prev.byID[id]; old != nil && old.same(k) {
				next.byID[id] = old
			}
		}
		if next.only != nil {
			next.only = next.byID[next.only.id]
		}
	}
	j.set.Store(next)
	if prev != nil {
		for id, old := range prev.byID {
			if next.byID[id] != old {
				old.removed.Store(true)
			}
		}
	}
}

// interval is the wait before the next background fetch: the answer's
// max-age within [MinRefreshInterval, MaxRefreshInterval], or
// RefreshInterval.
func (j *JWKS) interval(h http.Header) time.Duration {
	d := j.cfg.RefreshInterval
	for part := range strings.SplitSeq(h.Get("Cache-Control"), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		if !strings.EqualFold(name, "max-age") {
			continue
		}
		if s, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && s >= 0 {
			d = time.Duration(min(s, int64(j.cfg.MaxRefreshInterval/time.Second)+1)) * time.Second
		}
		break
	}
	return min(max(d, j.cfg.MinRefreshInterval), j.cfg.MaxRefreshInterval)
}

// parseSet reads a fetched JWK Set as [ParseJWKSet] does, but leniently,
// as RFC 7517 section 5 asks: a key that cannot be used (malformed, too
// small, an "alg" that does not fit its "kty", a kid already in the set)
// is skipped and logged, and the set's other keys are kept. Symmetric
// ("oct") keys are skipped too: a JWKS URL is public, so such a secret is
// anyone's, and a token signed with it would be accepted.
func (j *JWKS) parseSet(data []byte) ([]Key, error) {
	raws, err := jwkSetMembers(data)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(raws))
	seen := make(map[string]bool, len(raws))
	for i, raw := range raws {
		k, err := ParseJWK(raw, j.cfg.DefaultAlgs...)
		switch {
		case errors.Is(err, ErrSkipped):
			continue // not meant for verifying signatures: not worth a log
		case err != nil:
			j.skipped(i, "", err)
			continue
		}
		if _, ok := k.Material.([]byte); ok {
			j.skipped(i, k.ID, errors.New("symmetric key in a public set"))
			continue
		}
		if seen[k.ID] {
			j.skipped(i, k.ID, errors.New("kid already in the set"))
			continue
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// skipped logs a key of a fetched set that was left out.
func (j *JWKS) skipped(i int, kid string, err error) {
	if j.cfg.Logger != nil {
		j.cfg.Logger.Warn("jwtauth: JWKS key skipped", "url", j.logURL, "index", i, "kid", kid, "err", err)
	}
}
