package cache

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
)

// A response with Vary is stored as one variant among others (RFC 9111
// 4.1). Its primary key holds a variant index: an entry with Status 0
// whose Vary names the fields the variants differ by and whose Body is a
// nonce. Each variant is stored under the primary key, a NUL, the nonce,
// a NUL and its [SecondaryKey]. A lookup reads the index, then the variant
// that matches the request. Purging the primary key removes the index, so
// every variant becomes unreachable at once; a new index gets a new nonce,
// so that they never become reachable again.

// isIndex reports whether e is a variant index rather than a response.
func isIndex(e *Entry) bool { return e.Status == 0 }

// appendVariantKey appends to dst, which holds a primary key, the rest of
// the key of r's variant under index.
func appendVariantKey(dst []byte, index *Entry, r *http.Request) []byte {
	dst = append(dst, 0)
	dst = append(dst, index.Body...)
	dst = append(dst, 0)
	return appendSecondaryKey(dst, index.Vary, r)
}

// put stores e, the response to r, under primary: directly when it does
// not vary, as a variant when it does. A response with Vary: * is not
// stored, since it answers no request, and removes what primary held.
func (h *Handler) put(ctx context.Context, primary string, r *http.Request, e *Entry) {
	if len(e.Vary) == 0 {
		h.store.Set(ctx, primary, e)
		return
	}
	if e.Vary[0] == "*" {
		h.purge(ctx, primary)
		return
	}
	// A store that fails this Get (Redis unreachable for a moment) makes
	// a new index, and the variants stored under the old one become
	// unreachable: hits are lost, never answers confused.
	old, ok := h.store.Get(ctx, primary)
	var index *Entry
	if ok && old != nil && isIndex(old) && slices.Equal(old.Vary, e.Vary) && !e.Expires.After(old.Expires) {
		index = old // it outlives e: leave it
	} else {
		index = &Entry{Vary: e.Vary, Stored: e.Stored, Date: e.Date, RequestTime: e.RequestTime, Expires: e.Expires, Lifetime: e.Lifetime}
		if ok && old != nil && isIndex(old) && slices.Equal(old.Vary, e.Vary) {
			index.Body = old.Body // the same variants, kept longer
		} else {
			index.Body = strconv.AppendUint(nil, rand.Uint64(), 36)
		}
		h.store.Set(ctx, primary, index)
	}
	key := appendVariantKey([]byte(primary), index, r)
	h.store.Set(ctx, string(key), e)
}
