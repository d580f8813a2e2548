package store

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// maxAdminBody bounds the request body [AdminHandler] reads.
const maxAdminBody = 64 << 10

// purgeRequest is the JSON body of a purge: exactly one field set.
type purgeRequest struct {
	Key    *string `json:"key"`
	Prefix *string `json:"prefix"`
	Tag    *string `json:"tag"`
}

// AdminConfig configures an [AdminHandler]. Its zero value works.
type AdminConfig struct {
	// OnError, if set, is called with each error of the Purger, which the
	// 503 answer leaves out (it may name internal addresses). Nil means
	// errors are not reported. It is called on the request's goroutine.
	OnError func(error)
}

// AdminHandler returns a handler that purges p's entries. It serves one
// request, POST /purge, whose JSON body names exactly one of a key, a
// prefix or a tag:
//
//	{"key": "GET https://example.com/a"}  {"prefix": "GET https://example.com/"}  {"tag": "product-7"}
//
// and answers 200 with {"purged": n}, the entries removed. A malformed
// body, unknown fields, none or several of the three, or an empty value
// is answered 400 with {"error": "..."}; an error of p (Redis unreachable)
// 503 with the fixed {"error": "purge failed", "purged": n}, the error
// itself going to c.OnError; another method 405; another path 404.
//
// The handler checks no credentials: anyone who reaches it can empty the
// cache and so send every request to the origins. Mount it only behind
// your own authentication and authorization, on an admin listener or
// route, never on the public one. Mount it with [http.StripPrefix] when
// its path is under a prefix.
func AdminHandler(p Purger, c AdminConfig) http.Handler {
	onError := c.OnError
	mux := http.NewServeMux()
	mux.HandleFunc("/purge", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed; use POST"})
			return
		}
		var req purgeRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON body: " + err.Error()})
			return
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON body: data after the object"})
			return
		}
		set := 0
		for _, f := range []*string{req.Key, req.Prefix, req.Tag} {
			if f != nil {
				set++
				if *f == "" {
					writeJSON(w, http.StatusBadRequest, map[string]string{"error": "empty key, prefix or tag"})
					return
				}
			}
		}
		if set != 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want exactly one of "key", "prefix" or "tag"`})
			return
		}
		var n int
		var err error
		switch {
		case req.Key != nil:
			n, err = p.Purge(r.Context(), *req.Key)
		case req.Prefix != nil:
			n, err = p.PurgePrefix(r.Context(), *req.Prefix)
		default:
			n, err = p.PurgeTag(r.Context(), *req.Tag)
		}
		if err != nil {
			if onError != nil {
				onError(err)
			}
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "purge failed", "purged": n})
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"purged": n})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found; POST /purge"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	b, _ := json.Marshal(v)
	w.Write(append(b, '\n'))
}
