package openai

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"

	"github.com/vivremotion/gateway/llm"
)

// The encoding formats of embeddings.
const (
	// EncodingFloat: each vector a JSON array of numbers.
	EncodingFloat = "float"
	// EncodingBase64: each vector the base64 of its float32 values,
	// little-endian; what the official SDKs ask for by default.
	EncodingBase64 = "base64"
)

// DecodeEmbeddingRequest decodes an embeddings request body. Input may be
// a string or an array of strings; arrays of token ids are refused with
// ErrInvalidRequest (the model holds texts). encodingFormat is the
// encoding_format asked for, [EncodingFloat] when none was given; the
// answer must be written in it (see [EncodeEmbeddingResponse]). Other
// fields are ignored.
func DecodeEmbeddingRequest(body []byte) (req *llm.EmbeddingRequest, encodingFormat string, err error) {
	var w struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat *string         `json:"encoding_format"`
		Dimensions     *int            `json:"dimensions"`
		User           *string         `json:"user"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			return nil, "", invalid(te.Field, "%s: wrong type: %s", te.Field, te.Value)
		}
		return nil, "", invalid("", "the request body is not a JSON object")
	}
	if w.Model == "" {
		return nil, "", invalid("model", "model is required")
	}
	req = &llm.EmbeddingRequest{Model: w.Model}
	in := bytes.TrimSpace(w.Input)
	switch {
	case len(in) == 0 || string(in) == "null":
		return nil, "", invalid("input", "input is required")
	case in[0] == '"':
		var s string
		if json.Unmarshal(in, &s) != nil {
			return nil, "", invalid("input", "input is not a valid string")
		}
		req.Input = []string{s}
	case in[0] == '[':
		if json.Unmarshal(in, &req.Input) != nil {
			return nil, "", invalid("input", "input must be a string or an array of strings; token arrays are not supported")
		}
		if len(req.Input) == 0 {
			return nil, "", invalid("input", "input must not be empty")
		}
	default:
		return nil, "", invalid("input", "input must be a string or an array of strings")
	}
	if w.Dimensions != nil {
		if *w.Dimensions < 1 {
			return nil, "", invalid("dimensions", "dimensions must be at least 1")
		}
		req.Dimensions = *w.Dimensions
	}
	if w.User != nil {
		req.User = *w.User
	}
	encodingFormat = EncodingFloat
	if w.EncodingFormat != nil {
		switch *w.EncodingFormat {
		case EncodingFloat, EncodingBase64:
			encodingFormat = *w.EncodingFormat
		default:
			return nil, "", invalid("encoding_format", "encoding_format %q is not float or base64", *w.EncodingFormat)
		}
	}
	return req, encodingFormat, nil
}

// EncodeEmbeddingRequest writes req as an embeddings request asking for
// vectors in encodingFormat ("" leaves the server's default, float).
func EncodeEmbeddingRequest(req *llm.EmbeddingRequest, encodingFormat string) ([]byte, error) {
	if len(req.Input) == 0 {
		return nil, invalid("input", "input must not be empty")
	}
	w := struct {
		Model          string   `json:"model"`
		Input          []string `json:"input"`
		EncodingFormat string   `json:"encoding_format,omitempty"`
		Dimensions     int      `json:"dimensions,omitempty"`
		User           string   `json:"user,omitempty"`
	}{req.Model, req.Input, encodingFormat, req.Dimensions, req.User}
	return json.Marshal(&w)
}

// EncodeEmbeddingResponse writes res as an embeddings response, each
// vector as a JSON array of numbers, or as the base64 of its
// little-endian float32 values when encodingFormat is [EncodingBase64].
func EncodeEmbeddingResponse(res *llm.EmbeddingResponse, encodingFormat string) ([]byte, error) {
	size := 128
	for _, v := range res.Embeddings {
		size += 64 + len(v)*12
	}
	b := make([]byte, 0, size)
	b = append(b, `{"object":"list","data":[`...)
	var raw []byte
	for i, v := range res.Embeddings {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"embedding":`...)
		if encodingFormat == EncodingBase64 {
			raw = raw[:0]
			for _, f := range v {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, raw)
			b = append(b, '"')
		} else {
			b = append(b, '[')
			for j, f := range v {
				if j > 0 {
					b = append(b, ',')
				}
				if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
					return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: an embedding holds NaN or Inf"}
				}
				b = strconv.AppendFloat(b, float64(f), 'g', -1, 32)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = appendString(b, res.Model)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, res.Usage.InputTokens, 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, res.Usage.Total(), 10)
	return append(b, "}}"...), nil
}

// DecodeEmbeddingResponse decodes an embeddings response, its vectors as
// arrays of numbers or base64 strings, put in the order of their index.
// Usage.Source is [llm.UsageReported].
func DecodeEmbeddingResponse(body []byte) (*llm.EmbeddingResponse, error) {
	var w struct {
		Data []struct {
			Index     int             `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
		Model string     `json:"model"`
		Usage *wireUsage `json:"usage"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: malformed embeddings response: " + jsonReason(err)}
	}
	res := &llm.EmbeddingResponse{Model: w.Model, Embeddings: make([][]float32, len(w.Data))}
	if w.Usage != nil {
		res.Usage = w.Usage.model()
	}
	for _, d := range w.Data {
		if d.Index < 0 || d.Index >= len(w.Data) || res.Embeddings[d.Index] != nil {
			return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: embeddings response with a bad index " + strconv.Itoa(d.Index)}
		}
		v, err := decodeVector(d.Embedding)
		if err != nil {
			return nil, err
		}
		res.Embeddings[d.Index] = v
	}
	return res, nil
}

func decodeVector(raw json.RawMessage) ([]float32, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: malformed base64 embedding"}
		}
		data, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(data)%4 != 0 {
			return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: malformed base64 embedding"}
		}
		v := make([]float32, len(data)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		return v, nil
	}
	var v []float32
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, &llm.Error{Kind: llm.ErrServer, Message: "openai: malformed embedding: " + jsonReason(err)}
	}
	if v == nil {
		v = []float32{}
	}
	return v, nil
}
