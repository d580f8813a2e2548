package store

import (
	"context"
	"net/http"
	"strings"
)

// Purger removes stored entries. [Memory] and [Redis] are Purgers, and
// [AdminHandler] serves one over HTTP.
//
// Purge removes the entry under key. PurgePrefix removes every entry whose
// key starts with prefix. PurgeTag removes every entry stored with tag
// (see TagHeader in [MemoryConfig] and [RedisConfig]). Each returns how
// many entries it removed.
type Purger interface {
	Purge(ctx context.Context, key string) (n int, err error)
	PurgePrefix(ctx context.Context, prefix string) (n int, err error)
	PurgeTag(ctx context.Context, tag string) (n int, err error)
}

// DefaultTagHeader is the response header that lists an entry's tags when
// a config leaves TagHeader empty.
const DefaultTagHeader = "Cache-Tag"

// tagHeader returns the canonical form of the configured tag header name:
// "" becomes [DefaultTagHeader], "-" turns tags off (returns "").
func tagHeader(name string) string {
	switch name {
	case "":
		return DefaultTagHeader
	case "-":
		return ""
	}
	return http.CanonicalHeaderKey(name)
}

// maxTags bounds the tags read from one response, so that an origin
// cannot make one Set cost without bound.
const maxTags = 64

// tags returns the tags listed by the header name of h: every value,
// split at commas and white space, empty tags dropped, at most maxTags.
// It returns nil, without allocating, when there are none.
func tags(h http.Header, name string) []string {
	if name == "" {
		return nil
	}
	vs := h[name]
	if len(vs) == 0 {
		return nil
	}
	var out []string
	for _, v := range vs {
		for _, t := range strings.FieldsFunc(v, isTagSep) {
			if len(out) == maxTags {
				return out
			}
			if !contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

func isTagSep(r rune) bool { return r == ',' || r == ' ' || r == '\t' }

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
