package balancer_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/vivremotion/gateway/balancer"
)

var (
	_ balancer.Source         = balancer.Static(nil)
	_ balancer.Source         = balancer.DNS{}
	_ balancer.Source         = balancer.SRV{}
	_ balancer.UpstreamSource = balancer.SRV{}
)

func ExampleNewDiscoverer() {
	// In production the Source is a lookup, e.g.
	// balancer.DNS{Name: "api.internal", Port: 8080}; a fixed list here.
	src := balancer.Static{"http://10.0.0.1:8080", "http://10.0.0.2:8080"}
	pool := balancer.MustPool()
	d, err := balancer.NewDiscoverer(pool, balancer.Discovery{
		Source:  src,
		OnError: func(err error) { fmt.Println("discovery:", err) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Fill the pool before serving, then follow the Source every 30s.
	if err := d.Refresh(context.Background()); err != nil {
		fmt.Println(err)
	}
	if err := d.Start(context.Background()); err != nil {
		fmt.Println(err)
	}
	defer d.Close()
	for _, u := range pool.All() {
		fmt.Println(u)
	}
	// Output:
	// http://10.0.0.1:8080
	// http://10.0.0.2:8080
}

// fakeSource answers what it was last set to.
type fakeSource struct {
	mu   sync.Mutex
	urls []string
	err  error
}

func (f *fakeSource) Resolve(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.urls), f.err
}

func (f *fakeSource) set(err error, urls ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.urls, f.err = urls, err
}

var errLookup = errors.New("lookup failed")

// TestDiscovererRefresh applies one resolution after another to a pool.
func TestDiscovererRefresh(t *testing.T) {
	steps := []struct {
		name    string
		urls    []string
		err     error // the Source's
		want    []string
		wantErr []error // each must be in Refresh's error
	}{
		{name: "first answer", urls: []string{"http://a:1", "http://b:1"}, want: []string{"http://a:1", "http://b:1"}},
		{name: "one more", urls: []string{"http://b:1", "http://c:1", "http://a:1"}, want: []string{"http://a:1", "http://b:1", "http://c:1"}},
		{name: "one gone", urls: []string{"http://a:1", "http://c:1"}, want: []string{"http://a:1", "http://c:1"}},
		{name: "source fails", err: errLookup, want: []string{"http://a:1", "http://c:1"}, wantErr: []error{errLookup}},
		{name: "empty answer", want: []string{"http://a:1", "http://c:1"}, wantErr: []error{balancer.ErrNoUpstreams}},
		{name: "bad and repeated URLs skipped", urls: []string{"http://a:1", "ftp://x", "http://A:1", "http://d:1"},
			want: []string{"http://a:1", "http://d:1"}, wantErr: []error{balancer.ErrBadUpstream}},
		{name: "only bad URLs", urls: []string{"ftp://x"},
			want: []string{"http://a:1", "http://d:1"}, wantErr: []error{balancer.ErrBadUpstream, balancer.ErrNoUpstreams}},
	}
	src := &fakeSource{}
	pool := balancer.MustPool()
	d, err := balancer.NewDiscoverer(pool, balancer.Discovery{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		src.set(s.err, s.urls...)
		err := d.Refresh(context.Background())
		for _, w := range s.wantErr {
			if !errors.Is(err, w) {
				t.Errorf("%s: Refresh() = %v; want an error that is %v", s.name, err, w)
			}
		}
		if s.wantErr == nil && err != nil {
			t.Errorf("%s: Refresh() = %v; want nil", s.name, err)
		}
		checkMembers(t, s.name, pool, s.want)
	}
}

func checkMembers(t *testing.T, step string, p *balancer.Pool, want []string) {
	t.Helper()
	if got := urlsOf(p.All()); !slices.Equal(got, want) {
		t.Errorf("%s: All() = %q; want %q", step, got, want)
	}
	if got := urlsOf(p.Healthy()); !slices.Equal(got, want) {
		t.Errorf("%s: Healthy() = %q; want %q", step, got, want)
	}
}

// TestDiscovererDrains takes a vanished upstream out of rotation at once
// and out of the pool when its attempts end, or after DrainTimeout.
func TestDiscovererDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		src.set(nil, "http://a:1", "http://b:1", "http://c:1")
		pool := balancer.MustPool()
		d, _ := balancer.NewDiscoverer(pool, balancer.Discovery{Source: src, DrainTimeout: time.Minute})
		if err := d.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		b, c := pool.All()[1], pool.All()[2]
		b.Begin()
		c.Begin() // never done

		src.set(nil, "http://a:1")
		done := make(chan error, 1)
		go func() { done <- d.Refresh(context.Background()) }()
		synctest.Wait()
		if got, want := urlsOf(pool.Healthy()), []string{"http://a:1"}; !slices.Equal(got, want) {
			t.Errorf("while draining, Healthy() = %q; want %q", got, want)
		}
		if got, want := urlsOf(pool.All()), []string{"http://a:1", "http://b:1", "http://c:1"}; !slices.Equal(got, want) {
			t.Errorf("while draining, All() = %q; want %q", got, want)
		}

		b.Done(balancer.Outcome{})
		time.Sleep(time.Second)
		synctest.Wait()
		if got, want := urlsOf(pool.All()), []string{"http://a:1", "http://c:1"}; !slices.Equal(got, want) {
			t.Errorf("after b's attempt ended, All() = %q; want %q", got, want)
		}

		time.Sleep(time.Minute)
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Refresh() = %v; want nil", err)
			}
		default:
			t.Fatal("Refresh still running after DrainTimeout")
		}
		checkMembers(t, "after DrainTimeout", pool, []string{"http://a:1"})
		c.Done(balancer.Outcome{})
	})
}

