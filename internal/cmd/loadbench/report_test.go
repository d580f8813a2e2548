package main

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	runs := func(rps ...float64) []wrkResult {
		var ws []wrkResult
		for i, x := range rps {
			ws = append(ws, wrkResult{RequestsPerSec: x, P50: time.Duration(i+1) * time.Millisecond, P99: time.Duration(10*(i+1)) * time.Millisecond})
		}
		return ws
	}
	results := []result{
		{Name: "proxy", Runs: runs(30, 10, 20)},
		{Name: "reverseproxy", Runs: runs(10, 12)},
		{Name: "nginx", Runs: runs(40)},
	}
	summarize(results)
	want := []summary{
		{MedianRPS: 20, MinRPS: 10, MaxRPS: 30, P50: 2 * time.Millisecond, P99: 20 * time.Millisecond, VsNginx: 0.5, VsReverseProxy: 20.0 / 11},
		{MedianRPS: 11, MinRPS: 10, MaxRPS: 12, P50: 1500 * time.Microsecond, P99: 15 * time.Millisecond, VsNginx: 11.0 / 40, VsReverseProxy: 1},
		{MedianRPS: 40, MinRPS: 40, MaxRPS: 40, P50: time.Millisecond, P99: 10 * time.Millisecond, VsNginx: 1, VsReverseProxy: 40.0 / 11},
	}
	for i, r := range results {
		if r.summary != want[i] {
			t.Errorf("summary of %s = %+v; want %+v", r.Name, r.summary, want[i])
		}
	}
}

func TestSummarizeWithoutNginx(t *testing.T) {
	results := []result{{Name: "proxy", Runs: []wrkResult{{RequestsPerSec: 5}}}}
	summarize(results)
	if got := results[0].VsNginx; got != 0 {
		t.Errorf("VsNginx without nginx = %v; want 0", got)
	}
	if got := formatRatio(results[0].VsNginx); got != "–" {
		t.Errorf("formatRatio(0) = %q; want %q", got, "–")
	}
}
