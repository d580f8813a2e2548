package breaker_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/breaker"
)

func TestSettingsCheck(t *testing.T) {
	tests := []struct {
		name string
		s    breaker.Settings
		want string // a part of the error; "" for none
	}{
		{"zero", breaker.Settings{}, ""},
		{"count window", breaker.Settings{WindowCalls: 100, Buckets: 10, MinCalls: 100}, ""},
		{"small count window takes smaller defaults", breaker.Settings{WindowCalls: 5}, ""},
		{"count window not a multiple of Buckets", breaker.Settings{WindowCalls: 15}, ""},
		{"every rule set", breaker.Settings{Window: time.Minute, Buckets: 60, MinCalls: 5, FailureRate: 1, SlowCall: time.Second, SlowCallRate: 0.1, ConsecutiveFailures: 3, OpenTimeout: time.Second, MaxOpenTimeout: time.Second, HalfOpenProbes: 5}, ""},
		{"Never", breaker.Settings{ConsecutiveFailures: breaker.Never}, ""},
		{"long OpenTimeout and no max", breaker.Settings{OpenTimeout: 2 * time.Minute}, ""},

		{"negative Window", breaker.Settings{Window: -time.Second}, "Window -1s is negative"},
		{"both windows", breaker.Settings{Window: time.Second, WindowCalls: 10}, "both set"},
		{"negative WindowCalls", breaker.Settings{WindowCalls: -1}, "WindowCalls -1 is negative"},
		{"huge WindowCalls", breaker.Settings{WindowCalls: 1 << 30}, "WindowCalls 1073741824 is more than"},
		{"negative Buckets", breaker.Settings{Buckets: -1}, "Buckets -1 is negative"},
		{"too many Buckets", breaker.Settings{Buckets: 1001}, "Buckets 1001 is more than 1000"},
		{"more Buckets than calls", breaker.Settings{WindowCalls: 5, Buckets: 10}, "Buckets 10 is more than WindowCalls 5"},
		{"tiny buckets", breaker.Settings{Window: time.Millisecond, Buckets: 10}, "shorter than 1ms"},
		{"tiny window", breaker.Settings{Window: time.Millisecond}, "Window 1ms is shorter than 10ms"},
		{"negative MinCalls", breaker.Settings{MinCalls: -1}, "MinCalls -1 is negative"},
		{"MinCalls over the window", breaker.Settings{WindowCalls: 25, Buckets: 10, MinCalls: 25}, "MinCalls 25 is more than the 20 calls the window holds"},
		{"negative FailureRate", breaker.Settings{FailureRate: -0.5}, "FailureRate -0.5 is outside (0, 1]"},
		{"FailureRate over 1", breaker.Settings{FailureRate: 50}, "FailureRate 50 is outside (0, 1]"},
		{"NaN FailureRate", breaker.Settings{FailureRate: math.NaN()}, "FailureRate NaN"},
		{"negative SlowCall", breaker.Settings{SlowCall: -1}, "SlowCall -1ns is negative"},
		{"SlowCallRate over 1", breaker.Settings{SlowCallRate: 1.5}, "SlowCallRate 1.5 is outside (0, 1]"},
		{"negative ConsecutiveFailures", breaker.Settings{ConsecutiveFailures: -2}, "ConsecutiveFailures -2 is negative (use breaker.Never"},
		{"negative OpenTimeout", breaker.Settings{OpenTimeout: -1}, "OpenTimeout -1ns is negative"},
		{"negative MaxOpenTimeout", breaker.Settings{MaxOpenTimeout: -1}, "MaxOpenTimeout -1ns is negative"},
		{"MaxOpenTimeout below the default OpenTimeout", breaker.Settings{MaxOpenTimeout: time.Second}, "MaxOpenTimeout 1s is shorter than OpenTimeout 5s"},
		{"negative HalfOpenProbes", breaker.Settings{HalfOpenProbes: -1}, "HalfOpenProbes -1 is negative"},
		{"huge HalfOpenProbes", breaker.Settings{HalfOpenProbes: 1 << 21}, "HalfOpenProbes 2097152 is more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Check()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check() = %v; want nil", err)
				}
				breaker.New(tt.s) // must not panic
				breaker.NewPerUpstream(tt.s)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, breaker.ErrSettings) {
				t.Fatalf("Check() = %v; want an ErrSettings containing %q", err, tt.want)
			}
			for name, f := range map[string]func(){
				"New":            func() { breaker.New(tt.s) },
				"NewPerUpstream": func() { breaker.NewPerUpstream(tt.s) },
			} {
				func() {
					defer func() {
						if p := recover(); p != err && (p == nil || p.(error).Error() != err.Error()) {
							t.Errorf("%s panicked with %v; want %v", name, p, err)
						}
					}()
					f()
				}()
			}
		})
	}
}

// TestSettingsNotModified shows that the constructors leave the caller's
// Settings as they were.
func TestSettingsNotModified(t *testing.T) {
	s := breaker.Settings{WindowCalls: 50}
	breaker.New(s)
	breaker.NewPerUpstream(s)
	if !reflect.DeepEqual(s, breaker.Settings{WindowCalls: 50}) {
		t.Errorf("Settings after New = %+v; want them unchanged", s)
	}
}
