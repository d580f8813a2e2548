package store_test

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vivremotion/gateway/cache"
	"github.com/vivremotion/gateway/cache/store"
)

// fill sets v, and everything in it, to a value other than its zero value,
// by kind. It fails t on a kind it does not know, so that a new field of
// cache.Entry of a new kind is noticed here.
func fill(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 11, 23, 15, 4, 5, 123456789, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(42)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(42)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(4.5)
	case reflect.String:
		v.SetString(path + "-value")
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(t, s.Index(i), path+"[i]")
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(t, k, path+".key")
		e := reflect.New(v.Type().Elem()).Elem()
		fill(t, e, path+".elem")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), path)
		v.Set(p)
	default:
		t.Fatalf("fill: %s is of kind %s, which this test cannot fill: teach it, and the codec", path, v.Kind())
	}
}

// TestCodecCarriesEveryField fills every exported field of cache.Entry,
// including any added after this codec was written, and checks that each
// survives a round trip: a field the codec ignores fails here.
func TestCodecCarriesEveryField(t *testing.T) {
	var e cache.Entry
	fill(t, reflect.ValueOf(&e).Elem(), "Entry")
	got, err := store.Decode(store.Encode(nil, &e))
	if err != nil {
		t.Fatalf("Decode(Encode(e)) error %v", err)
	}
	ev, gv := reflect.ValueOf(e), reflect.ValueOf(*got)
	for i := range ev.NumField() {
		f := ev.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if !reflect.DeepEqual(gv.Field(i).Interface(), ev.Field(i).Interface()) {
			t.Errorf("Decode(Encode(e)).%s = %#v; want %#v (the codec does not carry it: add it, and bump codecVersion)",
				f.Name, gv.Field(i).Interface(), ev.Field(i).Interface())
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    cache.Entry
	}{
		{"zero", cache.Entry{}},
		{"no header", cache.Entry{Status: 204, Stored: time.Unix(1, 2).UTC(), Expires: time.Unix(3, 4).UTC()}},
		{"full", cache.Entry{
			Status:  200,
			Header:  http.Header{"Content-Type": {"text/plain"}, "Set-Cookie": {"a=1", "b=2"}, "X-Empty": {}, "X-Blank": {""}},
			Body:    []byte("hello, world"),
			Stored:  time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
			Expires: time.Date(2026, 1, 2, 3, 5, 5, 6, time.UTC),
		}},
		{"before 1970", cache.Entry{Status: 200, Stored: time.Date(1960, 1, 1, 0, 0, 0, 999, time.UTC)}},
		{"big body", cache.Entry{Status: 200, Body: bytes.Repeat([]byte("x"), 1<<20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := store.Encode(nil, &tt.e)
			if n := store.EncodedLen(&tt.e); n != len(b) {
				t.Errorf("EncodedLen = %d; want len(Encode) = %d", n, len(b))
			}
			got, err := store.Decode(b)
			if err != nil {
				t.Fatalf("Decode error %v", err)
			}
			fromString, err := store.DecodeString(string(b))
			if err != nil || !reflect.DeepEqual(fromString, got) {
				t.Errorf("DecodeString = %+v, %v; want %+v as Decode", fromString, err, got)
			}
			want := tt.e
			if len(want.Body) == 0 {
				want.Body = nil
			}
			for k, v := range want.Header {
				if len(v) == 0 {
					want.Header[k] = []string{}
				}
			}
			if got.Status != want.Status || !got.Stored.Equal(want.Stored) || !got.Expires.Equal(want.Expires) ||
				!bytes.Equal(got.Body, want.Body) || !reflect.DeepEqual(got.Header, want.Header) ||
				got.Stored.IsZero() != want.Stored.IsZero() {
				t.Errorf("Decode(Encode(e)) = %+v; want %+v", got, want)
			}
		})
	}
}

// TestCodecVariantIndex checks that a variant index (Status 0, no header,
// no VaryValues) survives a round trip whole: every field equal, the
// header nil, whether it was nil or empty.
func TestCodecVariantIndex(t *testing.T) {
	t.Parallel()
	for _, h := range []http.Header{nil, {}} {
		e := variantIndex(time.Hour)
		e.Header = h
		want := *e
		want.Header = nil
		b := store.Encode(nil, e)
		got, err := store.Decode(b)
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("Decode(Encode(variant index, header %#v)) = %+v, %v; want %+v, nil", h, got, err, want)
		}
		got, err = store.DecodeString(string(b))
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("DecodeString(Encode(variant index, header %#v)) = %+v, %v; want %+v, nil", h, got, err, want)
		}
	}
}

