package gemini_test

// Failing tests from the review of llm/gemini (branch review-gemini). Each
// names the problem it shows; they pass once it is fixed.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/gemini"
	"github.com/vivremotion/gateway/llm/sse"
)

// The Gemini API reads proto field names as well as their lowerCamelCase
// JSON names, and Google's own curl examples use system_instruction,
// inline_data and mime_type. Such a request must mean the same thing.
func TestReviewSnakeCaseRequest(t *testing.T) {
	body := `{
	  "system_instruction": {"parts": [{"text": "You are a cat."}]},
	  "contents": [{"parts": [
	    {"inline_data": {"mime_type": "image/jpeg", "data": "/9j/4AAQ"}},
	    {"text": "Caption this image."}
	  ]}],
	  "generation_config": {"max_output_tokens": 50}
	}`
	req, err := gemini.DecodeRequestFor("gemini-2.5-flash", []byte(body))
	if err != nil {
		t.Fatalf("DecodeRequest(snake_case body) = %v; want it read like its camelCase twin", err)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != llm.RoleSystem || req.Messages[0].Text() != "You are a cat." {
		t.Errorf("Messages = %+v; want the system_instruction as a leading system message", req.Messages)
	}
	if len(req.Messages) == 2 && (len(req.Messages[1].Parts) != 2 || req.Messages[1].Parts[0].Type != llm.PartImage) {
		t.Errorf("user parts = %+v; want the inline_data image then the text", req.Messages[1].Parts)
	}
	if req.MaxTokens != 50 {
		t.Errorf("MaxTokens = %d; want 50 from generation_config.max_output_tokens", req.MaxTokens)
	}
}

// A function call's args are the model's output: a key named
// usageMetadata inside them must not be read as the response's usage
// (a prompt can make the model write it, and the gateway bills by it).
func TestReviewResponseUsageForgedByArgs(t *testing.T) {
	body := `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"log","args":{"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1}}}}]},"finishReason":"STOP","index":0}],` +
		`"usageMetadata":{"promptTokenCount":9000,"candidatesTokenCount":500,"totalTokenCount":9500}}`
	u, ok := gemini.ResponseUsage([]byte(body))
	if !ok || u.InputTokens != 9000 || u.OutputTokens != 500 {
		t.Errorf("ResponseUsage = %+v, %v; want 9000 in, 500 out (the top-level usageMetadata)", u, ok)
	}
	var s gemini.UsageScanner
	s.Scan(sse.Event{Data: []byte(body)})
	if u, ok := s.Usage(); !ok || u.InputTokens != 9000 {
		t.Errorf("UsageScanner.Usage = %+v, %v; want 9000 in", u, ok)
	}
}

// A string value "usageMetadata" before the real key (a text delta that
// is that word, an argument value) must not hide the usage.
func TestReviewResponseUsageAfterStringValue(t *testing.T) {
	body := `{"candidates":[{"content":{"role":"model","parts":[{"text":"usageMetadata"}]},"finishReason":"STOP","index":0}],` +
		`"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":3,"totalTokenCount":15}}`
	u, ok := gemini.ResponseUsage([]byte(body))
	if !ok || u.InputTokens != 12 || u.OutputTokens != 3 {
		t.Errorf("ResponseUsage = %+v, %v; want 12 in, 3 out", u, ok)
	}
}

// OpenAI streams parallel tool calls interleaved by index; its decoder
// then emits part events that interleave (llm.Stream allows it). The
// Gemini encoder must write each call with its own arguments.
func TestReviewStreamEncoderInterleavedCalls(t *testing.T) {
	rec := httptest.NewRecorder()
	enc := gemini.NewStreamEncoder(sse.NewWriter(rec), &llm.Request{})
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "r1", Model: "gpt-x"},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0, ToolCall: &llm.ToolCall{ID: "call_a1", Name: "weather"}},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0, Arguments: `{"city":`},
		{Type: llm.EventPartEnd, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0},
		{Type: llm.EventPartStart, Index: 1, PartType: llm.PartToolCall, ToolIndex: 1, ToolCall: &llm.ToolCall{ID: "call_b2", Name: "time"}},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartToolCall, ToolIndex: 1, Arguments: `{"tz":"CET"}`},
		{Type: llm.EventPartEnd, Index: 1, PartType: llm.PartToolCall, ToolIndex: 1},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0, Arguments: `"Lyon"}`},
		{Type: llm.EventPartEnd, Index: 0, PartType: llm.PartToolCall, ToolIndex: 0},
		{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls},
	}
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatalf("Encode(%v part %d) = %v; want the interleaved calls written whole", ev.Type, ev.Index, err)
		}
	}
	if err := enc.Close(nil); err != nil {
		t.Fatal(err)
	}
	out := rec.Body.String()
	for _, want := range []string{`"name":"weather","args":{"city":"Lyon"}`, `"name":"time","args":{"tz":"CET"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("stream lacks %s:\n%s", want, out)
		}
	}
}

// Go's client copies every header but Authorization and cookies on a
// redirect to another host: x-goog-api-key must not follow one.
func TestReviewRedirectDoesNotLeakKey(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := r.Header.Get("x-goog-api-key"); k != "" {
			t.Errorf("redirect target got x-goog-api-key %q", k)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}]}`)
	}))
	defer other.Close()
	// 127.0.0.1 and localhost are different hosts to the client.
	target := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer first.Close()
	p, err := gemini.New(gemini.Config{APIKey: "secret-key", BaseURL: first.URL + "/v1beta"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.Chat(context.Background(), &llm.Request{Model: "gemini-2.5-flash",
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}})
}

