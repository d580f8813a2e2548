package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/vivremotion/gateway/auth"
)

// pki is a CA made for a test, and what it signed.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t testing.TB, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &pki{cert, key, pool}
}

// issue signs a leaf for tmpl's names, for client authentication unless
// usage says otherwise.
func (ca *pki) issue(t testing.TB, tmpl *x509.Certificate, usage ...x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	if tmpl.NotAfter.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = usage
	if usage == nil {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func spiffe(s string) []*url.URL {
	u, _ := url.Parse(s)
	return []*url.URL{u}
}

// tlsGet serves h over real TLS, with the server's clientAuth and pool,
// and GETs it with cert (none when nil). It returns the status and the
// X-Subject header.
func tlsGet(t *testing.T, h http.Handler, clientAuth tls.ClientAuthType, pool *x509.CertPool, cert *tls.Certificate) (int, string) {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{ClientAuth: clientAuth, ClientCAs: pool}
	s.StartTLS()
	defer s.Close()
	c := s.Client()
	tr := c.Transport.(*http.Transport)
	if cert != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
	}
	resp, err := c.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Subject")
}

func TestClientCert(t *testing.T) {
	ca, other := newCA(t, "test CA"), newCA(t, "other CA")
	web := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "web"}, URIs: spiffe("spiffe://example.org/ns/prod/web"), DNSNames: []string{"web.example.org"}})
	cnOnly := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}, EmailAddresses: []string{"alice@example.org"}})
	untrusted := other.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}})
	serverOnly := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}}, x509.ExtKeyUsageServerAuth)
	climbDots := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "x"}, URIs: spiffe("spiffe://example.org/ns/prod/../admin/sa/root")})
	climbSlash := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "x"}, URIs: spiffe("spiffe://example.org/ns/prod/..%2Fadmin")})
	climbEncDots := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "x"}, URIs: spiffe("spiffe://example.org/ns/prod/%2e%2e/admin")})
	climbSemicolon := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "x"}, URIs: spiffe("spiffe://example.org/ns/prod/..;/admin")})
	climbDoubleEnc := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "x"}, URIs: spiffe("spiffe://example.org/ns/prod/%252e%252e/admin")})
	expired := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}, NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})

	for _, tt := range []struct {
		name       string
		c          auth.ClientCertConfig
		clientAuth tls.ClientAuthType
		cert       *tls.Certificate
		status     int
		subject    string
	}{
		{"server verified, URI SAN is the subject", auth.ClientCertConfig{}, tls.VerifyClientCertIfGiven, &web, 200, "spiffe://example.org/ns/prod/web"},
		{"server verified, CN is the subject", auth.ClientCertConfig{}, tls.VerifyClientCertIfGiven, &cnOnly, 200, "alice"},
		{"no certificate", auth.ClientCertConfig{}, tls.VerifyClientCertIfGiven, nil, 401, ""},
		{"unverified and no Roots", auth.ClientCertConfig{}, tls.RequestClientCert, &cnOnly, 401, ""},
		{"verified here against Roots", auth.ClientCertConfig{Roots: ca.pool}, tls.RequestClientCert, &cnOnly, 200, "alice"},
		{"untrusted CA", auth.ClientCertConfig{Roots: ca.pool}, tls.RequestClientCert, &untrusted, 401, ""},
		{"untrusted CA, though the server trusts it", auth.ClientCertConfig{Roots: ca.pool}, tls.VerifyClientCertIfGiven, &untrusted, 401, ""},
		{"not for client authentication", auth.ClientCertConfig{Roots: ca.pool}, tls.RequestClientCert, &serverOnly, 401, ""},
		{"expired", auth.ClientCertConfig{Roots: ca.pool}, tls.RequestClientCert, &expired, 401, ""},
		{"allowed by URI prefix", auth.ClientCertConfig{AllowURIs: []string{"spiffe://example.org/ns/prod/"}}, tls.VerifyClientCertIfGiven, &web, 200, "spiffe://example.org/ns/prod/web"},
		{"allowed by DNS", auth.ClientCertConfig{AllowDNSNames: []string{"web.example.org"}}, tls.VerifyClientCertIfGiven, &web, 200, "spiffe://example.org/ns/prod/web"},
		{"allowed by email", auth.ClientCertConfig{AllowEmails: []string{"alice@example.org"}}, tls.VerifyClientCertIfGiven, &cnOnly, 200, "alice"},
		{"allowed by CN", auth.ClientCertConfig{AllowCommonNames: []string{"alice"}}, tls.VerifyClientCertIfGiven, &cnOnly, 200, "alice"},
		{"URI prefix escaped by dot segments", auth.ClientCertConfig{AllowURIs: []string{"spiffe://example.org/ns/prod/"}}, tls.VerifyClientCertIfGiven, &climbDots, 403, ""},
		{"URI prefix escaped by an encoded slash", auth.ClientCertConfig{AllowURIs: []string{"spiffe://example.org/ns/prod/"}}, tls.VerifyClientCertIfGiven, &climbSlash, 403, ""},
		{"URI prefix escaped by encoded dots", auth.ClientCertConfig{AllowURIs: []string{"spiffe://example.org/ns/prod/"}}, tls.VerifyClientCertIfGiven, &climbEncDots, 403, ""},
		{"URI prefix escaped by a semicolon segment", auth.ClientCertConfig{AllowURIs: []string{"spiffe://example.org/ns/prod/"}}, tls.VerifyClientCertIfGiven, &climbSemicolon, 403, ""},
		{"URI prefix escaped by double-encoded dots", auth.ClientCertConfig{AllowURIs: []string{"spiffe://example.org/ns/prod/"}}, tls.VerifyClientCertIfGiven, &climbDoubleEnc, 403, ""},
		{"not on the allow-lists", auth.ClientCertConfig{AllowURIs: []string{"spiffe://example.org/ns/dev/"}, AllowCommonNames: []string{"bob"}}, tls.VerifyClientCertIfGiven, &web, 403, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := auth.NewClientCert(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			pool := ca.pool
			if tt.name == "untrusted CA, though the server trusts it" {
				pool = other.pool
			}
			status, subject := tlsGet(t, auth.Require(cc)(echo), tt.clientAuth, pool, tt.cert)
			if status != tt.status || (status == 200 && subject != tt.subject) {
				t.Errorf("got %d %q; want %d %q", status, subject, tt.status, tt.subject)
			}
		})
	}
}

