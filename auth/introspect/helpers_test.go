package introspect_test

import (
	"io"
	"net/http"
	"strings"
)

// jsonResponse is a 200 with body as JSON.
func jsonResponse(body string) *http.Response {
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
	}
}

// status returns a RoundTripper func that answers code with body.
func status(code int, body string) transportFunc {
	return func(*http.Request) (*http.Response, error) {
		res := jsonResponse(body)
		res.StatusCode = code
		return res, nil
	}
}

// readAll returns a request's body.
func readAll(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}