// batchEmbedContents takes at most 100 requests ("at most 100 requests can
// be in one batch"); OpenAI clients send up to 2048 inputs.
func TestReviewEmbedOver100Inputs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Requests []json.RawMessage `json:"requests"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		if len(in.Requests) > 100 {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"code":400,"message":"* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch","status":"INVALID_ARGUMENT"}}`)
			return
		}
		var b strings.Builder
		b.WriteString(`{"embeddings":[`)
		for i := range in.Requests {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"values":[0.5]}`)
		}
		b.WriteString(`]}`)
		io.WriteString(w, b.String())
	}))
	defer srv.Close()
	p, err := gemini.New(gemini.Config{APIKey: "k", BaseURL: srv.URL + "/v1beta"})
	if err != nil {
		t.Fatal(err)
	}
	input := make([]string, 150)
	for i := range input {
		input[i] = fmt.Sprint("text ", i)
	}
	res, err := p.Embed(context.Background(), &llm.EmbeddingRequest{Model: "gemini-embedding-001", Input: input})
	if err != nil {
		t.Fatalf("Embed(150 inputs) = %v; want batches of at most 100", err)
	}
	if len(res.Embeddings) != 150 {
		t.Errorf("Embed gave %d vectors; want 150", len(res.Embeddings))
	}
}

// An Anthropic overload (529) answered to a Gemini client must use a status
// Gemini clients know: 503 UNAVAILABLE (llm.ErrOverloaded: "503
// elsewhere").
func TestReviewEncodeErrorOverloaded(t *testing.T) {
	status, body := gemini.EncodeError(&llm.Error{Kind: llm.ErrOverloaded, Status: 529, Message: "Overloaded"})
	if status != 503 || !strings.Contains(string(body), `"code":503`) {
		t.Errorf("EncodeError(overloaded, 529) = %d %s; want 503", status, body)
	}
}

// Gemini 3 rejects a model turn whose first functionCall has no
// thoughtSignature (400 "Function call is missing a thought_signature").
// A conversation from a client of another format never has one; Google
// documents a placeholder signature for such history.
func TestReviewForeignToolCallGetsPlaceholderSignature(t *testing.T) {
	req := &llm.Request{Model: "gemini-3-pro-preview", ExtraFormat: llm.FormatOpenAI, Messages: []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Weather in Lyon?"}}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_Xy7", Name: "weather", Arguments: `{"city":"Lyon"}`}}}},
		{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_Xy7", Parts: []llm.Part{{Type: llm.PartText, Text: "12C"}}}}}},
	}}
	body, _, err := gemini.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Contents []struct {
			Parts []map[string]json.RawMessage `json:"parts"`
		} `json:"contents"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.Contents) != 3 {
		t.Fatalf("body %s: %v", body, err)
	}
	if _, ok := out.Contents[1].Parts[0]["thoughtSignature"]; !ok {
		t.Errorf("functionCall part %s has no thoughtSignature; Gemini 3 answers 400", body)
	}
}

// With candidateCount > 1 a stream's chunks carry candidates by index; the
// decoder reads only candidate 0 and must not mix another one's text in.
func TestReviewStreamOtherCandidateNotMixed(t *testing.T) {
	stream := "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"A\"}]},\"index\":0}]}\r\n\r\n" +
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"B\"}]},\"index\":1}]}\r\n\r\n" +
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2,\"totalTokenCount\":5}}\r\n\r\n"
	s := gemini.NewStreamDecoder(strings.NewReader(stream))
	var acc llm.Accumulator
	for {
		ev, err := s.Next()
		if err != nil {
			break
		}
		acc.Add(ev)
	}
	res, _ := acc.Response()
	if got := res.Message.Text(); got != "A" {
		t.Errorf("text = %q; want %q (candidate 1's text is not candidate 0's)", got, "A")
	}
}

// A chunk of many empty text parts carries nothing, yet each becomes an
// event of some 200 bytes: a 32 MiB chunk of them costs gigabytes.
func TestReviewStreamEmptyPartsAmplification(t *testing.T) {
	var b strings.Builder
	b.WriteString(`data: {"candidates":[{"content":{"role":"model","parts":[`)
	for i := 0; i < 10000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"text":""}`)
	}
	b.WriteString("]},\"finishReason\":\"STOP\",\"index\":0}]}\n\n")
	s := gemini.NewStreamDecoder(strings.NewReader(b.String()))
	n := 0
	for {
		if _, err := s.Next(); err != nil {
			break
		}
		n++
	}
	if n > 10 {
		t.Errorf("a chunk of 10000 empty text parts gave %d events; want a handful (empty deltas carry nothing)", n)
	}
}

// Fields of a part or a functionResponse the codec does not read
// (videoMetadata, functionResponse.parts of Gemini 3 multimodal results)
// vanish: not written back for gemini, and no Loss says so.
func TestReviewUnreadPartFieldsDroppedSilently(t *testing.T) {
	body := `{"contents":[
	  {"role":"user","parts":[{"fileData":{"mimeType":"video/mp4","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/abc"},"videoMetadata":{"startOffset":"10s","endOffset":"20s"}},{"text":"Summarize"}]},
	  {"role":"model","parts":[{"functionCall":{"id":"c1","name":"snap","args":{}}}]},
	  {"role":"user","parts":[{"functionResponse":{"id":"c1","name":"snap","response":{"ok":true},"parts":[{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]}}]}
	]}`
	req, err := gemini.DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Model = "gemini-2.5-flash"
	out, losses, err := gemini.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"videoMetadata", `"parts":[{"inlineData"`} {
		if !strings.Contains(string(out), f) && len(losses) == 0 {
			t.Errorf("%s neither written back nor reported as a loss:\n%s", f, out)
		}
	}
}
