package cache_test

import (
	"testing"
	"time"
)

func TestAgeSaturates(t *testing.T) {
	e := store(pol, get(), res(200, "Cache-Control", "max-age=60", "Date", "Mon, 01 Jan 0001 00:00:00 GMT"))
	for _, at := range []time.Duration{time.Second, 2 * time.Minute, time.Hour} {
		d := pol.Decide(get(), e, t0.Add(at))
		if d.Age < 0 || d.Action.Serves() {
			t.Errorf("Date year 1, at +%v: Decide = %v age %v; want not served, age >= 0", at, d.Action, d.Age)
		}
	}
	e = store(pol, get(), res(200, "Cache-Control", "max-age=60", "Age", "2147483648"))
	if a := e.Age(t0.Add(250 * 365 * 24 * time.Hour)); a != (1<<31)*time.Second {
		t.Errorf("Age with Age: 2147483648 after 250 years = %v; want 2^31 s", a)
	}
}
