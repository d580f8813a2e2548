package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
	"github.com/vivremotion/gateway/cache/store"
	"github.com/vivremotion/gateway/internal/benchchain"
)

// candidate is one server under test, put in front of the origin.
type candidate struct {
	name  string
	about string // how it is set up, for the report
	// start serves the candidate on loopback in front of originURL and
	// returns its base URL, the policies in its chain (if any), and a
	// function that stops it.
	start func(originURL string) (*running, error)
	// hit, set for the cache candidates only, reports whether a response's
	// header says it was served from the candidate's cache. A cache
	// candidate is loaded on the cached path (see [cachedPath]) and must
	// serve it without asking the origin.
	hit func(http.Header) bool
}

// running is a started candidate.
type running struct {
	url      string
	policies []string
	stop     func() error
}

// candidates returns the candidates in their default order. conns is the
// number of connections the load uses, which sizes ReverseProxy's pool of
// idle upstream connections.
func candidates(conns int) []candidate {
	return []candidate{
		{
			name:  "proxy",
			about: "gateway.Proxy{Upstreams: balancer.MustPool(origin)} served by gateway.Server, in process",
			start: func(origin string) (*running, error) {
				return serveGo(&gateway.Proxy{Upstreams: balancer.MustPool(origin)}, nil)
			},
		},
		{
			name: "reverseproxy",
			about: fmt.Sprintf("httputil.ReverseProxy, Rewrite with SetURL and SetXForwarded, default transport "+
				"with MaxIdleConnsPerHost %d (not 2), served by gateway.Server, in process", conns),
			start: func(origin string) (*running, error) {
				target, err := url.Parse(origin)
				if err != nil {
					return nil, err
				}
				tr := http.DefaultTransport.(*http.Transport).Clone()
				tr.MaxIdleConnsPerHost = conns
				rp := &httputil.ReverseProxy{
					Rewrite: func(pr *httputil.ProxyRequest) {
						pr.SetURL(target)
						pr.SetXForwarded() // as gateway.Proxy does by default
					},
					Transport: tr,
					// Quiet: wrk closes connections with requests in
					// flight when it stops, and each would be logged.
					ErrorLog: log.New(io.Discard, "", 0),
				}
				return serveGo(rp, nil)
			},
		},
		{
			name:  "policies",
			about: "internal/benchchain: the full chain of today's policies, served by gateway.Server, in process",
			start: func(origin string) (*running, error) {
				h, names, err := benchchain.Build(origin)
				if err != nil {
					return nil, err
				}
				return serveGo(h, names)
			},
		},
		{
			name: "gopump",
			about: "a Go byte pump, one goroutine and one upstream connection per client connection, no HTTP " +
				"server or proxy: the ceiling of Go's network I/O on this machine, in process",
			start: startPump,
		},
		{
			name:  "nginx",
			about: "nginx, worker_processes 1, upstream keepalive 128, proxy_http_version 1.1, X-Forwarded-* set, subprocess",
			start: nginxStarter(false),
		},
		{
			name: "proxycache",
			about: "gateway.Proxy{Upstreams: balancer.MustPool(origin), Cache: store.NewMemory(store.MemoryConfig{})} " +
				"served by gateway.Server, in process; every request a cache hit",
			start: func(origin string) (*running, error) {
				m, err := store.NewMemory(store.MemoryConfig{})
				if err != nil {
					return nil, err
				}
				return serveGo(&gateway.Proxy{Upstreams: balancer.MustPool(origin), Cache: m}, nil)
			},
			hit: gatewayHit,
		},
		{
			name: "nginxcache",
			about: "the nginx candidate with proxy_cache (a proxy_cache_path in its temporary directory, " +
				"freshness from the origin's Cache-Control, proxy_cache_lock on), subprocess; every request a cache hit",
			start: nginxStarter(true),
			hit:   nginxHit,
		},
	}
}

// gatewayHit reports whether h has a Cache-Status member with the hit
// parameter (RFC 9211), as gateway.Proxy writes for a stored response.
func gatewayHit(h http.Header) bool {
	for _, v := range h.Values("Cache-Status") {
		for member := range strings.SplitSeq(v, ",") {
			for param := range strings.SplitSeq(member, ";") {
				if strings.EqualFold(strings.TrimSpace(param), "hit") {
					return true
				}
			}
		}
	}
	return false
}

// nginxHit reports whether h says nginx served the response from its
// cache: the nginxcache candidate adds $upstream_cache_status as
// X-Cache-Status.
func nginxHit(h http.Header) bool {
	return h.Get("X-Cache-Status") == "HIT"
}

// serveGo serves h with gateway.Server on a loopback port of this process.
func serveGo(h http.Handler, policies []string) (*running, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &gateway.Server{Handler: h, Logger: slog.New(slog.DiscardHandler), ShutdownTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln) }()
	return &running{
		url:      "http://" + ln.Addr().String(),
		policies: policies,
		stop: func() error {
			cancel()
			return <-errc
		},
	}, nil
}

