package auth

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestBasicCacheBound: with a cache of one entry, logins of two users
// take turns, both keep working, and the cache never holds more than one.
func TestBasicCacheBound(t *testing.T) {
	users := map[string]BasicUser{}
	for _, u := range []string{"a", "b"} {
		h, err := bcrypt.GenerateFromPassword([]byte(u+"-pw"), 4)
		if err != nil {
			t.Fatal(err)
		}
		users[u] = BasicUser{Hash: string(h)}
	}
	b, err := NewBasic(BasicConfig{MinCost: 4, CacheSize: 1, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		user := []string{"a", "b"}[i%2]
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+user+"-pw")))
		if p, err := b.Authenticate(r); err != nil || p.Subject != user {
			t.Errorf("login %d (%s) = %v, %v", i, user, p, err)
		}
		b.cache.mu.RLock()
		n := len(b.cache.m)
		b.cache.mu.RUnlock()
		if n != 1 {
			t.Fatalf("after login %d the cache holds %d entries; want 1", i, n)
		}
	}
}
