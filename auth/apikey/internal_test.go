package apikey

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestUnknownIDComparesDummy: a key whose id is unknown still costs a
// hash and a compare, against the dummy digest.
func TestUnknownIDComparesDummy(t *testing.T) {
	var n int
	testHookDummy = func() { n++ }
	defer func() { testHookDummy = nil }()
	store := NewMemoryStore()
	m, _ := NewManager(store, ManagerConfig{})
	a, _ := New(Config{Store: store})
	key, _, err := m.Issue(t.Context(), Spec{})
	if err != nil {
		t.Fatal(err)
	}
	try := func(k string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-API-Key", k)
		a.Authenticate(r)
	}
	try(key)
	try(key[:len(key)-1] + "a")
	if n != 0 {
		t.Fatalf("dummy compared %d times for a known id; want 0", n)
	}
	try("gw_" + strings.Repeat("a", idLen) + key[len(key)-secretLen-1:])
	if n != 1 {
		t.Fatalf("dummy compared %d times for an unknown id; want 1", n)
	}
}

func TestParse(t *testing.T) {
	key, id, h := generate("gw")
	gotID, secret, ok := parse("gw", key)
	if !ok || gotID != id || hashSecret(secret) != h {
		t.Fatalf("parse(%q) = %q, %q, %v; want %q and the secret of digest %x", key, gotID, secret, ok, id, h)
	}
	for _, k := range []string{"", "gw", "gw_", key[1:], "xx" + key[2:], key + "a", strings.ToUpper(key), "gw" + strings.Repeat("_", len(key)-2)} {
		if _, _, ok := parse("gw", k); ok {
			t.Errorf("parse(%q) ok; want malformed", k)
		}
	}
}

func TestLocalCacheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newLocalCache(time.Second, 2)
		a := &Record{ID: "a"}
		c.putIf(a, c.generation())
		time.Sleep(time.Second - time.Nanosecond)
		if got := c.get("a"); got != a {
			t.Fatalf("get(a) before the TTL = %v; want the record", got)
		}
		time.Sleep(time.Nanosecond)
		if got := c.get("a"); got != nil {
			t.Fatalf("get(a) at the TTL = %v; want nil", got)
		}
	})
}

func TestLocalCacheBounded(t *testing.T) {
	c := newLocalCache(time.Hour, 2)
	for _, id := range []string{"a", "b", "c", "d"} {
		c.putIf(&Record{ID: id}, c.generation())
	}
	if len(c.entries) != 2 || c.get("d") == nil {
		t.Fatalf("cache holds %d entries (d: %v); want 2, d among them", len(c.entries), c.get("d"))
	}
	c.drop("d")
	if c.get("d") != nil {
		t.Errorf("get(d) after drop is not nil")
	}
}

// TestLocalCachePutAfterDrop: a record read before a drop is not cached
// after it.
func TestLocalCachePutAfterDrop(t *testing.T) {
	c := newLocalCache(time.Hour, 2)
	gen := c.generation() // a Get notes it, then reads the old record
	c.drop("a")           // a change through this store
	c.putIf(&Record{ID: "a"}, gen)
	if c.get("a") != nil {
		t.Errorf("get(a) = the record read before the drop; want nil")
	}
	c.putIf(&Record{ID: "a"}, c.generation())
	if c.get("a") == nil {
		t.Errorf("get(a) = nil after a put with no drop since; want the record")
	}
}
