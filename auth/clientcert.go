package auth

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ClientCertConfig configures [NewClientCert]. Every field's zero value
// works: the zero config trusts the chains the TLS server verified and
// lets every such certificate through.
type ClientCertConfig struct {
	// Roots, when not nil, is the pool of CAs a client certificate must
	// chain to; the certificate is verified here, for client
	// authentication, whatever the TLS server did (its pool may be broader
	// than this route's). Nil: the server must have verified the chain
	// (tls.Config ClientAuth VerifyClientCertIfGiven or
	// RequireAndVerifyClientCert); an unverified certificate is refused.
	Roots *x509.CertPool
	// AllowCommonNames, AllowDNSNames, AllowURIs and AllowEmails, when any
	// is set, are allow-lists: the certificate must carry a subject common
	// name, a DNS SAN, a URI SAN or an email SAN that one of them names,
	// else the request gets 403. A URI entry ending in '/' allows every URI
	// under it ("spiffe://example.org/ns/prod/"), but none with a dot
	// segment ("/../"), a percent-encoded '.', '/' or '\', or a '\',
	// which could climb out of it. Nil: all allowed.
	AllowCommonNames []string
	AllowDNSNames    []string
	AllowURIs        []string
	AllowEmails      []string
	// Tenant, when not nil, gives the Principal's tenant from the
	// certificate. Nil: none.
	Tenant func(cert *x509.Certificate) string
}

// ClientCert names the caller by its TLS client certificate. It is an
// [Authenticator]. Build it with [NewClientCert]; it is safe for concurrent
// use.
//
// The [Principal]'s Subject is the first URI SAN (a SPIFFE ID, say), else
// the subject's common name, else the first DNS SAN, else the first email
// SAN. Its Claims hold "cn", "dns", "uri" and "email" (the SANs, each a
// []string) and "serial".
type ClientCert struct {
	c ClientCertConfig
}

// NewClientCert returns a [ClientCert] for c. It fails for an empty or
// malformed allow-list entry. c is copied.
func NewClientCert(c ClientCertConfig) (*ClientCert, error) {
	c.AllowCommonNames = slices.Clone(c.AllowCommonNames)
	c.AllowDNSNames = slices.Clone(c.AllowDNSNames)
	c.AllowURIs = slices.Clone(c.AllowURIs)
	c.AllowEmails = slices.Clone(c.AllowEmails)
	for _, l := range [][]string{c.AllowCommonNames, c.AllowDNSNames, c.AllowEmails} {
		for _, s := range l {
			if s == "" {
				return nil, errors.New("auth: ClientCert allow-list entry is empty")
			}
		}
	}
	for _, s := range c.AllowURIs {
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("auth: ClientCert AllowURIs entry %q is not an absolute URI", s)
		}
	}
	return &ClientCert{c: c}, nil
}

var (
	errCertUnverified = errors.New("auth: client certificate not verified by the server and no Roots configured")
	errCertNotAllowed = errors.New("auth: client certificate identity not allowed")
)

// Authenticate returns the Principal of the request's client certificate.
// It returns [ErrNoCredentials] when the request came without TLS or
// without a certificate, an [*Error] (401) for one that does not verify,
// and an [*Error] (403) for one that verifies but no allow-list names.
func (cc *ClientCert) Authenticate(r *http.Request) (*Principal, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, ErrNoCredentials
	}
	leaf := r.TLS.PeerCertificates[0]
	if cc.c.Roots != nil {
		inter := x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots:         cc.c.Roots,
			Intermediates: inter,
			CurrentTime:   time.Now(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			return nil, &Error{Status: http.StatusUnauthorized, Description: "client certificate not trusted", Err: err}
		}
	} else if len(r.TLS.VerifiedChains) == 0 {
		return nil, &Error{Status: http.StatusUnauthorized, Description: "client certificate not trusted", Err: errCertUnverified}
	}
	if !cc.allowed(leaf) {
		return nil, &Error{Status: http.StatusForbidden, Description: "client certificate not allowed", Err: errCertNotAllowed}
	}
	return cc.principal(leaf), nil
}

func (cc *ClientCert) allowed(c *x509.Certificate) bool {
	a := &cc.c
	if a.AllowCommonNames == nil && a.AllowDNSNames == nil && a.AllowURIs == nil && a.AllowEmails == nil {
		return true
	}
	if c.Subject.CommonName != "" && slices.Contains(a.AllowCommonNames, c.Subject.CommonName) {
		return true
	}
	for _, d := range c.DNSNames {
		if slices.Contains(a.AllowDNSNames, d) {
			return true
		}
	}
	for _, e := range c.EmailAddresses {
		if slices.Contains(a.AllowEmails, e) {
			return true
		}
	}
	for _, u := range c.URIs {
		s := u.String()
		for _, allow := range a.AllowURIs {
			if s == allow || strings.HasSuffix(allow, "/") && underPrefix(s, allow) {
				return true
			}
		}
	}
	return false
}

// underPrefix reports whether the URI s lies under allow, a prefix that
// ends in "/": what follows it is one or more path segments of letters,
// digits, '.', '_' and '-' (the characters of a SPIFFE ID's path), none
// of them "." or "..". Anything else (a query, a fragment, a percent
// escape, ';', a backslash, an empty segment) is refused rather than
// judged, so that no reader can take s to climb out of the prefix.
func underPrefix(s, allow string) bool {
	if !strings.HasPrefix(s, allow) || len(s) == len(allow) {
		return false
	}
	for seg := range strings.SplitSeq(s[len(allow):], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

func (cc *ClientCert) principal(c *x509.Certificate) *Principal {
	uris := make([]string, len(c.URIs))
	for i, u := range c.URIs {
		uris[i] = u.String()
	}
	p := &Principal{
		Method: "mtls",
		Claims: map[string]any{
			"cn":     c.Subject.CommonName,
			"dns":    slices.Clone(c.DNSNames),
			"uri":    uris,
			"email":  slices.Clone(c.EmailAddresses),
			"serial": c.SerialNumber.String(),
		},
	}
	switch {
	case len(uris) > 0:
		p.Subject = uris[0]
	case c.Subject.CommonName != "":
		p.Subject = c.Subject.CommonName
	case len(c.DNSNames) > 0:
		p.Subject = c.DNSNames[0]
	case len(c.EmailAddresses) > 0:
		p.Subject = c.EmailAddresses[0]
	}
	if cc.c.Tenant != nil {
		p.Tenant = cc.c.Tenant(c)
	}
	return p
}
