// Command loadbench measures, on one machine, how many requests per second
// the gateway's Proxy forwards and at what latency, next to
// httputil.ReverseProxy, the gateway's full policy chain, and nginx, and
// how many cache hits the Proxy with a response cache and nginx with
// proxy_cache serve:
//
//	apt-get install -y nginx wrk
//	go run ./internal/cmd/loadbench
//
// It starts a minimal origin on loopback that answers every request with
// 200 and a 1 KiB body, puts each candidate in front of it on its own
// port, checks that each one returns the origin's body, and then loads
// them in turn with wrk, round after round, so that a slow patch of the
// machine hurts every candidate alike. It prints the medians over rounds,
// the ratios to nginx and to ReverseProxy, and the machine they were
// measured on. BENCHMARKS.md describes the method.
//
// The cache candidates, proxycache and nginxcache, are loaded on the path
// with "/cached" appended, which the origin answers with the same body and
// Cache-Control: public, max-age=3600. Before the load each must serve it
// from its cache without asking the origin again, and during the load the
// origin must see almost none of those requests; otherwise the run stops
// with an error rather than report the throughput of misses. Their ratio
// is to nginxcache.
//
// The Go candidates and the origin run in this process, with GOMAXPROCS as
// the runtime sets it (the number of CPUs, unless the GOMAXPROCS variable
// says otherwise); nginx runs as a subprocess with one worker. nginx is
// skipped, and the ratios to it omitted, when it is not on PATH.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vivremotion/gateway/internal/benchchain"
)

// settings are the command's flags.
type settings struct {
	Conns    int           `json:"connections"`
	Threads  int           `json:"wrk_threads"`
	Duration time.Duration `json:"duration_ns"`
	Warmup   time.Duration `json:"warmup_ns"`
	Rounds   int           `json:"rounds"`
	Size     int           `json:"body_bytes"`
	Origin   string        `json:"origin"`
	Path     string        `json:"path"`
	only     string
	jsonFile string
	markdown bool
}

