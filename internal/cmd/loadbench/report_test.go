package main

import (
	"bytes"
	"slices"
	"strings"
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

// TestSummarizeCache checks that the cache candidates are compared with
// nginxcache only, and that the other candidates' ratios are as without
// them.
func TestSummarizeCache(t *testing.T) {
	runs := func(rps float64) []wrkResult { return []wrkResult{{RequestsPerSec: rps}} }
	results := []result{
		{Name: "proxy", Runs: runs(20)},
		{Name: "reverseproxy", Runs: runs(10)},
		{Name: "nginx", Runs: runs(40)},
		{Name: "proxycache", Cache: true, Runs: runs(90)},
		{Name: "nginxcache", Cache: true, Runs: runs(60)},
	}
	summarize(results)
	want := []struct{ vsNginx, vsRP, vsNginxCache float64 }{
		{0.5, 2, 0},
		{0.25, 1, 0},
		{1, 4, 0},
		{0, 0, 1.5},
		{0, 0, 1},
	}
	for i, r := range results {
		got := struct{ vsNginx, vsRP, vsNginxCache float64 }{r.VsNginx, r.VsReverseProxy, r.VsNginxCache}
		if got != want[i] {
			t.Errorf("ratios of %s (vs nginx, reverseproxy, nginxcache) = %v; want %v", r.Name, got, want[i])
		}
	}
}

// TestTableCacheColumn checks that the "vs nginxcache" column and the note
// on the cache candidates appear only when one ran, in text and Markdown.
func TestTableCacheColumn(t *testing.T) {
	forward := result{Name: "proxy", Path: "/api/42", Runs: []wrkResult{{RequestsPerSec: 10}}}
	cached := result{Name: "proxycache", Path: "/api/42/cached", Cache: true, Runs: []wrkResult{{RequestsPerSec: 30}}}
	nginxCached := result{Name: "nginxcache", Path: "/api/42/cached", Cache: true, Runs: []wrkResult{{RequestsPerSec: 20}}}
	tests := []struct {
		name       string
		candidates []result
		wantCol    bool
	}{
		{"forwarding only", []result{forward}, false},
		{"with cache", []result{forward, cached, nginxCached}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := report{Candidates: slices.Clone(tt.candidates)}
			summarize(rep.Candidates)
			tab := rows(rep)
			if got := slices.Contains(tab[0], "vs nginxcache"); got != tt.wantCol {
				t.Errorf("header %q has vs nginxcache = %v; want %v", tab[0], got, tt.wantCol)
			}
			for _, row := range tab[1:] {
				if len(row) != len(tab[0]) {
					t.Errorf("row %q has %d cells; want %d", row, len(row), len(tab[0]))
				}
			}
			if tt.wantCol && tab[2][len(tab[2])-1] != "1.50" {
				t.Errorf("proxycache's vs nginxcache = %q; want 1.50", tab[2][len(tab[2])-1])
			}
			var md, text bytes.Buffer
			printMarkdown(&md, rep)
			printText(&text, rep)
			sep := "| --- |" + strings.Repeat(" ---: |", len(tab[0])-1)
			if !strings.Contains(md.String(), sep+"\n") {
				t.Errorf("Markdown has no separator %q:\n%s", sep, md.String())
			}
			for _, out := range []string{md.String(), text.String()} {
				if got := strings.Contains(out, "GET /api/42/cached"); got != tt.wantCol {
					t.Errorf("note on the cached path printed = %v; want %v:\n%s", got, tt.wantCol, out)
				}
			}
		})
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
