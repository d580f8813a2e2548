package redislimit_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vivremotion/gateway/internal/redistest"
	"github.com/vivremotion/gateway/ratelimit"
	"github.com/vivremotion/gateway/ratelimit/redislimit"
)

// benchRate never refuses during a benchmark, so that every decision
// costs what an allowed one does.
var benchRate = ratelimit.Rate{Limit: 1_000_000_000, Period: time.Hour}

// syncAllocs is what a synchronous decision allocates, none of it in this
// package: 7 in go-redis (its command, a connection check, the reply's
// array and integers) and 5 for the deadline (context.WithTimeout, and the
// Done channel go-redis asks of it). TestAllowAllocs fails if it rises.
const syncAllocs = 12

func TestAllowAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops objects under the race detector")
	}
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		want    float64
	}{
		{"deadline", 0, syncAllocs},
		{"client's timeouts", -1, syncAllocs - 5},
	} {
		l := limiter(t, redislimit.Config{Rate: benchRate, Timeout: tc.timeout})
		ctx := context.Background()
		got := testing.AllocsPerRun(200, func() {
			if _, err := l.Allow(ctx, "client-42", 1); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %v allocations per decision", tc.name, got)
		if got > tc.want {
			t.Errorf("%s: Allow allocates %v times; want at most %v", tc.name, got, tc.want)
		}
	}
}

// TestAllowLocalAllocs: in local-first mode, a decision spent from the
// replica's lease allocates nothing.
func TestAllowLocalAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops objects under the race detector")
	}
	l := limiter(t, redislimit.Config{Rate: benchRate, Batch: 10_000})
	ctx := context.Background()
	// A key longer than 64 bytes is hashed, in place.
	for _, key := range []string{"client-42", strings.Repeat("client-42 ", 10)} {
		got := testing.AllocsPerRun(1000, func() {
			if d, err := l.Allow(ctx, key, 1); err != nil || !d.Allowed {
				t.Fatal(d, err)
			}
		})
		if got != 0 {
			t.Errorf("Allow from the lease, key of %d bytes, allocates %v times; want 0", len(key), got)
		}
	}
}

// BenchmarkAllow measures one decision against the local redis-server
// (loopback, so the figure is mostly Redis and go-redis, not a network),
// over 1000 keys: the synchronous mode (a round trip each), and
// local-first with a batch of 100. It reports the median and 99th
// percentile latency and the round trips per decision.
func BenchmarkAllow(b *testing.B) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "client-" + strconv.Itoa(i)
	}
	for _, mode := range []struct {
		name  string
		batch int64
	}{{"sync", 0}, {"local-batch100", 100}} {
		for _, parallel := range []bool{false, true} {
			name := mode.name + "/sequential"
			if parallel {
				name = mode.name + "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				rc := client(b, redistest.Addr(b))
				var cmds counter
				rc.AddHook(&cmds)
				l := limiter(b, redislimit.Config{Client: rc, Rate: benchRate, Batch: mode.batch})
				var lat latencies
				b.ReportAllocs()
				if parallel {
					var next atomic.Int64
					b.RunParallel(func(pb *testing.PB) {
						own := make([]time.Duration, 0, 1<<16)
						i := int(next.Add(1)) * 7919
						for pb.Next() {
							own = decide(b, l, keys[i%len(keys)], own)
							i++
						}
						lat.add(own)
					})
				} else {
					own := make([]time.Duration, 0, 1<<16)
					i := 0
					for b.Loop() {
						own = decide(b, l, keys[i%len(keys)], own)
						i++
					}
					lat.add(own)
				}
				lat.report(b)
				b.ReportMetric(float64(cmds.n.Load())/float64(b.N), "trips/op")
			})
		}
	}
}

func decide(b *testing.B, l *redislimit.Limiter, key string, lat []time.Duration) []time.Duration {
	start := time.Now()
	if _, err := l.Allow(context.Background(), key, 1); err != nil {
		b.Fatal(err)
	}
	if len(lat) < cap(lat) {
		lat = append(lat, time.Since(start))
	}
	return lat
}

// latencies gathers the decisions' latencies from the goroutines.
type latencies struct {
	mu  sync.Mutex // guards all
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	if len(l.all) == 0 {
		return
	}
	slices.Sort(l.all)
	b.ReportMetric(float64(l.all[len(l.all)/2]), "p50-ns")
	b.ReportMetric(float64(l.all[len(l.all)*99/100]), "p99-ns")
}
