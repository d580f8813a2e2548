package auth_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/auth"
)

// hello answers with who is calling.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if p := auth.PrincipalFrom(r.Context()); p != nil {
		fmt.Fprintf(w, "hello %s", p.Subject)
		return
	}
	fmt.Fprint(w, "hello stranger")
})

func show(h http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Values("WWW-Authenticate"), w.Body.String())
}

func ExampleNewMiddleware() {
	hash, _ := bcrypt.GenerateFromPassword([]byte("wonderland"), bcrypt.DefaultCost)
	basic, err := auth.NewBasic(auth.BasicConfig{Realm: "api", Users: map[string]auth.BasicUser{
		"alice": {Hash: string(hash), Tenant: "acme"},
	}})
	if err != nil {
		panic(err)
	}
	mw, err := auth.NewMiddleware(auth.Middleware{
		Authenticators: []auth.Authenticator{basic},
		Forward:        auth.ForwardHeaders{"X-User-Id": "sub", "X-Tenant": "tenant"},
		ErrorHandler:   gateway.WriteError,
	})
	if err != nil {
		panic(err)
	}
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user %s of %s", r.Header.Get("X-User-Id"), r.Header.Get("X-Tenant"))
	})
	h := mw(upstream)

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-User-Id", "root") // spoofed: removed
	show(h, r)
	r.SetBasicAuth("alice", "wonderland")
	show(h, r)
	// Output:
	// 401 [Basic realm="api", charset="UTF-8"] {"error":{"type":"unauthorized","message":"unauthorized"}}
	//
	// 200 [] user alice of acme
}

func ExampleRequire() {
	h := auth.Require(tokenAuth{})(hello)
	r := httptest.NewRequest("GET", "/", nil)
	show(h, r)
	r.Header.Set("Authorization", "Bearer expired")
	show(h, r)
	r.Header.Set("Authorization", "Bearer alice")
	show(h, r)
	// Output:
	// 401 [Bearer realm="example"] {"error":{"type":"unauthorized","message":"unauthorized"}}
	//
	// 401 [Bearer realm="example", error="invalid_token", error_description="The access token expired"] {"error":{"type":"unauthorized","message":"The access token expired"}}
	//
	// 200 [] hello alice
}

// tokenAuth is a toy Authenticator for the examples: the bearer token is
// the subject, and "expired" is expired.
type tokenAuth struct{}

func (tokenAuth) Challenge() string { return `Bearer realm="example"` }

func (tokenAuth) Authenticate(r *http.Request) (*auth.Principal, error) {
	v := r.Header.Get("Authorization")
	if len(v) < 7 || v[:7] != "Bearer " {
		return nil, auth.ErrNoCredentials
	}
	if v[7:] == "expired" {
		return nil, &auth.Error{Code: auth.CodeInvalidToken, Description: "The access token expired"}
	}
	return &auth.Principal{Subject: v[7:], Scopes: []string{"read:users"}, Roles: []string{"viewer"}, Plan: "free"}, nil
}

func ExampleScopes() {
	h := auth.Require(tokenAuth{})(auth.Scopes("read:users")(hello))
	admin := auth.Require(tokenAuth{})(auth.Scopes("write:users")(hello))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer alice")
	show(h, r)
	show(admin, r)
	// Output:
	// 200 [] hello alice
	// 403 [Bearer error="insufficient_scope", error_description="insufficient scope", scope="write:users"] {"error":{"type":"forbidden","message":"insufficient scope"}}
}

func ExampleRoles() {
	h := auth.Require(tokenAuth{})(auth.Roles("admin", "ops")(hello))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer alice")
	show(h, r)
	// Output:
	// 403 [] {"error":{"type":"forbidden","message":"missing role"}}
}

