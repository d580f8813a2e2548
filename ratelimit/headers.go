package ratelimit

import (
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
	// HeadersStructured sets RateLimit-Policy (`"name";q=burst;w=window`,
	// the window being the seconds in which the burst refills)
	// and RateLimit (`"name";r=remaining;t=reset`), the structured fields
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
// its name (escaped already), its quota (the burst, which Remaining counts down from) and
// the window in which that quota refills (Burst·Period/Limit, in whole
// seconds rounded up), so that q/w is the long-run rate. It returns nil
// for a Limiter without a Rate method: the header is then left out.
func policyValue(name string, l Limiter) []string {
	r, ok := l.(interface{ Rate() Rate })
	if !ok {
		return nil
	}
	rt := r.Rate()
	b := []byte{'"'}
	b = append(b, name...)
	b = append(b, `";q=`...)
	burst := rt.BurstOrLimit()
	b = strconv.AppendInt(b, burst, 10)
	if rt.Limit > 0 && rt.Period > 0 {
		window := time.Duration(ceilDiv(burst*int64(rt.Period), rt.Limit)) // burst·Period fits: the limiters check it
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, max(1, seconds(window)), 10)
	}
	return []string{string(b)}[:1:1]
}
