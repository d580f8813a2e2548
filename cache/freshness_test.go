package cache_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// TestAgeAndFreshnessOverTime follows one stored response through its
// life on the fake clock: its age (RFC 9111 4.2.3) grows with resident
// time from the corrected initial age, and Decide moves from Fresh through
// the stale-while-revalidate window (RFC 5861 3) to MustValidate.
func TestAgeAndFreshnessOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p cache.Policy
		requestTime := time.Now()
		time.Sleep(2 * time.Second) // the response delay
		responseTime := time.Now()
		rs := &http.Response{StatusCode: 200, Header: http.Header{
			"Cache-Control": {"max-age=60, stale-while-revalidate=30"},
			"Age":           {"3"},
			"Date":          {responseTime.Add(-time.Second).UTC().Format(http.TimeFormat)},
		}}
		e := p.NewEntry(get(), rs, nil, requestTime, responseTime)
		// corrected_initial_age = max(apparent 1s, 3s + 2s delay) = 5s.
		steps := []struct {
			sleep   time.Duration
			wantAge time.Duration
			want    cache.Action
		}{
			{0, 5 * time.Second, cache.Fresh},
			{54 * time.Second, 59 * time.Second, cache.Fresh},
			{time.Second, 60 * time.Second, cache.StaleWhileRevalidate},
			{30 * time.Second, 90 * time.Second, cache.StaleWhileRevalidate},
			{time.Second, 91 * time.Second, cache.MustValidate},
		}
		for _, s := range steps {
			time.Sleep(s.sleep)
			now := time.Now()
			d := p.Decide(get(), e, now)
			if d.Age != s.wantAge || d.Action != s.want || e.Age(now) != s.wantAge {
				t.Errorf("after %v: Decide = %v, age %v (Entry.Age %v); want %v, age %v",
					now.Sub(responseTime), d.Action, d.Age, e.Age(now), s.want, s.wantAge)
			}
			if got, want := e.Fresh(now), s.want == cache.Fresh; got != want {
				t.Errorf("after %v: Fresh = %v; want %v", now.Sub(responseTime), got, want)
			}
		}
	})
}

// TestFreshenOverTime revalidates a stale entry with a 304 and checks that
// it is fresh again for the new lifetime, counted from the 304's arrival
// (RFC 9111 4.3.4).
func TestFreshenOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p cache.Policy
		now := time.Now()
		e := p.NewEntry(get(), &http.Response{StatusCode: 200, Header: http.Header{
			"Cache-Control": {"max-age=10"}, "Etag": {`"a"`},
		}}, []byte("x"), now, now)
		time.Sleep(20 * time.Second)
		if got := p.Decide(get(), e, time.Now()).Action; got != cache.MustValidate {
			t.Fatalf("Decide after 20s = %v; want must-validate", got)
		}
		sent := time.Now()
		time.Sleep(time.Second)
		n, _ := p.Freshen(e, &http.Response{StatusCode: 304, Header: http.Header{"Cache-Control": {"max-age=10"}, "Etag": {`"a"`}}}, sent, time.Now())
		time.Sleep(8 * time.Second)
		// 1s of response delay plus 8s resident: 9s old, 1s left.
		if d := p.Decide(get(), n, time.Now()); d.Action != cache.Fresh || d.Age != 9*time.Second {
			t.Errorf("Decide 8s after the 304 = %v, age %v; want fresh, age 9s", d.Action, d.Age)
		}
		time.Sleep(time.Second)
		if got := p.Decide(get(), n, time.Now()).Action; got != cache.MustValidate {
			t.Errorf("Decide 9s after the 304 = %v; want must-validate", got)
		}
		if string(n.Body) != "x" || n.Status != 200 {
			t.Errorf("Freshen kept body %q, status %d; want %q, 200", n.Body, n.Status, "x")
		}
	})
}
