package main

import (
	"strings"
	"testing"
	"time"
)

// wrkSample is wrk 4.1's report with --latency, errors included.
const wrkSample = `Running 10s test @ http://127.0.0.1:40125/api/42
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.05ms    1.30ms  31.16ms   89.51%
    Req/Sec    31.52k     1.13k   33.92k    90.00%
  Latency Distribution
     50%  612.50us
     75%    2.26ms
     90%    3.99ms
     99%    1.21s
  313578 requests in 10.00s, 359.68MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  31354.47
Transfer/sec:     35.96MB
`

func TestParseWrk(t *testing.T) {
	got, err := parseWrk(wrkSample)
	if err != nil {
		t.Fatalf("parseWrk error = %v", err)
	}
	want := wrkResult{
		RequestsPerSec: 31354.47,
		P50:            612500 * time.Nanosecond,
		P99:            1210 * time.Millisecond,
		Requests:       313578,
		Non2xx:         7,
		SocketErrors:   6,
	}
	if got != want {
		t.Errorf("parseWrk = %+v; want %+v", got, want)
	}
}

func TestParseWrkIncomplete(t *testing.T) {
	tests := []struct {
		name, out string
	}{
		{"empty", ""},
		{"no --latency", strings.Replace(wrkSample, "Latency Distribution", "", 1)},
		{"no Requests/sec", strings.Replace(wrkSample, "Requests/sec:", "", 1)},
		{"bad latency", strings.Replace(wrkSample, "612.50us", "612.50xs", 1)},
	}
	for _, tt := range tests {
		if got, err := parseWrk(tt.out); err == nil {
			t.Errorf("%s: parseWrk = %+v, nil; want an error", tt.name, got)
		}
	}
}

func TestParseWrkDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0.00us", 0},
		{"812.00us", 812 * time.Microsecond},
		{"1.92ms", 1920 * time.Microsecond},
		{"2.00s", 2 * time.Second},
		{"1.50m", 90 * time.Second},
		{"1.00h", time.Hour},
	}
	for _, tt := range tests {
		if got, err := parseWrkDuration(tt.in); err != nil || got != tt.want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "12", "ms", "-1ms", "1.2.3ms"} {
		if got, err := parseWrkDuration(in); err == nil {
			t.Errorf("parseWrkDuration(%q) = %v, nil; want an error", in, got)
		}
	}
}
