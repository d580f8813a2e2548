package balancer

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// DefaultStickyCookie is the cookie [Sticky] uses when [Sticky.Cookie] is
// empty.
const DefaultStickyCookie = "gw_upstream"

// Sticky keeps a client on one upstream with a cookie: when the request
// carries the cookie and it names an upstream in ups, Pick returns that
// upstream; otherwise it asks [Sticky.Next]. When the named upstream is
// down or drained the client moves, and the new cookie sends it to its new
// upstream from then on.
//
// Pick only reads the cookie; the response must set it. With a
// gateway.Proxy, set ModifyResponse to [Sticky.ModifyResponse] of the
// proxy's pool:
//
//	pool := balancer.MustPool("http://10.0.0.1:8080", "http://10.0.0.2:8080")
//	sticky := balancer.NewSticky("", balancer.NewP2C())
//	p := &gateway.Proxy{
//		Upstreams:      pool,
//		Balancer:       sticky,
//		ModifyResponse: sticky.ModifyResponse(pool),
//	}
//
// or call [Sticky.SetCookie] from a ModifyResponse of your own.
//
// The cookie's value is an opaque 16-digit hash of the upstream's URL, so
// it does not show internal addresses, and it is the same on every replica
// of a gateway. It is not a secret and not signed: a client may choose any
// healthy upstream by setting it. Affinity is a convenience, not access
// control.
//
// Set the fields before the first Pick and do not change them after. Pick
// allocates nothing beyond what Next does and takes no lock.
type Sticky struct {
	// Cookie is the cookie's name. Empty means [DefaultStickyCookie].
	Cookie string
	// Next picks for requests without a usable cookie. Nil means a
	// [RoundRobin] of Sticky's own.
	Next Picker
	// Secure marks the cookie Secure, for sites served only over HTTPS.
	Secure bool
	// MaxAge is the cookie's Max-Age in seconds; zero makes a session
	// cookie, which the browser drops when it closes.
	MaxAge int

	rr    RoundRobin
	index perSnapshot[map[uint64]*Upstream]
}

// NewSticky returns a cookie-affinity policy with the cookie name (empty
// for [DefaultStickyCookie]) that falls back to next (nil for round robin).
func NewSticky(cookie string, next Picker) *Sticky {
	return &Sticky{Cookie: cookie, Next: next}
}

func (s *Sticky) cookie() string {
	if s.Cookie == "" {
		return DefaultStickyCookie
	}
	return s.Cookie
}

// Pick returns the upstream the request's cookie names if it is in ups,
// else what [Sticky.Next] picks; nil when ups is empty.
func (s *Sticky) Pick(r *http.Request, ups []*Upstream) *Upstream {
	if len(ups) == 0 {
		return nil
	}
	if v := cookieValue(r, s.cookie()); len(v) == 16 {
		if id, err := strconv.ParseUint(v, 16, 64); err == nil {
			if !isSnapshot(ups) {
				for _, u := range ups { // a slice made elsewhere: no index
					if stickyID(u) == id {
						return u
					}
				}
			} else {
				m, ok := s.index.load(ups)
				if !ok {
					m = s.index.build(ups, newStickyIndex)
				}
				if u := m[id]; u != nil {
					return u
				}
			}
		}
	}
	if s.Next != nil {
		return s.Next.Pick(r, ups)
	}
	return s.rr.Pick(r, ups)
}

func newStickyIndex(ups []*Upstream) map[uint64]*Upstream {
	m := make(map[uint64]*Upstream, len(ups))
	for _, u := range ups {
		m[stickyID(u)] = u
	}
	return m
}

// stickyID is the value of the cookie that names u.
func stickyID(u *Upstream) uint64 { return u.hashedName() }

// SetCookie adds to h, a response's header, the cookie that sends the
// client back to u.
func (s *Sticky) SetCookie(h http.Header, u *Upstream) {
	c := http.Cookie{
		Name:     s.cookie(),
		Value:    s.value(u),
		Path:     "/",
		MaxAge:   s.MaxAge,
		Secure:   s.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	h.Add("Set-Cookie", c.String())
}

func (s *Sticky) value(u *Upstream) string { return fmt.Sprintf("%016x", stickyID(u)) }

// ModifyResponse returns a function for gateway.Proxy's ModifyResponse
// that finds which upstream of pool answered, by the host (and longest
// path prefix) of the response's Request among the upstreams in rotation,
// and sets the cookie for it, unless the request already carried that
// cookie. It takes no lock, and allocates only when it sets a cookie. A
// response from an upstream no longer in rotation gets no cookie: Pick
// would not honour it.
func (s *Sticky) ModifyResponse(pool *Pool) func(*http.Response) error {
	return func(res *http.Response) error {
		out := res.Request
		if out == nil || out.URL == nil {
			return nil
		}
		var found *Upstream
		for _, u := range pool.Healthy() {
			if strings.EqualFold(u.URL.Host, out.URL.Host) && strings.HasPrefix(out.URL.Path, u.URL.Path) {
				if found == nil || len(u.URL.Path) > len(found.URL.Path) {
					found = u // the longest prefix
				}
			}
		}
		if found == nil {
			return nil
		}
		if v := cookieValue(out, s.cookie()); len(v) == 16 {
			if id, err := strconv.ParseUint(v, 16, 64); err == nil && id == stickyID(found) {
				return nil // the client has it already
			}
		}
		s.SetCookie(res.Header, found)
		return nil
	}
}
