package openai_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/openai"
)

func TestDecodeEmbeddingRequest(t *testing.T) {
	tests := []struct {
		body   string
		want   *llm.EmbeddingRequest
		format string
		param  string
	}{
		{`{"model":"text-embedding-3-small","input":"hello"}`, &llm.EmbeddingRequest{Model: "text-embedding-3-small", Input: []string{"hello"}}, "float", ""},
		{`{"model":"m","input":["a","b"],"encoding_format":"base64","dimensions":256,"user":"u"}`, &llm.EmbeddingRequest{Model: "m", Input: []string{"a", "b"}, Dimensions: 256, User: "u"}, "base64", ""},
		{`{"model":"m","input":["a"],"encoding_format":"float"}`, &llm.EmbeddingRequest{Model: "m", Input: []string{"a"}}, "float", ""},
		{`{"model":"m","input":[1,2,3]}`, nil, "", "input"},
		{`{"model":"m","input":[[1,2],[3]]}`, nil, "", "input"},
		{`{"model":"m","input":[]}`, nil, "", "input"},
		{`{"model":"m"}`, nil, "", "input"},
		{`{"model":"m","input":7}`, nil, "", "input"},
		{`{"input":"x"}`, nil, "", "model"},
		{`{"model":"m","input":"x","encoding_format":"int8"}`, nil, "", "encoding_format"},
		{`{"model":"m","input":"x","dimensions":0}`, nil, "", "dimensions"},
		{`{"model":"m","input":"x","dimensions":"9"}`, nil, "", "dimensions"},
		{`nope`, nil, "", ""},
	}
	for _, tt := range tests {
		req, format, err := openai.DecodeEmbeddingRequest([]byte(tt.body))
		if tt.want == nil {
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.ErrInvalidRequest || e.Param != tt.param {
				t.Errorf("DecodeEmbeddingRequest(%s) = %v; want ErrInvalidRequest on %q", tt.body, err, tt.param)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(req, tt.want) || format != tt.format {
			t.Errorf("DecodeEmbeddingRequest(%s) = %+v, %q, %v; want %+v, %q", tt.body, req, format, err, tt.want, tt.format)
		}
	}
}

func TestEmbeddingResponse(t *testing.T) {
	res := &llm.EmbeddingResponse{Model: "text-embedding-3-small", Embeddings: [][]float32{{0.1, -2.5, 1e-7}, {3}}, Usage: llm.Usage{InputTokens: 8}}
	t.Run("float", func(t *testing.T) {
		body, err := openai.EncodeEmbeddingResponse(res, "float")
		if err != nil {
			t.Fatal(err)
		}
		want := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-2.5,1e-7]},{"object":"embedding","index":1,"embedding":[3]}],
			"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`
		sameJSON(t, body, []byte(want))
		back, err := openai.DecodeEmbeddingResponse(body)
		if err != nil || !reflect.DeepEqual(back.Embeddings, res.Embeddings) || back.Usage.InputTokens != 8 {
			t.Errorf("DecodeEmbeddingResponse = %+v, %v", back, err)
		}
	})
	t.Run("base64", func(t *testing.T) {
		body, err := openai.EncodeEmbeddingResponse(res, "base64")
		if err != nil {
			t.Fatal(err)
		}
		var w struct {
			Data []struct {
				Embedding string `json:"embedding"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(w.Data[0].Embedding)
		if len(raw) != 12 || math.Float32frombits(binary.LittleEndian.Uint32(raw[4:])) != -2.5 {
			t.Errorf("base64 vector = %x; want 3 little-endian float32", raw)
		}
		back, err := openai.DecodeEmbeddingResponse(body)
		if err != nil || !reflect.DeepEqual(back.Embeddings, res.Embeddings) {
			t.Errorf("DecodeEmbeddingResponse(base64) = %+v, %v", back, err)
		}
	})
	t.Run("out of order", func(t *testing.T) {
		back, err := openai.DecodeEmbeddingResponse([]byte(`{"data":[{"index":1,"embedding":[2]},{"index":0,"embedding":[1]}],"model":"m"}`))
		if err != nil || back.Embeddings[0][0] != 1 || back.Embeddings[1][0] != 2 {
			t.Errorf("DecodeEmbeddingResponse = %+v, %v; want by index", back, err)
		}
	})
	for _, bad := range []string{`{"data":[{"index":1,"embedding":[2]}]}`, `{"data":[{"index":0,"embedding":"@@"}]}`, `{"data":[{"index":0,"embedding":"AAA="}]}`, `{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}`, `x`} {
		if _, err := openai.DecodeEmbeddingResponse([]byte(bad)); err == nil {
			t.Errorf("DecodeEmbeddingResponse(%s) succeeded", bad)
		}
	}
	if _, err := openai.EncodeEmbeddingResponse(&llm.EmbeddingResponse{Embeddings: [][]float32{{float32(math.NaN())}}}, "float"); err == nil {
		t.Error("EncodeEmbeddingResponse(NaN) succeeded")
	}
	body, _ := openai.EncodeEmbeddingRequest(&llm.EmbeddingRequest{Model: "m", Input: []string{"a"}, User: "u"}, "")
	sameJSON(t, body, []byte(`{"model":"m","input":["a"],"user":"u"}`))
	if _, err := openai.EncodeEmbeddingRequest(&llm.EmbeddingRequest{Model: "m"}, ""); err == nil {
		t.Error("EncodeEmbeddingRequest without input succeeded")
	}
}
