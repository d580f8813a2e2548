package auth

import "strings"

// ClaimStrings reads a claim that lists strings, as token formats write
// scopes and roles: a space-separated string ("read write"), or an array
// of strings as encoding/json decodes it ([]any). Members of an array that
// are not strings, and empty ones, are left out; any other value gives
// nil.
func ClaimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