// TestDiscovererStart follows the Source every Interval until Close, and
// until its context ends.
func TestDiscovererStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		src.set(nil, "http://a:1")
		pool := balancer.MustPool()
		var mu sync.Mutex
		var reported []error
		d, _ := balancer.NewDiscoverer(pool, balancer.Discovery{
			Source:   src,
			Interval: 10 * time.Second,
			OnError: func(err error) {
				mu.Lock()
				reported = append(reported, err)
				mu.Unlock()
			},
		})
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		checkMembers(t, "at start", pool, []string{"http://a:1"})
		if err := d.Start(context.Background()); !errors.Is(err, balancer.ErrDiscovering) {
			t.Errorf("second Start() = %v; want %v", err, balancer.ErrDiscovering)
		}

		src.set(nil, "http://a:1", "http://b:1")
		time.Sleep(9 * time.Second)
		synctest.Wait()
		checkMembers(t, "before Interval", pool, []string{"http://a:1"})
		time.Sleep(time.Second)
		synctest.Wait()
		checkMembers(t, "after Interval", pool, []string{"http://a:1", "http://b:1"})

		src.set(errLookup)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		checkMembers(t, "after a failed lookup", pool, []string{"http://a:1", "http://b:1"})
		mu.Lock()
		if len(reported) != 1 || !errors.Is(reported[0], errLookup) {
			t.Errorf("OnError got %v; want one error that is %v", reported, errLookup)
		}
		mu.Unlock()

		d.Close()
		src.set(nil, "http://c:1")
		time.Sleep(time.Minute)
		synctest.Wait()
		checkMembers(t, "after Close", pool, []string{"http://a:1", "http://b:1"})

		ctx, cancel := context.WithCancel(context.Background())
		if err := d.Start(ctx); err != nil {
			t.Fatalf("Start() after Close = %v", err)
		}
		time.Sleep(time.Second) // the drains of a and b
		synctest.Wait()
		checkMembers(t, "started again", pool, []string{"http://c:1"})
		cancel()
		src.set(nil, "http://d:1")
		time.Sleep(time.Minute)
		synctest.Wait()
		checkMembers(t, "after the context ended", pool, []string{"http://c:1"})
		d.Close()
	})
}

// TestDiscovererCloseWhileDraining removes a vanished upstream at once
// when the Discoverer is closed during its drain.
func TestDiscovererCloseWhileDraining(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{}
		src.set(nil, "http://a:1", "http://b:1")
		pool := balancer.MustPool()
		d, _ := balancer.NewDiscoverer(pool, balancer.Discovery{Source: src, Interval: time.Second})
		d.Start(context.Background())
		synctest.Wait()
		b := pool.All()[1]
		b.Begin()
		src.set(nil, "http://a:1")
		time.Sleep(2 * time.Second) // the next resolution begins b's drain
		synctest.Wait()
		if got, want := len(pool.All()), 2; got != want {
			t.Fatalf("while draining, len(All()) = %d; want %d", got, want)
		}
		d.Close()
		checkMembers(t, "after Close", pool, []string{"http://a:1"})
		b.Done(balancer.Outcome{})
	})
}

func TestNewDiscovererBad(t *testing.T) {
	pool := balancer.MustPool()
	for _, d := range []balancer.Discovery{
		{},
		{Source: balancer.Static{}, Interval: -1},
		{Source: balancer.Static{}, DrainTimeout: -1},
	} {
		if _, err := balancer.NewDiscoverer(pool, d); !errors.Is(err, balancer.ErrBadDiscovery) {
			t.Errorf("NewDiscoverer(%+v) = %v; want %v", d, err, balancer.ErrBadDiscovery)
		}
	}
}

