package gemini

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vivremotion/gateway/llm"
)

func TestDecodeResponseGolden(t *testing.T) {
	res, err := DecodeResponse(readFixture(t, "response_tools.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Part{
		{Type: llm.PartReasoning, Text: "Checking both cities at once."},
		{Type: llm.PartText, Text: "Let me look that up."},
		{Type: llm.PartToolCall, Signature: "CiQBVKhc7sig1", ToolCall: &llm.ToolCall{ID: "call_0", Name: "get_weather", Arguments: `{"city":"Lyon"}`}},
		{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Nice"}`}},
	}
	noSuffixes(res.Message.Parts)
	if !reflect.DeepEqual(res.Message.Parts, want) || res.Message.Role != llm.RoleAssistant {
		got, _ := json.MarshalIndent(res.Message, "", " ")
		t.Errorf("Message =\n%s", got)
	}
	if res.ID != "mR3aaP2kL9uQ1dkPwe2x" || res.Model != "gemini-2.5-flash" {
		t.Errorf("ID, Model = %q, %q", res.ID, res.Model)
	}
	if res.FinishReason != llm.FinishToolCalls || res.RawFinishReason != "STOP" {
		t.Errorf("finish = %q (%q); want tool_calls (STOP)", res.FinishReason, res.RawFinishReason)
	}
	wantUsage := llm.Usage{InputTokens: 125, OutputTokens: 75, CacheReadTokens: 64, ReasoningTokens: 45, Source: llm.UsageReported}
	if res.Usage != wantUsage {
		t.Errorf("Usage = %+v; want %+v", res.Usage, wantUsage)
	}
	if got := sortedKeys(res.Extra); !slices.Equal(got, []string{"candidate", "promptFeedback"}) || res.ExtraFormat != llm.FormatGemini {
		t.Errorf("Extra keys = %v (%q); want [candidate promptFeedback] (gemini)", got, res.ExtraFormat)
	}
	if len(res.Losses) != 0 {
		t.Errorf("Losses = %v; want none", res.Losses)
	}
}

func TestResponseRoundTrip(t *testing.T) {
	for _, name := range []string{"response_tools.json", "response_blocked.json"} {
		t.Run(name, func(t *testing.T) {
			in := readFixture(t, name)
			res, err := DecodeResponse(in)
			if err != nil {
				t.Fatal(err)
			}
			out, losses, err := EncodeResponse(res)
			if err != nil {
				t.Fatal(err)
			}
			if len(losses) != 0 {
				t.Errorf("losses = %v; want none", losses)
			}
			// totalTokenCount and the details are not carried: compare the
			// rest, and the counts the model carries.
			var a, b map[string]any
			json.Unmarshal(out, &a)
			json.Unmarshal(in, &b)
			um := b["usageMetadata"].(map[string]any)
			delete(um, "promptTokensDetails")
			if tu, ok := um["toolUsePromptTokenCount"].(float64); ok { // folded into the prompt count
				um["promptTokenCount"] = um["promptTokenCount"].(float64) + tu
				delete(um, "toolUsePromptTokenCount")
			}
			au, _ := json.Marshal(a)
			bu, _ := json.Marshal(b)
			jsonEqual(t, "EncodeResponse(DecodeResponse(body))", au, bu)
		})
	}
}

func TestDecodeResponseBlocked(t *testing.T) {
	res, err := DecodeResponse(readFixture(t, "response_blocked.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != llm.FinishContentFilter || res.RawFinishReason != "SAFETY" || len(res.Message.Parts) != 0 {
		t.Errorf("blocked = %q (%q), %d parts; want content_filter (SAFETY), none", res.FinishReason, res.RawFinishReason, len(res.Message.Parts))
	}
	if res.Usage.InputTokens != 12 {
		t.Errorf("InputTokens = %d; want 12", res.Usage.InputTokens)
	}
}

func TestDecodeResponseLosses(t *testing.T) {
	body := `{"candidates":[
	  {"content":{"role":"model","parts":[{"text":"a"},{"executableCode":{"language":"PYTHON","code":"print(1)"}},{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"1"}}]},"finishReason":"STOP","index":0},
	  {"content":{"role":"model","parts":[{"text":"b"}]},"finishReason":"STOP","index":1}]}`
	res, err := DecodeResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"candidates[0].content.parts[1]", "candidates[0].content.parts[2]", "candidates[1]"}
	if got := lossFields(res.Losses); !slices.Equal(got, want) {
		t.Errorf("Losses = %v; want at %v", res.Losses, want)
	}
	if res.Message.Text() != "a" {
		t.Errorf("Text = %q; want a", res.Message.Text())
	}
}

func TestDecodeResponseMalformed(t *testing.T) {
	for _, body := range []string{`{"candidates":`, `{"candidates":[{"content":{"parts":"x"}}]}`, `[]`} {
		if _, err := DecodeResponse([]byte(body)); err == nil {
			t.Errorf("DecodeResponse(%s) = nil error; want one", body)
		}
	}
}

func TestDecodeResponseCreateTime(t *testing.T) {
	res, err := DecodeResponse([]byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"a"}]},"finishReason":"STOP"}],"createTime":"2026-01-02T03:04:05.5Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC); !res.Created.Equal(want) {
		t.Errorf("Created = %v; want %v", res.Created, want)
	}
}