func main() {
	var s settings
	flag.IntVar(&s.Conns, "c", 64, "wrk connections, kept open")
	flag.IntVar(&s.Threads, "t", 1, "wrk threads")
	flag.DurationVar(&s.Duration, "d", 10*time.Second, "length of each measured run, in whole seconds")
	flag.DurationVar(&s.Warmup, "warmup", 2*time.Second, "unmeasured load before each measured run; 0 for none")
	flag.IntVar(&s.Rounds, "rounds", 3, "rounds; each round loads every candidate once, in turn")
	flag.IntVar(&s.Size, "size", 1024, "size of the origin's response body, in bytes")
	flag.StringVar(&s.Origin, "origin", "raw", "origin: raw (a minimal HTTP/1.1 responder) or nethttp (net/http)")
	flag.StringVar(&s.Path, "path", benchchain.BenchPath, "request path the load uses")
	flag.StringVar(&s.only, "only", "", "comma-separated candidates to run (proxy, reverseproxy, policies, gopump, nginx); empty for all")
	flag.StringVar(&s.jsonFile, "json", "", "also write the results as JSON to this file")
	flag.BoolVar(&s.markdown, "markdown", false, "print the table as Markdown, for BENCHMARKS.md")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of this process (the Go candidates and the origin) to this file")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./internal/cmd/loadbench [flags]\n\n"+
			"Loads the gateway's Proxy, httputil.ReverseProxy, the full policy chain and nginx\n"+
			"with wrk, in front of the same loopback origin, and the Proxy with a cache and nginx\n"+
			"with proxy_cache on a cacheable path, and prints a table.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(1)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, s, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// result is one candidate's measurements and their summary.
type result struct {
	Name     string      `json:"name"`
	About    string      `json:"about"`
	Path     string      `json:"path"`            // the request path it was loaded on
	Cache    bool        `json:"cache,omitempty"` // a cache candidate, served from its cache
	Policies []string    `json:"policies,omitempty"`
	Runs     []wrkResult `json:"runs"`
	summary
}

// report is everything a run produced, as written by -json.
type report struct {
	Machine    machine  `json:"machine"`
	Settings   settings `json:"settings"`
	Candidates []result `json:"candidates"`
}

func run(ctx context.Context, s settings, stdout, stderr io.Writer) error {
	if err := s.check(); err != nil {
		return err
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not on PATH; install it (and nginx, to compare with) with:\n\tapt-get install -y wrk nginx")
	}
	cands, err := choose(candidates(s.Conns), s.only)
	if err != nil {
		return err
	}

	org, err := startOrigin(s.Origin, s.Size)
	if err != nil {
		return err
	}
	defer org.Close()
	body := makeBody(s.Size)
	if err := verify(org.URL()+s.Path, body); err != nil {
		return fmt.Errorf("origin: %w", err)
	}
	cached := cachedPath(s.Path)
	h, err := get(org.URL()+cached, body)
	if err != nil {
		return fmt.Errorf("origin: %w", err)
	}
	if got := h.Get("Cache-Control"); got != cacheControl {
		return fmt.Errorf("origin: GET %s has Cache-Control %q; want %q", cached, got, cacheControl)
	}

	// Start every candidate and check it before any load.
	var (
		results []result
		servers []*running
	)
	defer func() {
		for _, r := range servers {
			r.stop()
		}
	}()
	for _, c := range cands {
		r, err := c.start(org.URL())
		if errors.Is(err, errNoNginx) {
			fmt.Fprintf(stderr, "loadbench: nginx is not on PATH, so %s is skipped and no ratio to it is given (apt-get install -y nginx)\n", c.name)
			continue
		}
		if err != nil {
			return fmt.Errorf("starting %s: %w", c.name, err)
		}
		servers = append(servers, r)
		path := s.Path
		if c.hit != nil {
			path = cached
			if err := verifyCached(r.url+path, body, org, c.hit); err != nil {
				return fmt.Errorf("%s does not serve the origin's response from its cache: %w", c.name, err)
			}
		} else if err := verify(r.url+path, body); err != nil {
			return fmt.Errorf("%s does not serve the origin's response: %w", c.name, err)
		}
		results = append(results, result{Name: c.name, About: c.about, Path: path, Cache: c.hit != nil, Policies: r.policies})
	}

	opt := wrkOptions{threads: s.Threads, conns: s.Conns}
	n := len(servers)
	for round := range s.Rounds {
		// Each round starts one candidate later, so none is always first.
		for k := range n {
			i := (round + k) % n
			url := servers[i].url + results[i].Path
			fmt.Fprintf(stderr, "round %d/%d: %s\n", round+1, s.Rounds, results[i].Name)
			asked := org.CachedRequests()
			if s.Warmup > 0 {
				if _, err := runWrk(ctx, opt, s.Warmup, url); err != nil {
					return fmt.Errorf("warming up %s: %w", results[i].Name, err)
				}
			}
			w, err := runWrk(ctx, opt, s.Duration, url)
			if err != nil {
				return fmt.Errorf("loading %s: %w", results[i].Name, err)
			}
			if w.Non2xx > 0 || w.SocketErrors > 0 {
				fmt.Fprintf(stderr, "loadbench: %s: %d responses were not 2xx or 3xx, %d socket errors\n",
					results[i].Name, w.Non2xx, w.SocketErrors)
			}
			if results[i].Cache {
				if err := checkHits(org.CachedRequests()-asked, w.Requests); err != nil {
					return fmt.Errorf("%s: %w", results[i].Name, err)
				}
			}
			results[i].Runs = append(results[i].Runs, w)
		}
	}
	summarize(results)

	rep := report{Machine: describeMachine(), Settings: s, Candidates: results}
	if s.markdown {
		printMarkdown(stdout, rep)
	} else {
		printText(stdout, rep)
	}
	if s.jsonFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(s.jsonFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// check rejects flag values that cannot work.
func (s settings) check() error {
	switch {
	case s.Conns < 1 || s.Threads < 1 || s.Threads > s.Conns:
		return fmt.Errorf("-c %d -t %d: want at least one connection per thread", s.Conns, s.Threads)
	case s.Duration < time.Second:
		return fmt.Errorf("-d %v: want at least 1s", s.Duration)
	case s.Rounds < 1:
		return fmt.Errorf("-rounds %d: want at least 1", s.Rounds)
	case s.Size < 0:
		return fmt.Errorf("-size %d: want 0 or more", s.Size)
	case !strings.HasPrefix(s.Path, "/"):
		return fmt.Errorf("-path %q: want a path starting with /", s.Path)
	}
	return nil
}

// checkHits returns an error when a cache candidate, loaded with measured
// requests after a warm-up, asked the origin for more than one in a hundred
// of them: then it was not serving from its cache, and its figures would
// be of misses. With a lifetime of an hour, a cache that works asks the
// origin about once an hour.
func checkHits(originRequests, measured int64) error {
	if originRequests > measured/100 {
		return fmt.Errorf("the origin was asked %d times during a run of %d requests; "+
			"the cache is not serving them, so the figures would be of misses", originRequests, measured)
	}
	return nil
}

// choose returns the candidates named in the comma-separated list only, in
// their default order, or all of them when only is empty.
func choose(all []candidate, only string) ([]candidate, error) {
	if only == "" {
		return all, nil
	}
	var names []string
	for _, c := range all {
		names = append(names, c.name)
	}
	want := strings.Split(only, ",")
	for _, w := range want {
		if !slices.Contains(names, w) {
			return nil, fmt.Errorf("-only: unknown candidate %q; want some of %s", w, strings.Join(names, ","))
		}
	}
	var chosen []candidate
	for _, c := range all {
		if slices.Contains(want, c.name) {
			chosen = append(chosen, c)
		}
	}
	return chosen, nil
}