// serveDNS answers A, AAAA and SRV questions from records, on a UDP socket
// of the loopback, and returns a resolver that asks it and nothing else.
func serveDNS(t *testing.T, records map[string][]dnsmessage.ResourceBody) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skip("no UDP on the loopback:", err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			bodies, ok := records[strings.ToLower(q.Name.String())]
			rcode := dnsmessage.RCodeSuccess
			if !ok {
				rcode = dnsmessage.RCodeNameError
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionAvailable: true, RCode: rcode})
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
			for _, body := range bodies {
				switch r := body.(type) {
				case *dnsmessage.AResource:
					if q.Type == dnsmessage.TypeA {
						b.AResource(rh, *r)
					}
				case *dnsmessage.AAAAResource:
					if q.Type == dnsmessage.TypeAAAA {
						b.AAAAResource(rh, *r)
					}
				case *dnsmessage.SRVResource:
					if q.Type == dnsmessage.TypeSRV {
						b.SRVResource(rh, *r)
					}
				}
			}
			if msg, err := b.Finish(); err == nil {
				pc.WriteTo(msg, addr)
			}
		}
	}()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", pc.LocalAddr().String())
		},
	}
}

func testZone() map[string][]dnsmessage.ResourceBody {
	return map[string][]dnsmessage.ResourceBody{
		"svc.example.com.": {
			&dnsmessage.AResource{A: [4]byte{10, 0, 0, 2}},
			&dnsmessage.AResource{A: [4]byte{10, 0, 0, 1}},
			&dnsmessage.AAAAResource{AAAA: [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}},
		},
		"_http._tcp.example.com.": {
			&dnsmessage.SRVResource{Target: dnsmessage.MustNewName("b.example.com."), Port: 8081, Weight: 1, Priority: 1},
			&dnsmessage.SRVResource{Target: dnsmessage.MustNewName("a.example.com."), Port: 8080, Weight: 5},
		},
	}
}

func TestDNS(t *testing.T) {
	r := serveDNS(t, testZone())
	tests := []struct {
		src  balancer.DNS
		want []string
	}{
		{balancer.DNS{Name: "svc.example.com.", Port: 8080, Resolver: r},
			[]string{"http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://[2001:db8::1]:8080"}},
		{balancer.DNS{Name: "svc.example.com.", Scheme: "https", Resolver: r},
			[]string{"https://10.0.0.1", "https://10.0.0.2", "https://[2001:db8::1]"}},
	}
	for _, tt := range tests {
		got, err := tt.src.Resolve(context.Background())
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%+v.Resolve() = %q, %v; want %q", tt.src, got, err, tt.want)
		}
		for _, raw := range got {
			if _, err := balancer.NewUpstream(raw); err != nil {
				t.Errorf("NewUpstream(%q) = %v", raw, err)
			}
		}
	}

	// A name that does not exist fails, and the pool keeps its members.
	pool := balancer.MustPool("http://10.0.0.9:8080")
	d, _ := balancer.NewDiscoverer(pool, balancer.Discovery{Source: balancer.DNS{Name: "gone.example.com.", Resolver: r}})
	var dnsErr *net.DNSError
	if err := d.Refresh(context.Background()); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("Refresh() of a missing name = %v; want a not-found *net.DNSError", err)
	}
	checkMembers(t, "after a missing name", pool, []string{"http://10.0.0.9:8080"})
}

func TestSRV(t *testing.T) {
	r := serveDNS(t, testZone())
	src := balancer.SRV{Service: "http", Proto: "tcp", Name: "example.com.", Resolver: r}
	pool := balancer.MustPool()
	d, _ := balancer.NewDiscoverer(pool, balancer.Discovery{Source: src})
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	type member struct {
		url              string
		weight, priority int
	}
	var got []member
	for _, u := range pool.All() {
		got = append(got, member{u.String(), u.Weight, u.Priority})
	}
	want := []member{{"http://a.example.com:8080", 5, 0}, {"http://b.example.com:8081", 1, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("members = %+v; want %+v", got, want)
	}
	if got, want := urlsOf(pool.Healthy()), []string{"http://a.example.com:8080"}; !slices.Equal(got, want) {
		t.Errorf("Healthy() = %q; want %q (priority 0 only)", got, want)
	}
	urls, err := src.Resolve(context.Background())
	if want := []string{"http://a.example.com:8080", "http://b.example.com:8081"}; err != nil || !slices.Equal(urls, want) {
		t.Errorf("Resolve() = %q, %v; want %q", urls, err, want)
	}
}
