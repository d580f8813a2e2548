package main

import (
	"os/exec"
	"slices"
	"testing"

	"github.com/vivremotion/gateway/internal/benchchain"
)

// TestCandidatesServe starts every candidate in front of the raw origin and
// checks it returns the origin's body, as the benchmark does before any
// load. nginx is tested only when it is installed.
func TestCandidatesServe(t *testing.T) {
	o, err := startOrigin("raw", 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	body := makeBody(1024)
	for _, c := range candidates(8) {
		t.Run(c.name, func(t *testing.T) {
			if _, err := exec.LookPath("nginx"); err != nil && c.name == "nginx" {
				t.Skip("nginx is not on PATH")
			}
			r, err := c.start(o.URL())
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			defer func() {
				if err := r.stop(); err != nil {
					t.Errorf("stop: %v", err)
				}
			}()
			if err := verify(r.url+benchchain.BenchPath, body); err != nil {
				t.Error(err)
			}
			if got := len(r.policies) > 0; got != (c.name == "policies") {
				t.Errorf("policies = %q; want some only for the policies candidate", r.policies)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	o, err := startOrigin("raw", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, want := range [][]byte{makeBody(99), makeBody(101), []byte("x")} {
		if err := verify(o.URL()+"/", want); err == nil {
			t.Errorf("verify of a %d-byte answer against %d bytes = nil; want an error", 100, len(want))
		}
	}
	if err := verify(o.URL()+"/", makeBody(100)); err != nil {
		t.Errorf("verify of the right body = %v; want nil", err)
	}
}

func TestChoose(t *testing.T) {
	all := candidates(64)
	tests := []struct {
		only    string
		want    []string
		wantErr bool
	}{
		{"", []string{"proxy", "reverseproxy", "policies", "gopump", "nginx"}, false},
		{"nginx,proxy", []string{"proxy", "nginx"}, false}, // default order kept
		{"proxy,haproxy", nil, true},
	}
	for _, tt := range tests {
		got, err := choose(all, tt.only)
		if (err != nil) != tt.wantErr {
			t.Errorf("choose(%q) error = %v; want error %v", tt.only, err, tt.wantErr)
			continue
		}
		var names []string
		for _, c := range got {
			names = append(names, c.name)
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("choose(%q) = %q; want %q", tt.only, names, tt.want)
		}
	}
}
