package introspect_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/vivremotion/gateway/auth/introspect"
)

// ExampleNew asks an introspection endpoint over TLS, authenticated with
// client_secret_basic, about the token of each request.
func ExampleNew() {
	// A stand-in for the authorization server's introspection endpoint.
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if id != "gateway" || secret != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.PostFormValue("token") == "2YotnFZFEjr1zCsicMWpAA" {
			io.WriteString(w, `{"active":true,"sub":"alice","scope":"read write","org":"acme"}`)
			return
		}
		io.WriteString(w, `{"active":false}`)
	}))
	defer as.Close()

	in, err := introspect.New(introspect.Config{
		Endpoint:     as.URL + "/introspect",
		ClientID:     "gateway",
		ClientSecret: "s3cret",
		Client:       as.Client(), // trusts the test server's certificate
		TenantClaim:  "org",
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer 2YotnFZFEjr1zCsicMWpAA")
	p, err := in.Authenticate(r)
	fmt.Println(p.Subject, p.Tenant, p.Scopes, p.Method, err)

	r.Header.Set("Authorization", "Bearer revoked")
	_, err = in.Authenticate(r)
	fmt.Println(err)
	fmt.Println(in.Challenge())
	// Output:
	// alice acme [read write] introspection <nil>
	// auth: Unauthorized (invalid_token): the access token is not active: introspect: token not active
	// Bearer realm="api"
}

// ExampleNew_failClosed shows what happens when the endpoint cannot answer:
// the request is refused with 503, not 401, since the token may be good.
func ExampleNew_failClosed() {
	in, err := introspect.New(introspect.Config{
		Endpoint:    "https://as.example/introspect",
		BearerToken: "gateway-access-token",
		Client: &http.Client{Transport: transportFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusBadGateway, Body: http.NoBody}, nil
		})},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer 2YotnFZFEjr1zCsicMWpAA")
	_, err = in.Authenticate(r)
	fmt.Println(err)
	// Output:
	// auth: Service Unavailable: the access token could not be checked; try again later: introspect: introspection unavailable: endpoint answered 502
}
