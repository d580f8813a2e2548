package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run measured.
type wrkResult struct {
	RequestsPerSec float64       `json:"requests_per_sec"`
	P50            time.Duration `json:"p50_ns"`
	P99            time.Duration `json:"p99_ns"`
	Requests       int64         `json:"requests"`
	Non2xx         int64         `json:"non_2xx"`       // "Non-2xx or 3xx responses"
	SocketErrors   int64         `json:"socket_errors"` // connect, read, write and timeout
}

// wrkOptions are the wrk flags every run shares.
type wrkOptions struct {
	threads, conns int
}

// runWrk runs wrk against url for d and parses its report.
func runWrk(ctx context.Context, opt wrkOptions, d time.Duration, url string) (wrkResult, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second)) // wrk takes whole seconds, as "10s"
	cmd := exec.CommandContext(ctx, "wrk",
		"-t"+strconv.Itoa(opt.threads), "-c"+strconv.Itoa(opt.conns),
		"-d"+strconv.Itoa(secs)+"s", "--latency", url)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return wrkResult{}, fmt.Errorf("wrk %s: %v: %s", url, err, ee.Stderr)
		}
		return wrkResult{}, fmt.Errorf("wrk %s: %w", url, err)
	}
	return parseWrk(string(out))
}

// parseWrk reads the figures out of wrk's report, as printed by wrk 4 with
// --latency:
//
//	  Latency Distribution
//	     50%  612.00us
//	     99%    1.92ms
//	  423187 requests in 10.00s, 512.35MB read
//	  Non-2xx or 3xx responses: 3
//	Requests/sec:  42313.61
func parseWrk(out string) (wrkResult, error) {
	var (
		r                 wrkResult
		haveRPS, have50   bool
		have99, inLatDist bool
	)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		var err error
		switch {
		case f[0] == "Latency" && len(f) > 1 && f[1] == "Distribution":
			inLatDist = true
		case inLatDist && f[0] == "50%" && len(f) == 2:
			r.P50, err = parseWrkDuration(f[1])
			have50 = err == nil
		case inLatDist && f[0] == "99%" && len(f) == 2:
			r.P99, err = parseWrkDuration(f[1])
			have99 = err == nil
		case len(f) > 2 && f[1] == "requests" && f[2] == "in":
			inLatDist = false
			r.Requests, err = strconv.ParseInt(f[0], 10, 64)
		case f[0] == "Requests/sec:" && len(f) == 2:
			r.RequestsPerSec, err = strconv.ParseFloat(f[1], 64)
			haveRPS = err == nil
		case f[0] == "Non-2xx" && len(f) == 5:
			r.Non2xx, err = strconv.ParseInt(f[4], 10, 64)
		case f[0] == "Socket" && f[1] == "errors:":
			r.SocketErrors, err = sumSocketErrors(f[2:])
		}
		if err != nil {
			return r, fmt.Errorf("wrk output: line %q: %w", sc.Text(), err)
		}
	}
	if !haveRPS || !have50 || !have99 {
		return r, fmt.Errorf("wrk output lacks Requests/sec or the 50%% and 99%% latencies (was --latency given?):\n%s", out)
	}
	return r, nil
}

// sumSocketErrors adds up "connect 0, read 0, write 0, timeout 0".
func sumSocketErrors(f []string) (int64, error) {
	var n int64
	for i := 1; i < len(f); i += 2 {
		v, err := strconv.ParseInt(strings.TrimSuffix(f[i], ","), 10, 64)
		if err != nil {
			return 0, err
		}
		n += v
	}
	return n, nil
}

// parseWrkDuration parses wrk's latencies: a decimal number and one of the
// units us, ms, s, m or h.
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{
		// "us" and "ms" before "s", which they end with.
		{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second},
		{"m", time.Minute}, {"h", time.Hour},
	}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("bad latency %q", s)
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("latency %q has no unit", s)
}

// wrkVersion returns the first line of wrk -v, such as
// "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer", cut
// before the copyright.
func wrkVersion() string {
	out, _ := exec.Command("wrk", "-v").CombinedOutput() // wrk -v exits 1
	line, _, _ := strings.Cut(string(out), "\n")
	line, _, _ = strings.Cut(line, " Copyright")
	return strings.TrimSpace(line)
}