// TestDecodeMalformed checks that every truncation of a valid encoding,
// another version, and trailing bytes are errors, never panics.
func TestDecodeMalformed(t *testing.T) {
	t.Parallel()
	e := &cache.Entry{Status: 200, Header: http.Header{"A": {"b", "c"}}, Body: []byte("body"), Expires: time.Unix(100, 0)}
	b := store.Encode(nil, e)
	for i := range len(b) {
		if _, err := store.Decode(b[:i]); !errors.Is(err, store.ErrCodec) {
			t.Errorf("Decode(first %d of %d bytes) error = %v; want ErrCodec", i, len(b), err)
		}
		if _, err := store.DecodeString(string(b[:i])); !errors.Is(err, store.ErrCodec) {
			t.Errorf("DecodeString(first %d of %d bytes) error = %v; want ErrCodec", i, len(b), err)
		}
	}
	if _, err := store.Decode(append(bytes.Clone(b), 0)); !errors.Is(err, store.ErrCodec) {
		t.Errorf("Decode(with a trailing byte) error = %v; want ErrCodec", err)
	}
	other := bytes.Clone(b)
	other[0]++
	if _, err := store.Decode(other); !errors.Is(err, store.ErrCodec) {
		t.Errorf("Decode(another version) error = %v; want ErrCodec", err)
	}
	// Counts far above what the bytes could hold: of Vary names, and of
	// header fields (version, status, four times, age, lifetime, then the
	// lists).
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x0f}
	prefix := []byte{b[0], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, err := store.Decode(append(bytes.Clone(prefix), huge...)); !errors.Is(err, store.ErrCodec) {
		t.Errorf("Decode(huge Vary count) error = %v; want ErrCodec", err)
	}
	if _, err := store.Decode(append(append(bytes.Clone(prefix), 0, 0), huge...)); !errors.Is(err, store.ErrCodec) {
		t.Errorf("Decode(huge header count) error = %v; want ErrCodec", err)
	}
	// One header field, named "", with a huge count of values.
	if _, err := store.Decode(append(append(bytes.Clone(prefix), 0, 0, 1, 0), huge...)); !errors.Is(err, store.ErrCodec) {
		t.Errorf("Decode(huge value count) error = %v; want ErrCodec", err)
	}
	// A time whose nanoseconds are 1e9, which Encode never writes.
	// The same bytes with 999999999 ns decode, so the layout is right.
	rest := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // three times, age, lifetime, lists, header, body
	for _, tc := range []struct {
		ns   uint64
		want error
	}{{1e9 - 1, nil}, {1e9, store.ErrCodec}} {
		in := append(binary.AppendUvarint([]byte{b[0], 0, 0}, tc.ns), rest...)
		if _, err := store.Decode(in); !errors.Is(err, tc.want) {
			t.Errorf("Decode(time with %d ns) error = %v; want %v", tc.ns, err, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(store.Encode(nil, &cache.Entry{Status: 200, Header: http.Header{"A": {"b"}}, Body: []byte("x")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := store.Decode(b)
		es, errs := store.DecodeString(string(b))
		if (err == nil) != (errs == nil) || err == nil && !reflect.DeepEqual(e, es) {
			t.Fatalf("Decode = %+v, %v; DecodeString = %+v, %v; want the same", e, err, es, errs)
		}
		if err != nil {
			return
		}
		// What decodes re-encodes to something that decodes the same.
		e2, err := store.Decode(store.Encode(nil, e))
		if err != nil || e2.Status != e.Status || !bytes.Equal(e2.Body, e.Body) || len(e2.Header) != len(e.Header) {
			t.Fatalf("re-decode = %+v, %v; want %+v", e2, err, e)
		}
	})
}

func benchEntry() *cache.Entry {
	return &cache.Entry{
		Status: 200,
		Header: http.Header{
			"Content-Type":   {"application/json"},
			"Cache-Control":  {"public, max-age=60"},
			"Etag":           {`"abc123"`},
			"Date":           {"Mon, 23 Nov 2026 15:04:05 GMT"},
			"Content-Length": {"1024"},
			"Cache-Tag":      {"product-7,catalogue"},
		},
		Body:    []byte(strings.Repeat("x", 1024)),
		Stored:  time.Now(),
		Expires: time.Now().Add(time.Minute),
	}
}

// BenchmarkCodec measures encoding into a reused buffer and decoding an
// entry of six header fields and a 1 KiB body, beside encoding/gob.
func BenchmarkCodec(b *testing.B) {
	e := benchEntry()
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf = store.Encode(buf[:0], e)
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		buf := store.Encode(nil, e)
		for b.Loop() {
			if _, err := store.Decode(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GobEncode", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := gob.NewEncoder(&buf).Encode(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GobDecode", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		gob.NewEncoder(&buf).Encode(e)
		data := buf.Bytes()
		for b.Loop() {
			var got cache.Entry
			if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&got); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEncodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under the race detector")
	}
	e := benchEntry()
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = store.Encode(buf[:0], e) }); n != 0 {
		t.Errorf("Encode into a buffer large enough: %v allocations; want 0", n)
	}
}
