package introspect_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/auth/introspect"
)

// cannedTransport answers every call with the same active answer, in
// memory, so that a miss measures the introspector's own work: the form,
// the request, reading and decoding the answer, building the Principal
// and caching it.
type cannedTransport struct{}

const cannedAnswer = `{"active":true,"sub":"Z5O3upPC88QrAjx00dis","client_id":"l238j323ds-23ij4","scope":"read write dolphin",` +
	`"aud":"https://protected.example.net/resource","iss":"https://server.example.com/","exp":4102444800,"iat":1419350238}`

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(cannedAnswer)),
		Request:    r,
	}, nil
}

func benchIntrospector(b *testing.B, cacheSize int) *introspect.Introspector {
	in, err := introspect.New(introspect.Config{
		Endpoint:     "https://server.example.com/introspect",
		ClientID:     "s6BhdRkqt3",
		ClientSecret: "gX1fBat3bV",
		Audience:     "https://protected.example.net/resource",
		CacheSize:    cacheSize,
		Client:       &http.Client{Transport: cannedTransport{}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return in
}

// BenchmarkAuthenticateCached measures a request whose token's answer is
// cached: reading the header, hashing the token, one lookup.
func BenchmarkAuthenticateCached(b *testing.B) {
	in := benchIntrospector(b, 0)
	r := bearer("2YotnFZFEjr1zCsicMWpAA.opaque-token-of-usual-length-0123456789")
	if _, err := in.Authenticate(r); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = in.Authenticate(r)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		// Many tokens, spread over the cache's shards.
		reqs := make([]*http.Request, 1024)
		for i := range reqs {
			reqs[i] = bearer("token-" + strconv.Itoa(i))
			_, _ = in.Authenticate(reqs[i])
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, _ = in.Authenticate(reqs[i&1023])
				i++
			}
		})
	})
}

// BenchmarkAuthenticateMiss measures a request whose token is not cached,
// against an in-memory endpoint: everything but the network.
func BenchmarkAuthenticateMiss(b *testing.B) {
	in := benchIntrospector(b, 1024)
	reqs := make([]*http.Request, 1<<16) // more than the cache holds: every request misses
	for i := range reqs {
		reqs[i] = bearer("token-" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := in.Authenticate(reqs[i&(1<<16-1)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