func ExamplePolicy() {
	ownData := auth.Policy(func(r *http.Request, p *auth.Principal) error {
		if r.PathValue("user") != p.Subject {
			return errors.New("not your data")
		}
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("GET /users/{user}", auth.Require(tokenAuth{})(ownData(hello)))
	for _, path := range []string{"/users/alice", "/users/bob"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer alice")
		show(mux, r)
	}
	// Output:
	// 200 [] hello alice
	// 403 [] {"error":{"type":"forbidden","message":"forbidden"}}
}

func ExampleAuthorize() {
	mw, err := auth.Authorize(auth.Rule{
		Scopes:       []string{"read:users"},
		Roles:        []string{"viewer", "admin"},
		Challenge:    `Bearer realm="example"`,
		ErrorHandler: gateway.WriteError,
	})
	if err != nil {
		panic(err)
	}
	optional, _ := auth.NewMiddleware(auth.Middleware{Authenticators: []auth.Authenticator{tokenAuth{}}, Optional: true})
	public := optional(hello)
	private := optional(mw(hello))
	r := httptest.NewRequest("GET", "/", nil)
	show(public, r)
	show(private, r)
	// Output:
	// 200 [] hello stranger
	// 401 [Bearer realm="example"] {"error":{"type":"unauthorized","message":"unauthorized"}}
}

func ExampleNewBasic() {
	hash, _ := bcrypt.GenerateFromPassword([]byte("wonderland"), bcrypt.DefaultCost) // or htpasswd -B
	basic, err := auth.NewBasic(auth.BasicConfig{
		Realm: "api",
		Users: map[string]auth.BasicUser{"alice": {Hash: string(hash), Plan: "pro"}},
	})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:wonderland")))
	p, err := basic.Authenticate(r)
	fmt.Println(p.Subject, p.Plan, err)
	r.SetBasicAuth("alice", "guess")
	_, err = basic.Authenticate(r)
	fmt.Println(err)

	// A hash cheaper than MinCost (10 by default) is refused at construction.
	cheap, _ := bcrypt.GenerateFromPassword([]byte("builder"), bcrypt.MinCost)
	_, err = auth.NewBasic(auth.BasicConfig{Users: map[string]auth.BasicUser{"bob": {Hash: string(cheap)}}})
	fmt.Println(err)
	// Output:
	// alice pro <nil>
	// auth: Unauthorized: invalid credentials
	// auth: Basic user "bob": bcrypt cost 4 is below MinCost 10
}

func ExampleNewClientCert() {
	cc, err := auth.NewClientCert(auth.ClientCertConfig{
		// Roots: pool, // to verify here; nil trusts the server's verification
		AllowURIs: []string{"spiffe://example.org/ns/prod/"},
	})
	if err != nil {
		panic(err)
	}
	// Serve with tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}.
	_, err = cc.Authenticate(httptest.NewRequest("GET", "/", nil)) // no TLS
	fmt.Println(errors.Is(err, auth.ErrNoCredentials))
	// Output:
	// true
}

func ExampleNewForwardAuth() {
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Auth-User", "alice")
		w.Header().Set("X-Auth-Email", "alice@example.org")
	}))
	defer sso.Close()

	fa, err := auth.NewForwardAuth(auth.ForwardAuthConfig{
		URL:             sso.URL + "/verify",
		SubjectHeader:   "X-Auth-User",
		ResponseHeaders: []string{"X-Auth-Email"},
		Timeout:         time.Second,
	})
	if err != nil {
		panic(err)
	}
	mw, _ := auth.NewMiddleware(auth.Middleware{Authenticators: []auth.Authenticator{fa}, Forward: fa.ForwardHeaders()})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, auth.PrincipalFrom(r.Context()).Subject, " ", r.Header.Get("X-Auth-Email"))
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer guess")
	show(h, r)
	r.Header.Set("Authorization", "Bearer s3cret")
	show(h, r)
	// Output:
	// 401 [Bearer] {"error":{"type":"unauthorized","message":"unauthorized"}}
	//
	// 200 [] alice alice@example.org
}

func ExampleKeySubject() {
	h := auth.Require(tokenAuth{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// ratelimit.PerKey(lim, auth.KeySubject) and ratelimit.Tiers{Of: auth.PlanOf} do this.
		fmt.Fprintf(w, "key %s, plan %s", auth.KeySubject(nil, r), auth.PlanOf(r))
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer alice")
	show(h, r)
	// Output:
	// 200 [] key alice, plan free
}