// TestFinishReasons has a row per Gemini finishReason.
func TestFinishReasons(t *testing.T) {
	rows := []struct {
		raw   string
		calls bool
		want  llm.FinishReason
	}{
		{"STOP", false, llm.FinishStop},
		{"STOP", true, llm.FinishToolCalls},
		{"MAX_TOKENS", false, llm.FinishLength},
		{"MAX_TOKENS", true, llm.FinishLength},
		{"SAFETY", false, llm.FinishContentFilter},
		{"RECITATION", false, llm.FinishContentFilter},
		{"BLOCKLIST", false, llm.FinishContentFilter},
		{"PROHIBITED_CONTENT", false, llm.FinishContentFilter},
		{"SPII", false, llm.FinishContentFilter},
		{"IMAGE_SAFETY", false, llm.FinishContentFilter},
		{"IMAGE_PROHIBITED_CONTENT", false, llm.FinishContentFilter},
		{"IMAGE_RECITATION", false, llm.FinishContentFilter},
		{"MALFORMED_FUNCTION_CALL", false, llm.FinishError},
		{"UNEXPECTED_TOOL_CALL", false, llm.FinishError},
		{"TOO_MANY_TOOL_CALLS", false, llm.FinishError},
		{"OTHER", false, llm.FinishOther},
		{"FINISH_REASON_UNSPECIFIED", false, llm.FinishOther},
		{"LANGUAGE", false, llm.FinishOther},
		{"SOMETHING_NEW", false, llm.FinishOther},
	}
	for _, r := range rows {
		t.Run(r.raw, func(t *testing.T) {
			parts := `{"text":"x"}`
			if r.calls {
				parts = `{"functionCall":{"name":"f","args":{}}}`
			}
			res, err := DecodeResponse([]byte(`{"candidates":[{"content":{"role":"model","parts":[` + parts + `]},"finishReason":"` + r.raw + `"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			if res.FinishReason != r.want || res.RawFinishReason != r.raw {
				t.Errorf("finishReason %s = %q (%q); want %q", r.raw, res.FinishReason, res.RawFinishReason, r.want)
			}
			// Encoded back, the Gemini word is kept.
			out, _, err := EncodeResponse(res)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), `"finishReason":"`+r.raw+`"`) {
				t.Errorf("EncodeResponse = %s; want finishReason %s", out, r.raw)
			}
		})
	}
}

// TestEncodeFinishReasons has a row per model reason, from another format.
func TestEncodeFinishReasons(t *testing.T) {
	rows := []struct {
		reason llm.FinishReason
		raw    string
		want   string
		loss   bool
	}{
		{llm.FinishStop, "end_turn", "STOP", false},
		{llm.FinishToolCalls, "tool_use", "STOP", false},
		{llm.FinishLength, "max_tokens", "MAX_TOKENS", false},
		{llm.FinishContentFilter, "content_filter", "SAFETY", false},
		{llm.FinishRefusal, "refusal", "SAFETY", true},
		{llm.FinishPause, "pause_turn", "STOP", true},
		{llm.FinishError, "", "OTHER", true},
		{llm.FinishOther, "weird", "OTHER", false},
	}
	for _, r := range rows {
		t.Run(string(r.reason), func(t *testing.T) {
			res := &llm.Response{Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "x"}}}, FinishReason: r.reason, RawFinishReason: r.raw}
			out, losses, err := EncodeResponse(res)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), `"finishReason":"`+r.want+`"`) {
				t.Errorf("EncodeResponse(%s) = %s; want finishReason %s", r.reason, out, r.want)
			}
			if got := slices.Contains(lossFields(losses), "finish_reason"); got != r.loss {
				t.Errorf("EncodeResponse(%s) finish loss = %v; want %v", r.reason, got, r.loss)
			}
		})
	}
}

// TestUsageFields has a row per usageMetadata field.
func TestUsageFields(t *testing.T) {
	rows := []struct {
		field string
		want  llm.Usage
	}{
		{"promptTokenCount", llm.Usage{InputTokens: 7}},
		{"cachedContentTokenCount", llm.Usage{CacheReadTokens: 7}}, // already inside promptTokenCount
		{"candidatesTokenCount", llm.Usage{OutputTokens: 7}},
		{"thoughtsTokenCount", llm.Usage{OutputTokens: 7, ReasoningTokens: 7}},
		{"toolUsePromptTokenCount", llm.Usage{InputTokens: 7}},
		{"totalTokenCount", llm.Usage{}}, // derived: InputTokens + OutputTokens
	}
	for _, r := range rows {
		t.Run(r.field, func(t *testing.T) {
			body := `{"candidates":[{"content":{"role":"model","parts":[{"text":"x"}]},"finishReason":"STOP"}],"usageMetadata":{"` + r.field + `":7}}`
			res, err := DecodeResponse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if res.Usage != r.want {
				t.Errorf("DecodeResponse(%s: 7).Usage = %+v; want %+v", r.field, res.Usage, r.want)
			}
			u, ok := ResponseUsage([]byte(body))
			if !ok || u != r.want {
				t.Errorf("ResponseUsage(%s: 7) = %+v, %v; want %+v", r.field, u, ok, r.want)
			}
		})
	}
}

func TestEncodeResponseUsage(t *testing.T) {
	res := &llm.Response{Message: llm.Message{Role: llm.RoleAssistant}, FinishReason: llm.FinishStop,
		Usage: llm.Usage{InputTokens: 100, OutputTokens: 50, CacheReadTokens: 30, CacheWriteTokens: 10, ReasoningTokens: 20}}
	out, losses, err := EncodeResponse(res)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		UsageMetadata wireUsage `json:"usageMetadata"`
	}
	json.Unmarshal(out, &got)
	want := wireUsage{PromptTokenCount: 100, CandidatesTokenCount: 30, CachedContentTokenCount: 30, ThoughtsTokenCount: 20, TotalTokenCount: 150}
	if got.UsageMetadata != want {
		t.Errorf("usageMetadata = %+v; want %+v", got.UsageMetadata, want)
	}
	if !slices.Contains(lossFields(losses), "usage.cache_write_tokens") {
		t.Errorf("losses = %v; want usage.cache_write_tokens", losses)
	}
}

// TestEncodeResponseLosses: a response from another format.
func TestEncodeResponseLosses(t *testing.T) {
	res := &llm.Response{
		ID: "msg_1", Model: "claude-x", FinishReason: llm.FinishToolCalls, ExtraFormat: llm.FormatOpenAI,
		Extra: map[string]json.RawMessage{"system_fingerprint": json.RawMessage(`"fp"`)},
		Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartReasoning, Text: "think", Signature: "anthropic-sig"},
			{Type: llm.PartRedactedReasoning, Signature: "opaque"},
			{Type: llm.PartRefusal, Text: "no"},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_9", Name: "f", Arguments: `{"a":1}`}},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_0", Name: "g", Arguments: ``}},
		}},
	}
	out, losses, err := EncodeResponse(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"candidates":[{"content":{"role":"model","parts":[
	  {"text":"think","thought":true},
	  {"text":"no"},
	  {"functionCall":{"id":"toolu_9","name":"f","args":{"a":1}}},
	  {"functionCall":{"name":"g","args":{}}}]},"finishReason":"STOP","index":0}],
	  "usageMetadata":{"promptTokenCount":0,"totalTokenCount":0},"modelVersion":"claude-x","responseId":"msg_1"}`
	jsonEqual(t, "EncodeResponse", out, []byte(want))
	wantLoss := []string{"message.parts[0].signature", "message.parts[1]", "message.parts[2]", "system_fingerprint"}
	if got := lossFields(losses); !slices.Equal(got, wantLoss) {
		t.Errorf("losses = %v; want at %v", losses, wantLoss)
	}
	res.Message.Parts[3].ToolCall.Arguments = "{bad"
	if _, _, err := EncodeResponse(res); err == nil {
		t.Error("EncodeResponse(bad arguments) = nil error")
	}
}

func TestDecodeError(t *testing.T) {
	rows := []struct {
		name   string
		status int
		header http.Header
		body   string
		kind   llm.ErrorKind
		code   string
		retry  time.Duration
	}{
		{"quota with RetryInfo", 429, nil, string(readFixture(t, "error_429.json")), llm.ErrRateLimit, "RESOURCE_EXHAUSTED", 31 * time.Second},
		{"bad key", 400, nil, string(readFixture(t, "error_key.json")), llm.ErrAuthentication, "INVALID_ARGUMENT", 0},
		{"invalid argument", 400, nil, `{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}`, llm.ErrInvalidRequest, "INVALID_ARGUMENT", 0},
		{"failed precondition", 400, nil, `{"error":{"code":400,"message":"User location is not supported","status":"FAILED_PRECONDITION"}}`, llm.ErrInvalidRequest, "FAILED_PRECONDITION", 0},
		{"permission", 403, nil, `{"error":{"code":403,"message":"no","status":"PERMISSION_DENIED"}}`, llm.ErrPermission, "PERMISSION_DENIED", 0},
		{"unauthenticated", 401, nil, `{"error":{"code":401,"message":"no","status":"UNAUTHENTICATED"}}`, llm.ErrAuthentication, "UNAUTHENTICATED", 0},
		{"not found", 404, nil, `{"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}}`, llm.ErrNotFound, "NOT_FOUND", 0},
		{"internal", 500, nil, `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`, llm.ErrServer, "INTERNAL", 0},
		{"unavailable", 503, http.Header{"Retry-After": {"7"}}, `{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`, llm.ErrUnavailable, "UNAVAILABLE", 7 * time.Second},
		{"deadline", 504, nil, `{"error":{"code":504,"message":"slow","status":"DEADLINE_EXCEEDED"}}`, llm.ErrTimeout, "DEADLINE_EXCEEDED", 0},
		{"retry-after-ms", 429, http.Header{"Retry-After-Ms": {"1500"}}, `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`, llm.ErrRateLimit, "RESOURCE_EXHAUSTED", 1500 * time.Millisecond},
		{"body wins over header", 429, http.Header{"Retry-After": {"5"}}, `{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.5s"}]}}`, llm.ErrRateLimit, "RESOURCE_EXHAUSTED", 500 * time.Millisecond},
		{"not JSON", 502, nil, "<html>Bad Gateway</html>", llm.ErrServer, "", 0},
		{"unknown status word", 409, nil, `{"error":{"code":409,"message":"x","status":"ABORTED"}}`, llm.ErrInvalidRequest, "ABORTED", 0},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			h := r.header
			if h == nil {
				h = http.Header{}
			}
			e := DecodeError(r.status, h, []byte(r.body))
			if e.Kind != r.kind || e.Code != r.code || e.RetryAfter != r.retry || e.Status != r.status || e.Message == "" {
				t.Errorf("DecodeError = %+v; want kind %s code %q retry %v status %d", e, r.kind, r.code, r.retry, r.status)
			}
		})
	}
}

func TestEncodeError(t *testing.T) {
	rows := []struct {
		err    llm.Error
		status int
		word   string
	}{
		{llm.Error{Kind: llm.ErrRateLimit, Message: "slow down", RetryAfter: 30 * time.Second}, 429, "RESOURCE_EXHAUSTED"},
		{llm.Error{Kind: llm.ErrInvalidRequest, Message: "bad"}, 400, "INVALID_ARGUMENT"},
		{llm.Error{Kind: llm.ErrInvalidRequest, Message: "bad", Code: "FAILED_PRECONDITION"}, 400, "FAILED_PRECONDITION"},
		{llm.Error{Kind: llm.ErrAuthentication, Message: "who"}, 401, "UNAUTHENTICATED"},
		{llm.Error{Kind: llm.ErrPermission, Message: "no"}, 403, "PERMISSION_DENIED"},
		{llm.Error{Kind: llm.ErrNotFound, Message: "?"}, 404, "NOT_FOUND"},
		{llm.Error{Kind: llm.ErrOverloaded, Message: "busy"}, 503, "UNAVAILABLE"},
		{llm.Error{Kind: llm.ErrTimeout, Message: "late"}, 504, "DEADLINE_EXCEEDED"},
		{llm.Error{Kind: llm.ErrServer, Message: "oops", Code: "invalid_api_key"}, 500, "INTERNAL"},
	}
	for _, r := range rows {
		t.Run(string(r.err.Kind), func(t *testing.T) {
			status, body := EncodeError(&r.err)
			if status != r.status {
				t.Errorf("status = %d; want %d", status, r.status)
			}
			back := DecodeError(status, http.Header{}, body)
			if back.Code != r.word || back.Message != r.err.Message || back.RetryAfter != r.err.RetryAfter {
				t.Errorf("DecodeError(EncodeError(%+v)) = %+v; want status word %s", r.err, back, r.word)
			}
		})
	}
}

// An Anthropic overload (529) answered to a Gemini client must use a status
// Gemini clients know: 503 UNAVAILABLE (llm.ErrOverloaded: "503
// elsewhere").
func TestEncodeErrorGeminiStatus(t *testing.T) {
	status, body := EncodeError(&llm.Error{Kind: llm.ErrOverloaded, Status: 529, Message: "Overloaded"})
	if status != 503 || !strings.Contains(string(body), `"code":503`) {
		t.Errorf("EncodeError(overloaded, 529) = %d %s; want 503", status, body)
	}
	// Any status Gemini does not use becomes its kind's Gemini status.
	status, body = EncodeError(&llm.Error{Kind: llm.ErrRequestTooLarge, Status: 413, Message: "too big"})
	if status != 400 || !strings.Contains(string(body), `"code":400`) {
		t.Errorf("EncodeError(request_too_large, 413) = %d %s; want 400", status, body)
	}
}

// TestDecodeResponseMadeUpIDsDiffer: calls without an id get ids unique
// across responses (a client keeping a history of several responses must
// not see call_0 twice), which the codec still recognises as its own and
// never sends to Gemini.
func TestDecodeResponseMadeUpIDsDiffer(t *testing.T) {
	body := []byte(`{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}},{"functionCall":{"name":"g","args":{}}}]},"finishReason":"STOP"}]}`)
	seen := map[string]bool{}
	for range 2 {
		res, err := DecodeResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range res.Message.Parts {
			id := p.ToolCall.ID
			if seen[id] || !isMadeUp(id) || noSuffix(id) != fmt.Sprint("call_", i) {
				t.Errorf("call %d id %q: want call_%d and a suffix of this response, made up", i, id, i)
			}
			seen[id] = true
		}
		out, _, err := EncodeResponse(res)
		if err != nil || strings.Contains(string(out), `"id"`) {
			t.Errorf("EncodeResponse = %s, %v; want no made-up id sent", out, err)
		}
	}
	for _, id := range []string{"call_Xy7", "call_0_1234567", "call_0_1234567G", "call__12345678", "toolu_01"} {
		if isMadeUp(id) {
			t.Errorf("isMadeUp(%q) = true; want false", id)
		}
	}
}

// TestDecodeErrorCutAtRuneStart: the message of a long non-JSON body is
// cut before the character that straddles the bound, so it stays UTF-8.
func TestDecodeErrorCutAtRuneStart(t *testing.T) {
	body := strings.Repeat("a", maxErrorMessage-1) + "été"
	e := DecodeError(502, nil, []byte(body))
	if !utf8.ValidString(e.Message) || len(e.Message) != maxErrorMessage-1 {
		t.Errorf("Message of %d bytes, valid UTF-8 %v; want %d bytes, valid", len(e.Message), utf8.ValidString(e.Message), maxErrorMessage-1)
	}
}
