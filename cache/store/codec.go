package store

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/vivremotion/gateway/cache"
)

// codecVersion is the first byte of every encoded entry. It changes when
// the layout does; [Decode] refuses other versions, so that replicas of
// different releases sharing a Redis miss instead of misreading.
const codecVersion = 2

// ErrCodec reports an encoded entry that [Decode] cannot read: of another
// version, truncated, or malformed.
var ErrCodec = errors.New("store: malformed encoded entry")

// Encode appends the binary encoding of e to dst and returns the result.
// The layout (version 2), all integers as varints:
//
//	version byte
//	status
//	stored, expires, request time, date: each unix seconds, nanoseconds
//	age value, lifetime: nanoseconds
//	vary, vary values: each a count, then each string
//	header: field count, then per field its name and value count, then
//	        each value; a string is its length then its bytes
//	body: length then bytes
//
// Times keep their instant, not their location or monotonic reading.
func Encode(dst []byte, e *cache.Entry) []byte {
	dst = append(dst, codecVersion)
	dst = binary.AppendVarint(dst, int64(e.Status))
	dst = appendTime(dst, e.Stored)
	dst = appendTime(dst, e.Expires)
	dst = appendTime(dst, e.RequestTime)
	dst = appendTime(dst, e.Date)
	dst = binary.AppendVarint(dst, int64(e.AgeValue))
	dst = binary.AppendVarint(dst, int64(e.Lifetime))
	dst = appendStrings(dst, e.Vary)
	dst = appendStrings(dst, e.VaryValues)
	dst = binary.AppendUvarint(dst, uint64(len(e.Header)))
	for k, vs := range e.Header {
		dst = appendString(dst, k)
		dst = binary.AppendUvarint(dst, uint64(len(vs)))
		for _, v := range vs {
			dst = appendString(dst, v)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Body)))
	return append(dst, e.Body...)
}

// EncodedLen returns the length of Encode(nil, e) without encoding.
func EncodedLen(e *cache.Entry) int {
	n := 1 + varintLen(int64(e.Status)) + timeLen(e.Stored) + timeLen(e.Expires) + timeLen(e.RequestTime) + timeLen(e.Date) +
		varintLen(int64(e.AgeValue)) + varintLen(int64(e.Lifetime)) + stringsLen(e.Vary) + stringsLen(e.VaryValues) +
		uvarintLen(uint64(len(e.Header)))
	for k, vs := range e.Header {
		n += stringLen(k) + uvarintLen(uint64(len(vs)))
		for _, v := range vs {
			n += stringLen(v)
		}
	}
	return n + uvarintLen(uint64(len(e.Body))) + len(e.Body)
}

// Decode returns the entry encoded in b by [Encode]. The entry's Body
// refers to b, which must not be modified afterwards; header names and
// values are copied, in one string. It returns an error wrapping
// [ErrCodec] when b is not an encoded entry of this version.
func Decode(b []byte) (*cache.Entry, error) {
	return decode(b, bytesToString, aliasBytes)
}

// decodeString is [Decode] of an encoding held in a string, as go-redis
// returns it: the header is copied out of s, in one string, and the body
// in one slice, so that the entry does not keep s alive.
func decodeString(s string) (*cache.Entry, error) {
	return decode(s, strings.Clone, stringToBytes)
}

func bytesToString(b []byte) string { return string(b) }
func aliasBytes(b []byte) []byte    { return b[:len(b):len(b)] }
func stringToBytes(s string) []byte { return []byte(s) }