// nginxConf is the configuration of the nginx candidates. Its verbs are:
// the temporary directory, the origin's host:port, the port nginx listens
// on, and the cache's lines in the http block and in the location (empty
// for the nginx candidate, nginxCacheHTTP and nginxCacheLocation for
// nginxcache).
const nginxConf = `# Written by loadbench.
worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;

events {
	worker_connections 4096;
}

http {
	access_log off;
	client_body_temp_path %[1]s/client_body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
%[4]s
	upstream origin {
		server %[2]s;
		keepalive 128;
	}

	server {
		listen 127.0.0.1:%[3]d;
		location / {
			proxy_pass http://origin;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Host $host;
			proxy_set_header X-Forwarded-Proto $scheme;
%[5]s		}
	}
}
`

// nginxCacheHTTP and nginxCacheLocation are the nginxcache candidate's
// lines of nginxConf. There is no proxy_cache_valid: how long a response
// stays fresh comes from the origin's Cache-Control alone.
const (
	nginxCacheHTTP = "\tproxy_cache_path %s/cache levels=1:2 keys_zone=bench:1m max_size=64m inactive=2h use_temp_path=off;\n"

	nginxCacheLocation = "\t\t\tproxy_cache bench;\n" +
		"\t\t\tproxy_cache_lock on;\n" +
		"\t\t\tadd_header X-Cache-Status $upstream_cache_status;\n"
)

// errNoNginx means that nginx is not on PATH.
var errNoNginx = errors.New("nginx is not on PATH")

// nginxStarter returns the start function of the nginx candidate, or of
// nginxcache when cached is true.
func nginxStarter(cached bool) func(origin string) (*running, error) {
	return func(origin string) (*running, error) { return startNginx(origin, cached) }
}

// startNginx runs nginx as a subprocess with a configuration of its own in
// a temporary directory, in front of origin, with a response cache in that
// directory when cached is true.
func startNginx(origin string, cached bool) (*running, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, errNoNginx
	}
	u, err := url.Parse(origin)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadbench-nginx-")
	if err != nil {
		return nil, err
	}
	var cacheHTTP, cacheLocation string
	if cached {
		cacheHTTP, cacheLocation = fmt.Sprintf(nginxCacheHTTP, dir), nginxCacheLocation
		// Run as root, nginx's worker is another user (nobody), which
		// must reach the cache directory that the master creates for it.
		if err := os.Chmod(dir, 0o711); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, u.Host, port, cacheHTTP, cacheLocation), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		cmd.Process.Signal(os.Interrupt) // SIGINT: nginx's fast shutdown
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		return os.RemoveAll(dir)
	}

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err // for stop
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			stop()
			return nil, fmt.Errorf("nginx exited at start (%v): %s", err, strings.TrimSpace(string(log)))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("nginx did not listen on %s within 5s", addr)
		}
	}
	return &running{url: "http://" + addr, stop: stop}, nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// nginxVersion returns the version nginx reports, such as "nginx/1.22.1",
// or "" when nginx is not on PATH.
func nginxVersion() string {
	out, err := exec.Command("nginx", "-v").CombinedOutput() // printed on stderr
	if err != nil {
		return ""
	}
	_, v, _ := strings.Cut(strings.TrimSpace(string(out)), "version: ")
	return v
}

// verify checks that url answers GET with 200 and exactly want.
func verify(url string, want []byte) error {
	_, err := get(url, want)
	return err
}

// get requests url and checks that it answers 200 with exactly want. It
// returns the response's header.
func get(url string, want []byte) (http.Header, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, int64(len(want))+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the body: %w", url, err)
	}
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		return nil, fmt.Errorf("GET %s = %s with %d bytes of body; want 200 OK with the origin's %d bytes",
			url, res.Status, len(body), len(want))
	}
	return res.Header, nil
}

// hitChecks is how many requests verifyCached sends after the first.
const hitChecks = 3

// verifyCached checks that url, a cached path of a cache candidate whose
// cache is still empty, answers with exactly want, asking the origin org
// the first time only and then serving from its cache: the next hitChecks
// responses must say so by hit and leave org's count unchanged.
func verifyCached(url string, want []byte, org origin, hit func(http.Header) bool) error {
	before := org.CachedRequests()
	if _, err := get(url, want); err != nil {
		return err
	}
	warm := org.CachedRequests()
	if warm == before {
		return fmt.Errorf("GET %s did not reach the origin the first time, with an empty cache", url)
	}
	for i := range hitChecks {
		h, err := get(url, want)
		if err != nil {
			return err
		}
		if !hit(h) {
			return fmt.Errorf("GET %s, request %d after the first: the response does not say it is a cache hit "+
				"(Cache-Status %q, X-Cache-Status %q)", url, i+2, h.Values("Cache-Status"), h.Get("X-Cache-Status"))
		}
	}
	if n := org.CachedRequests() - warm; n != 0 {
		return fmt.Errorf("GET %s: the origin was asked %d times in the %d requests after the first; want 0, all from the cache",
			url, n, hitChecks)
	}
	return nil
}
