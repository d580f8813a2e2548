package h1_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/vivremotion/gateway/internal/h1"
)

var _ http.RoundTripper = (*h1.Transport)(nil)

func ExampleTransport() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.URL.Path)
	}))
	defer upstream.Close()

	tr := &h1.Transport{} // the zero value is ready to use
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, upstream.URL+"/users", nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.Status, string(body))
	// Output: 200 OK hello from /users
}