// decode decodes b, taking the header's strings with header (which must
// copy) and the body with body.
func decode[T string | []byte](b T, header func(T) string, body func(T) []byte) (*cache.Entry, error) {
	if len(b) == 0 || b[0] != codecVersion {
		return nil, ErrCodec
	}
	d := decoder[T]{b: b, off: 1}
	e := &cache.Entry{}
	e.Status = int(d.varint())
	e.Stored = d.time()
	e.Expires = d.time()
	e.RequestTime = d.time()
	e.Date = d.time()
	e.AgeValue = time.Duration(d.varint())
	e.Lifetime = time.Duration(d.varint())
	e.Vary = d.strings(header)
	e.VaryValues = d.strings(header)
	nk := d.uvarint()
	// Each field takes at least two bytes: no count above that is honest,
	// and allocating for one would let a bad entry allocate without bound.
	if d.err || nk > uint64(len(b)-d.off)/2 {
		return nil, ErrCodec
	}
	// A first pass checks the header and counts its values; the second
	// cuts its strings from one string and its values from one slice:
	// three allocations for any header.
	base := d.off
	total := uint64(0)
	for range nk {
		d.skipString()
		nv := d.uvarint()
		if d.err || nv > uint64(len(b)-d.off) {
			return nil, ErrCodec
		}
		for range nv {
			d.skipString()
		}
		if d.err {
			return nil, ErrCodec
		}
		total += nv
	}
	if nk > 0 {
		rest := header(b[base:d.off])
		d.off = base
		str := func() string {
			n := int(d.uvarint()) // checked by the first pass
			s := rest[d.off-base : d.off-base+n]
			d.off += n
			return s
		}
		e.Header = make(http.Header, nk)
		values := make([]string, 0, total)
		for range nk {
			k := str()
			nv := d.uvarint()
			start := len(values)
			for range nv {
				values = append(values, str())
			}
			e.Header[k] = values[start:len(values):len(values)]
		}
	}
	n := d.uvarint()
	if d.err || n != uint64(len(b)-d.off) {
		return nil, ErrCodec
	}
	if n > 0 {
		e.Body = body(b[d.off:])
	}
	return e, nil
}

// decoder reads varints from b from off on; err records the first
// malformed or truncated one.
type decoder[T string | []byte] struct {
	b   T
	off int
	err bool
}

func (d *decoder[T]) uvarint() uint64 {
	var v uint64
	for i, shift := d.off, uint(0); i < len(d.b) && shift < 64; i, shift = i+1, shift+7 {
		c := d.b[i]
		if shift == 63 && c > 1 {
			break // overflows 64 bits
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			d.off = i + 1
			return v
		}
	}
	d.err = true
	return 0
}

// strings reads a count and as many strings, each copied with cp; nil for
// a count of zero.
func (d *decoder[T]) strings(cp func(T) string) []string {
	n := d.uvarint()
	// Each string takes at least one byte: no count above that is honest.
	if d.err || n > uint64(len(d.b)-d.off) {
		d.err = true
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		l := d.uvarint()
		if d.err || l > uint64(len(d.b)-d.off) {
			d.err = true
			return nil
		}
		out = append(out, cp(d.b[d.off:d.off+int(l)]))
		d.off += int(l)
	}
	return out
}

func (d *decoder[T]) skipString() {
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)-d.off) {
		d.err = true
		return
	}
	d.off += int(n)
}

func (d *decoder[T]) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *decoder[T]) time() time.Time {
	s := d.varint()
	ns := d.uvarint()
	if ns >= 1e9 {
		d.err = true
	}
	if d.err || s == zeroUnix && ns == 0 {
		return time.Time{}
	}
	return time.Unix(s, int64(ns)).UTC()
}

// zeroUnix is the Unix seconds of the zero time.Time.
var zeroUnix = time.Time{}.Unix()

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func timeLen(t time.Time) int {
	return varintLen(t.Unix()) + uvarintLen(uint64(t.Nanosecond()))
}

func stringLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func appendStrings(dst []byte, ss []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = appendString(dst, s)
	}
	return dst
}

func stringsLen(ss []string) int {
	n := uvarintLen(uint64(len(ss)))
	for _, s := range ss {
		n += stringLen(s)
	}
	return n
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}