func TestClientCertClaims(t *testing.T) {
	ca := newCA(t, "test CA")
	web := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "web"}, URIs: spiffe("spiffe://example.org/web"), DNSNames: []string{"web.example.org"}})
	cc, _ := auth.NewClientCert(auth.ClientCertConfig{Tenant: func(c *x509.Certificate) string { return c.URIs[0].Host }})
	var got *auth.Principal
	h := auth.Require(cc)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = auth.PrincipalFrom(r.Context()) }))
	tlsGet(t, h, tls.VerifyClientCertIfGiven, ca.pool, &web)
	if got == nil || got.Method != "mtls" || got.Tenant != "example.org" || got.Claims["cn"] != "web" ||
		got.Claims["dns"].([]string)[0] != "web.example.org" || got.Claims["uri"].([]string)[0] != "spiffe://example.org/web" {
		t.Errorf("Principal = %+v; want method mtls, tenant example.org, cn web and the SANs", got)
	}
}

func TestNewClientCertErrors(t *testing.T) {
	for name, c := range map[string]auth.ClientCertConfig{
		"empty CN":     {AllowCommonNames: []string{""}},
		"relative URI": {AllowURIs: []string{"/ns/prod"}},
		"empty email":  {AllowEmails: []string{""}},
	} {
		if _, err := auth.NewClientCert(c); err == nil {
			t.Errorf("NewClientCert(%s) = nil error; want one", name)
		}
	}
}
