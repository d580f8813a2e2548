package cache_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
)

func TestKey(t *testing.T) {
	tests := []struct {
		method, target, host string
		want                 string
	}{
		{"GET", "/a?b=1", "example.com", "GET http://example.com/a?b=1"},
		{"GET", "/a?b=1", "EXAMPLE.com", "GET http://example.com/a?b=1"},
		{"HEAD", "/", "example.com:8080", "HEAD http://example.com:8080/"},
		{"GET", "/a%2Fb", "example.com", "GET http://example.com/a%2Fb"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		r.Host = tt.host
		if got := cache.Key(r); got != tt.want {
			t.Errorf("Key(%s %s, Host %s) = %q; want %q", tt.method, tt.target, tt.host, got, tt.want)
		}
	}
}

func TestEntryFreshAge(t *testing.T) {
	stored := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		arrivedAge string        // the Age header the response arrived with
		at         time.Duration // after Stored
		wantFresh  bool
		wantAge    time.Duration
	}{
		{"", -time.Second, true, 0}, // a clock that went back
		{"", 0, true, 0},
		{"", 59 * time.Second, true, 59 * time.Second},
		{"", time.Minute, false, time.Minute},
		{"", time.Hour, false, time.Hour},
		{"20", 0, true, 20 * time.Second},
		{"20", 30 * time.Second, true, 50 * time.Second},
		{"soon", 30 * time.Second, true, 30 * time.Second},
	}
	for _, tt := range tests {
		e := &cache.Entry{Header: http.Header{}, Stored: stored, Expires: stored.Add(time.Minute)}
		if tt.arrivedAge != "" {
			e.Header.Set("Age", tt.arrivedAge)
		}
		now := stored.Add(tt.at)
		if got := e.Fresh(now); got != tt.wantFresh {
			t.Errorf("Fresh(Stored%+v) = %v; want %v", tt.at, got, tt.wantFresh)
		}
		if got := e.Age(now); got != tt.wantAge {
			t.Errorf("Age(Stored%+v), arrived with Age %q = %v; want %v", tt.at, tt.arrivedAge, got, tt.wantAge)
		}
	}
}
