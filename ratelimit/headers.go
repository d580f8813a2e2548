package ratelimit

import (
	"math"
	"math/bits"
	"net/http"
	"strconv"
	"time"
)

// Headers chooses the rate limit headers [Middleware] sets. Flags combine;
// the zero value means HeadersDraft.
type Headers uint8

const (
	// HeadersDraft sets RateLimit-Limit, RateLimit-Remaining and
	// RateLimit-Reset (seconds), the separate fields of the IETF draft
	// draft-ietf-httpapi-ratelimit-headers up to its revision 06, which
	// most clients read.
	HeadersDraft Headers = 1 << iota
	// HeadersX sets X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset (seconds) with the same values.
	HeadersX
	// HeadersStructured sets RateLimit-Policy (`"name";q=quota;w=window`:
	// the burst and the seconds in which it refills when that is a whole
	// number of seconds, else that time rounded up to whole seconds and
	// what the Rate earns in it, so that q/w is the long-run rate) and
	// RateLimit (`"name";r=remaining;t=reset`), the structured fields
	// of the draft's later revisions. The policy is left out for a Limiter
	// without a Rate method.
	HeadersStructured
	// HeadersNone sets no rate limit header; Retry-After is still sent on
	// a refusal.
	HeadersNone
)

// The header names, canonical already, so that setting one is a map
// assignment without canonicalizing.
const (
	hLimit      = "Ratelimit-Limit"
	hRemaining  = "Ratelimit-Remaining"
	hReset      = "Ratelimit-Reset"
	hXLimit     = "X-Ratelimit-Limit"
	hXRemaining = "X-Ratelimit-Remaining"
	hXReset     = "X-Ratelimit-Reset"
	hPolicy     = "Ratelimit-Policy"
	hRateLimit  = "Ratelimit"
	hRetryAfter = "Retry-After"
)

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// setHeaders sets the headers of d on h with two allocations whatever the
// flags: the values are formatted into one string, and each header gets a
// one-element slice of one shared backing array. The slices have a
// capacity of one, so an Add by a later handler copies rather than
// overwrites a neighbour. policy is the ready RateLimit-Policy value.
func setHeaders(h http.Header, flags Headers, name string, policy []string, d Decision) {
	if flags == 0 {
		flags = HeadersDraft
	}
	if flags&HeadersNone != 0 {
		flags = 0
	}
	var buf [160]byte
	b := buf[:0]
	var ends [4]int // the end of each value in b: limit, remaining, reset, structured
	n := 0
	if flags&(HeadersDraft|HeadersX) != 0 {
		b = strconv.AppendInt(b, d.Limit, 10)
		ends[0] = len(b)
		b = strconv.AppendInt(b, d.Remaining, 10)
		ends[1] = len(b)
		b = strconv.AppendInt(b, seconds(d.Reset), 10)
		ends[2] = len(b)
		n = 3
	}
	if flags&HeadersStructured != 0 {
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `";r=`...)
		b = strconv.AppendInt(b, d.Remaining, 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, seconds(d.Reset), 10)
		ends[3] = len(b)
	}
	retry := !d.Allowed && d.RetryAfter > 0
	if retry {
		b = strconv.AppendInt(b, max(1, seconds(d.RetryAfter)), 10)
	}
	if len(b) == 0 {
		return
	}
	s := string(b)
	vs := make([]string, 5)
	if n == 3 {
		vs[0], vs[1], vs[2] = s[:ends[0]], s[ends[0]:ends[1]], s[ends[1]:ends[2]]
		if flags&HeadersDraft != 0 {
			h[hLimit], h[hRemaining], h[hReset] = vs[0:1:1], vs[1:2:2], vs[2:3:3]
		}
		if flags&HeadersX != 0 {
			h[hXLimit], h[hXRemaining], h[hXReset] = vs[0:1:1], vs[1:2:2], vs[2:3:3]
		}
	}
	start := ends[2]
	if flags&HeadersStructured != 0 {
		vs[3] = s[start:ends[3]]
		h[hRateLimit] = vs[3:4:4]
		if policy != nil {
			h[hPolicy] = policy // shared, read-only, capacity one
		}
		start = ends[3]
	}
	if retry {
		vs[4] = s[start:]
		h[hRetryAfter] = vs[4:5:5]
	}
}

// policyValue renders RateLimit-Policy for a limiter that tells its Rate:
// its name (escaped already), a quota q and a window w in whole seconds
// whose ratio is the long-run rate. When the burst refills in a whole
// number of seconds (Burst·Period/Limit), q is the burst, which Remaining
// counts down from, and w that time; else w is that time rounded up, at
// least a second, and q what the Rate earns in w, rounded down, so that
// q/w never overstates the rate (5 per 100ms is q=50;w=1, not q=5;w=1).
// It returns nil for a Limiter without a Rate method: the header is then
// left out.
func policyValue(name string, l Limiter) []string {
	r, ok := l.(interface{ Rate() Rate })
	if !ok {
		return nil
	}
	rt := r.Rate()
	b := []byte{'"'}
	b = append(b, name...)
	b = append(b, `";q=`...)
	q, w := quota(rt)
	b = strconv.AppendInt(b, q, 10)
	if w > 0 {
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, w, 10)
	}
	return []string{string(b)}[:1:1]
}

// quota returns the q and w of RateLimit-Policy for r (see policyValue);
// w is 0 for a Rate that does not check.
func quota(r Rate) (q, w int64) {
	burst := r.BurstOrLimit()
	if r.Check() != nil || burst > maxScaled/int64(r.Period) {
		return burst, 0
	}
	refill := burst * int64(r.Period)                // ns·Limit: the refill time is refill/Limit ns
	if r.Limit <= math.MaxInt64/int64(time.Second) { // else a second earns more than refill: not whole
		if sec := int64(time.Second) * r.Limit; refill%sec == 0 {
			return burst, refill / sec
		}
	}
	w = max(1, seconds(time.Duration(ceilDiv(refill, r.Limit))))
	// q = ⌊w·1e9·Limit/Period⌋, in 128 bits; capped should it not fit.
	hi, lo := bits.Mul64(uint64(w)*uint64(time.Second), uint64(r.Limit))
	if hi >= uint64(r.Period) {
		return math.MaxInt64, w
	}
	qu, _ := bits.Div64(hi, lo, uint64(r.Period))
	return int64(min(qu, math.MaxInt64)), w
}
