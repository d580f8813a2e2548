package clientip

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func TestNewErrors(t *testing.T) {
	if _, err := New([]netip.Prefix{{}}, ""); err == nil {
		t.Errorf("New(invalid prefix) = nil error; want one")
	}
	if _, err := New(nil, "X-Real-IP"); err == nil {
		t.Errorf("New(header X-Real-IP) = nil error; want one")
	}
	if _, err := New(nil, "x-forwarded-for"); err != nil {
		t.Errorf("New(header x-forwarded-for) = %v; want nil", err)
	}
}

func TestClientIP(t *testing.T) {
	proxies := prefixes("10.0.0.0/8", "2001:db8:ffff::/48")
	tests := []struct {
		name    string
		trusted []netip.Prefix
		header  string
		remote  string
		values  []string
		want    string
	}{
		{"no proxy trusted ignores the header", nil, "", "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"untrusted peer ignores the header", proxies, "", "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"trusted peer, one hop", proxies, "", "10.1.2.3:5555", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed left entries are skipped", proxies, "", "10.1.2.3:5555", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops are walked", proxies, "", "10.1.2.3:5555", []string{"1.1.1.1, 198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"several lines, last first", proxies, "", "10.1.2.3:5555", []string{"1.1.1.1", "198.51.100.1, 10.2.2.2"}, "198.51.100.1"},
		{"walk crosses lines", proxies, "", "10.1.2.3:5555", []string{"198.51.100.1", "10.2.2.2"}, "198.51.100.1"},
		{"all trusted gives the leftmost", proxies, "", "10.1.2.3:5555", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"no header gives the peer", proxies, "", "10.1.2.3:5555", nil, "10.1.2.3"},
		{"garbage stops at the last trusted hop", proxies, "", "10.1.2.3:5555", []string{"198.51.100.1, nonsense, 10.2.2.2"}, "10.2.2.2"},
		{"empty elements are skipped", proxies, "", "10.1.2.3:5555", []string{"198.51.100.1, ,"}, "198.51.100.1"},
		{"ipv4 with port", proxies, "", "10.1.2.3:5555", []string{"198.51.100.1:8080"}, "198.51.100.1"},
		{"bare ipv6", proxies, "", "[2001:db8:ffff::1]:443", []string{"2001:db8::7"}, "2001:db8::7"},
		{"bracketed ipv6 with port", proxies, "", "[2001:db8:ffff::1]:443", []string{"[2001:db8::7]:99"}, "2001:db8::7"},
		{"mapped ipv4 peer is unmapped", proxies, "", "[::ffff:10.1.2.3]:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"zone is dropped", nil, "", "[fe80::1%eth0]:443", nil, "fe80::1"},
		{"forwarded", proxies, "Forwarded", "10.1.2.3:5555", []string{`for=1.1.1.1, for=198.51.100.1;proto=https, for="[2001:db8:ffff::9]:80";by=x`}, "198.51.100.1"},
		{"forwarded quoted ipv6", proxies, "Forwarded", "10.1.2.3:5555", []string{`For="[2001:db8::7]:4711"`}, "2001:db8::7"},
		{"forwarded unknown stops", proxies, "Forwarded", "10.1.2.3:5555", []string{`for=unknown, for=10.2.2.2`}, "10.2.2.2"},
		{"forwarded without for stops", proxies, "Forwarded", "10.1.2.3:5555", []string{`proto=http`}, "10.1.2.3"},
		{"forwarded quoted comma", proxies, "Forwarded", "10.1.2.3:5555", []string{`for="1.1.1.1,2.2.2.2", for=198.51.100.1`}, "198.51.100.1"},
		{"xff ignored when forwarded chosen", proxies, "Forwarded", "10.1.2.3:5555", nil, "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.trusted, tt.header)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			name := r.header
			for _, v := range tt.values {
				h.Add(name, v)
			}
			if tt.header == "Forwarded" && tt.values == nil {
				h.Set(XForwardedFor, "198.51.100.1")
			}
			got, err := r.ClientIP(tt.remote, h)
			if err != nil || got.String() != tt.want {
				t.Errorf("ClientIP(%q, %q) = %v, %v; want %s", tt.remote, tt.values, got, err, tt.want)
			}
		})
	}
}

func TestClientIPBadRemote(t *testing.T) {
	var r Resolver
	for _, remote := range []string{"", "pipe", "1.2.3.4:x", "[::1"} {
		if a, err := r.ClientIP(remote, nil); err == nil {
			t.Errorf("ClientIP(%q) = %v, nil; want ErrNoAddr", remote, a)
		}
	}
}

func TestClientIPAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	r, _ := New(prefixes("10.0.0.0/8"), "")
	h := http.Header{XForwardedFor: {"1.1.1.1, 198.51.100.1, 10.2.2.2"}}
	n := testing.AllocsPerRun(100, func() {
		if _, err := r.ClientIP("10.1.2.3:5555", h); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("ClientIP allocs = %v; want 0", n)
	}
}

func BenchmarkClientIP(b *testing.B) {
	r, _ := New(prefixes("10.0.0.0/8"), "")
	h := http.Header{XForwardedFor: {"1.1.1.1, 198.51.100.1, 10.2.2.2"}}
	b.ReportAllocs()
	for b.Loop() {
		r.ClientIP("10.1.2.3:5555", h)
	}
}

// FuzzClientIP checks that any header gives an answer the client could not
// have chosen unless every hop to its right is trusted: the peer when the
// peer is untrusted, else an address that occurs in the header or a
// trusted hop.
func FuzzClientIP(f *testing.F) {
	f.Add("10.1.2.3:1", "1.1.1.1, 198.51.100.1, 10.2.2.2", false)
	f.Add("10.1.2.3:1", `for="[2001:db8::7]:4711";proto=http, for=10.0.0.2`, true)
	f.Add("203.0.113.1:1", "1.1.1.1", false)
	f.Add("10.1.2.3:1", `for="a,b"",, for=_x`, true)
	f.Add("10.0.0.0", "for=A::", false)
	f.Fuzz(func(t *testing.T, remote, value string, forwarded bool) {
		header := XForwardedFor
		if forwarded {
			header = Forwarded
		}
		r, err := New(prefixes("10.0.0.0/8", "2001:db8:ffff::/48"), header)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{header: {value}}
		a, err := r.ClientIP(remote, h)
		if err != nil {
			return
		}
		peer, _ := parseNode(remote)
		if !r.Trusted(peer) {
			if a != peer {
				t.Fatalf("ClientIP(%q, %q) = %v; want the untrusted peer %v", remote, value, a, peer)
			}
			return
		}
		if a == peer || r.Trusted(a) {
			return
		}
		// An untrusted answer must be one of the header's nodes.
		for _, piece := range strings.FieldsFunc(value, func(c rune) bool { return c == ',' || c == ';' }) {
			piece = strings.TrimSpace(piece)
			if len(piece) > 4 && strings.EqualFold(piece[:4], "for=") {
				piece = strings.Trim(piece[4:], `"`)
			}
			if b, ok := parseNode(piece); ok && b == a {
				return
			}
		}
		t.Fatalf("ClientIP(%q, %q) = %v; an address from nowhere", remote, value, a)
	})
}
