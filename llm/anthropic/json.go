package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/internal/jsonw"
)

// appendString appends s as a JSON string ([jsonw.AppendString]).
func appendString(b []byte, s string) []byte { return jsonw.AppendString(b, s) }

// appendKey appends "key": after a comma when b does not end an opening
// brace or bracket.
func appendKey(b []byte, key string) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendStringField(b []byte, key, v string) []byte {
	return appendString(appendKey(b, key), v)
}

func appendIntField(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(appendKey(b, key), v, 10)
}

func appendFloatField(b []byte, key string, v float64) []byte {
	return strconv.AppendFloat(appendKey(b, key), v, 'g', -1, 64)
}

func appendBoolField(b []byte, key string, v bool) []byte {
	return strconv.AppendBool(appendKey(b, key), v)
}

// appendRawField appends key and a JSON value as it is, compacted when it
// holds insignificant space.
func appendRawField(b []byte, key string, raw json.RawMessage) []byte {
	return appendRaw(appendKey(b, key), raw)
}

func appendRaw(b []byte, raw []byte) []byte {
	var c bytes.Buffer
	if json.Compact(&c, raw) == nil {
		return append(b, c.Bytes()...)
	}
	return append(b, raw...)
}

// comma appends a comma unless b ends an opening brace or bracket.
func comma(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	return b
}

// invalid returns the error of a request the codec cannot read.
func invalid(param, format string, args ...any) *llm.Error {
	return &llm.Error{Kind: llm.ErrInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

// isNull reports whether raw is absent or the JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}
