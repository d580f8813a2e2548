package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// summary is a candidate's figures over all rounds.
type summary struct {
	MedianRPS float64       `json:"median_rps"`
	MinRPS    float64       `json:"min_rps"`
	MaxRPS    float64       `json:"max_rps"`
	P50       time.Duration `json:"median_p50_ns"`
	P99       time.Duration `json:"median_p99_ns"`
	// The ratios of MedianRPS to that of nginx and of reverseproxy, for the
	// candidates that forward every request, and to that of nginxcache,
	// for the cache candidates; zero when that candidate did not run, and
	// between the two kinds.
	VsNginx        float64 `json:"ratio_to_nginx,omitempty"`
	VsReverseProxy float64 `json:"ratio_to_reverseproxy,omitempty"`
	VsNginxCache   float64 `json:"ratio_to_nginxcache,omitempty"`
}

// summarize fills in the summary of every result.
func summarize(results []result) {
	for i := range results {
		r := &results[i]
		var rps []float64
		var p50, p99 []time.Duration
		for _, w := range r.Runs {
			rps = append(rps, w.RequestsPerSec)
			p50 = append(p50, w.P50)
			p99 = append(p99, w.P99)
		}
		r.MedianRPS = median(rps)
		r.MinRPS, r.MaxRPS = slices.Min(rps), slices.Max(rps)
		r.P50, r.P99 = median(p50), median(p99)
	}
	base := func(name string) float64 {
		for _, r := range results {
			if r.Name == name {
				return r.MedianRPS
			}
		}
		return 0
	}
	nginx, rp, nginxCache := base("nginx"), base("reverseproxy"), base("nginxcache")
	for i := range results {
		if results[i].Cache {
			// Hits are compared with hits only.
			if nginxCache > 0 {
				results[i].VsNginxCache = results[i].MedianRPS / nginxCache
			}
			continue
		}
		if nginx > 0 {
			results[i].VsNginx = results[i].MedianRPS / nginx
		}
		if rp > 0 {
			results[i].VsReverseProxy = results[i].MedianRPS / rp
		}
	}
}

// median returns the middle value of xs, or the mean of the two middle
// values when there are an even number. xs must not be empty.
func median[T float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// machine describes where the figures were measured.
type machine struct {
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPU        string `json:"cpu"`
	NumCPU     int    `json:"nproc"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	Nginx      string `json:"nginx,omitempty"`
	Wrk        string `json:"wrk"`
}

func describeMachine() machine {
	return machine{
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		CPU:        cpuModel(),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Go:         runtime.Version(),
		Nginx:      nginxVersion(),
		Wrk:        wrkVersion(),
	}
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func (m machine) String() string {
	nginx := m.Nginx
	if nginx == "" {
		nginx = "not installed"
	}
	return fmt.Sprintf("%s/%s, %s, nproc %d, GOMAXPROCS %d, %s, nginx %s, %s",
		m.OS, m.Arch, m.CPU, m.NumCPU, m.GOMAXPROCS, m.Go, nginx, m.Wrk)
}

func (s settings) String() string {
	return fmt.Sprintf("wrk -t%d -c%d -d%v --latency, %d rounds in alternation, %v warm-up before each run, "+
		"%s origin, %d-byte body, GET %s",
		s.Threads, s.Conns, s.Duration, s.Rounds, s.Warmup, s.Origin, s.Size, s.Path)
}

// hasCache reports whether a cache candidate ran.
func (rep report) hasCache() bool {
	return slices.ContainsFunc(rep.Candidates, func(r result) bool { return r.Cache })
}

// rows returns the table's header and rows, the same for text and Markdown.
// The column "vs nginxcache" is there only when a cache candidate ran.
func rows(rep report) [][]string {
	cache := rep.hasCache()
	head := []string{"candidate", "requests/s (median)", "min–max", "p50", "p99", "vs nginx", "vs reverseproxy"}
	if cache {
		head = append(head, "vs nginxcache")
	}
	t := [][]string{head}
	for _, r := range rep.Candidates {
		row := []string{
			r.Name,
			fmt.Sprintf("%.0f", r.MedianRPS),
			fmt.Sprintf("%.0f–%.0f", r.MinRPS, r.MaxRPS),
			formatLatency(r.P50),
			formatLatency(r.P99),
			formatRatio(r.VsNginx),
			formatRatio(r.VsReverseProxy),
		}
		if cache {
			row = append(row, formatRatio(r.VsNginxCache))
		}
		t = append(t, row)
	}
	return t
}

// cacheNote says, under the table, what the cache candidates' figures are,
// or returns "" when none ran.
func cacheNote(rep report) string {
	var names []string
	path := ""
	for _, r := range rep.Candidates {
		if r.Cache {
			names = append(names, r.Name)
			path = r.Path
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s loaded GET %s, which the origin answers with Cache-Control: %s. "+
		"Each was checked to serve it from its cache without asking the origin, before the load and during every run, "+
		"so its figures are of cache hits, and its ratio is to nginxcache's hits, not to the candidates that forward every request.",
		strings.Join(names, " and "), path, cacheControl)
}

func printText(w io.Writer, rep report) {
	fmt.Fprintf(w, "machine: %s\n", rep.Machine)
	fmt.Fprintf(w, "load:    %s\n\n", rep.Settings)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range rows(rep) {
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
	if note := cacheNote(rep); note != "" {
		fmt.Fprintf(w, "\n%s\n", note)
	}
	printCandidates(w, rep, "")
}

func printMarkdown(w io.Writer, rep report) {
	fmt.Fprintf(w, "Machine: %s.\n\n", rep.Machine)
	fmt.Fprintf(w, "Load: %s.\n\n", rep.Settings)
	for i, row := range rows(rep) {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		if i == 0 {
			fmt.Fprintf(w, "| --- |%s\n", strings.Repeat(" ---: |", len(row)-1))
		}
	}
	if note := cacheNote(rep); note != "" {
		fmt.Fprintf(w, "\n%s\n", note)
	}
	printCandidates(w, rep, "- ")
}

// printCandidates says how each candidate was set up and which policies
// were in its chain.
func printCandidates(w io.Writer, rep report, bullet string) {
	fmt.Fprintln(w)
	for _, r := range rep.Candidates {
		fmt.Fprintf(w, "%s%s: %s\n", bullet, r.Name, r.About)
		for _, p := range r.Policies {
			fmt.Fprintf(w, "%s  - policy: %s\n", strings.Repeat(" ", len(bullet)), p)
		}
	}
}

// formatLatency prints d in µs below a millisecond and in ms above.
func formatLatency(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// formatRatio prints a ratio with two decimals, or "–" when there is none.
func formatRatio(x float64) string {
	if x == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", x)
}
