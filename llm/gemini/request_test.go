package gemini

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
)

func TestDecodeRequestGolden(t *testing.T) {
	req, err := DecodeRequest(readFixture(t, "request_roundtrip.json"))
	if err != nil {
		t.Fatal(err)
	}
	if req.Model != "" || req.ExtraFormat != llm.FormatGemini {
		t.Errorf("Model, ExtraFormat = %q, %q; want \"\", gemini", req.Model, req.ExtraFormat)
	}
	want := []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "You are a terse weather assistant."}, {Type: llm.PartText, Text: "Answer in metric units."}}},
		{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartText, Text: "What is the weather in Paris? Here is a photo of the sky."},
			{Type: llm.PartImage, Media: &llm.Media{MediaType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")}},
			{Type: llm.PartFile, Media: &llm.Media{MediaType: "application/pdf", URL: "https://generativelanguage.googleapis.com/v1beta/files/abc-123"}},
		}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartReasoning, Text: "The user wants the current weather."},
			{Type: llm.PartToolCall, Signature: "CiQBVKhc7vB0bXk=", ToolCall: &llm.ToolCall{ID: "call_0", Name: "get_weather", Arguments: `{"city":"Paris","unit":"celsius"}`}},
		}},
		{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_0", Name: "get_weather", Parts: []llm.Part{{Type: llm.PartText, Text: `{"temperature":18,"sky":"cloudy"}`}}}},
		}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "18 °C and cloudy.", Signature: "Eh4KHAE="}}},
		{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "And in Lyon? Use the tool."}}},
	}
	if !reflect.DeepEqual(req.Messages, want) {
		got, _ := json.MarshalIndent(req.Messages, "", " ")
		t.Errorf("Messages =\n%s", got)
	}
	if len(req.Tools) != 1 || req.Tools[0].Name != "get_weather" || !strings.Contains(string(req.Tools[0].Parameters), `"required"`) {
		t.Errorf("Tools = %+v; want get_weather with its schema", req.Tools)
	}
	if *req.ToolChoice != (llm.ToolChoice{Mode: llm.ToolNamed, Name: "get_weather"}) {
		t.Errorf("ToolChoice = %+v; want named get_weather", *req.ToolChoice)
	}
	if req.MaxTokens != 1024 || *req.Temperature != 0.4 || *req.TopP != 0.9 || *req.TopK != 40 || *req.Seed != 7 ||
		*req.PresencePenalty != 0.1 || *req.FrequencyPenalty != 0.2 || req.N != 1 || !slices.Equal(req.Stop, []string{"END"}) {
		t.Errorf("sampling = %d %v %v %v %v %v %v %d %v", req.MaxTokens, *req.Temperature, *req.TopP, *req.TopK, *req.Seed, *req.PresencePenalty, *req.FrequencyPenalty, req.N, req.Stop)
	}
	if rf := req.ResponseFormat; rf.Type != llm.FormatJSONSchema || !strings.Contains(string(rf.Schema), "answer") {
		t.Errorf("ResponseFormat = %+v; want json_schema", rf)
	}
	if *req.Reasoning != (llm.Reasoning{Effort: "low", IncludeThoughts: true}) {
		t.Errorf("Reasoning = %+v; want low, include thoughts", *req.Reasoning)
	}
	if got, want := sortedKeys(req.Extra), []string{"cachedContent", "generationConfig", "safetySettings", "tools"}; !slices.Equal(got, want) {
		t.Errorf("Extra keys = %v; want %v", got, want)
	}
	if got := string(req.Extra["generationConfig"]); got != `{"mediaResolution":"MEDIA_RESOLUTION_LOW"}` {
		t.Errorf(`Extra["generationConfig"] = %s`, got)
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, name := range []string{"request_roundtrip.json"} {
		in := readFixture(t, name)
		req, err := DecodeRequest(in)
		if err != nil {
			t.Fatal(err)
		}
		out, losses, err := EncodeRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		if len(losses) != 0 {
			t.Errorf("%s: losses = %v; want none", name, losses)
		}
		jsonEqual(t, name+" decoded and encoded", out, in)
	}
}

// TestRequestRoundTripRows checks the round trip of request shapes one by
// one.
func TestRequestRoundTripRows(t *testing.T) {
	rows := []struct{ name, body string }{
		{"minimal", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`},
		{"text/plain", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"responseMimeType":"text/plain"}}`},
		{"json object", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"responseMimeType":"application/json"}}`},
		{"enum output kept", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"responseMimeType":"text/x.enum","responseSchema":{"type":"STRING","enum":["a","b"]}}}`},
		{"tool modes", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f"}]}],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}}`},
		{"any", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}`},
		{"any of two kept", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f"},{"name":"g"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f","g"]}}}`},
		{"validated kept", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f"}]}],"toolConfig":{"functionCallingConfig":{"mode":"VALIDATED"}}}`},
		{"thinking budget", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":2048}}}`},
		{"thinking off", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":0}}}`},
		{"ids kept", `{"contents":[{"role":"model","parts":[{"functionCall":{"id":"fc-1","name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"id":"fc-1","name":"f","response":{"ok":true}}}]}]}`},
		{"empty signed text", `{"contents":[{"role":"model","parts":[{"text":"","thoughtSignature":"c2ln"}]}]}`},
		{"labels", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"labels":{"team":"search"}}`},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			req, err := DecodeRequest([]byte(r.body))
			if err != nil {
				t.Fatal(err)
			}
			out, losses, err := EncodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			if len(losses) != 0 {
				t.Errorf("losses = %v; want none", losses)
			}
			jsonEqual(t, "EncodeRequest(DecodeRequest(body))", out, []byte(r.body))
		})
	}
}

// TestDecodeRequestFieldCase: a generationConfig field in another case is
// read (as encoding/json reads it) and not kept in Extra as well.
func TestDecodeRequestFieldCase(t *testing.T) {
	req, err := DecodeRequest([]byte(`{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"Temperature":0.5}}`))
	if err != nil {
		t.Fatal(err)
	}
	if req.Temperature == nil || *req.Temperature != 0.5 || req.Extra != nil {
		t.Errorf("Temperature %v, Extra %s; want 0.5 and no Extra", req.Temperature, req.Extra)
	}
}

func TestDecodeRequestFor(t *testing.T) {
	req, err := DecodeRequestFor("models/gemini-2.5-flash", []byte(`{"contents":[{"parts":[{"text":"hi"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if req.Model != "gemini-2.5-flash" || req.Messages[0].Role != llm.RoleUser {
		t.Errorf("DecodeRequestFor = model %q role %q; want gemini-2.5-flash user", req.Model, req.Messages[0].Role)
	}
}

func TestDecodeRequestThinkingBudget(t *testing.T) {
	rows := []struct {
		budget string
		want   llm.Reasoning
	}{
		{"-1", llm.Reasoning{}}, // dynamic, the default
		{"0", llm.Reasoning{Disabled: true}},
		{"2048", llm.Reasoning{BudgetTokens: 2048}},
	}
	for _, r := range rows {
		req, err := DecodeRequest([]byte(`{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":` + r.budget + `}}}`))
		if err != nil {
			t.Fatal(err)
		}
		if *req.Reasoning != r.want {
			t.Errorf("thinkingBudget %s: Reasoning = %+v; want %+v", r.budget, *req.Reasoning, r.want)
		}
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	rows := []struct{ name, body, param string }{
		{"malformed", `{"contents":`, ""},
		{"not an object", `[1]`, ""},
		{"no contents", `{"generationConfig":{}}`, "contents"},
		{"empty contents", `{"contents":[]}`, "contents"},
		{"contents wrong type", `{"contents":"hi"}`, "contents"},
		{"unknown role", `{"contents":[{"role":"system","parts":[{"text":"x"}]}]}`, "contents[0].role"},
		{"empty part", `{"contents":[{"role":"user","parts":[{}]}]}`, "contents[0].parts[0]"},
		{"call without name", `{"contents":[{"role":"model","parts":[{"functionCall":{"args":{}}}]}]}`, "contents[0].parts[0].functionCall.name"},
		{"args not an object", `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":[1]}}]}]}`, "contents[0].parts[0].functionCall.args"},
		{"response not an object", `{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":"ok"}}]}]}`, "contents[0].parts[0].functionResponse.response"},
		{"executable code", `{"contents":[{"role":"model","parts":[{"executableCode":{"language":"PYTHON","code":"1"}}]}]}`, "contents[0].parts[0].executableCode"},
		{"system image", `{"systemInstruction":{"parts":[{"inlineData":{"mimeType":"image/png","data":""}}]},"contents":[{"parts":[{"text":"x"}]}]}`, "systemInstruction.parts[0]"},
		{"bad tool mode", `{"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}}}`, "toolConfig.functionCallingConfig.mode"},
		{"nameless declaration", `{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"description":"d"}]}]}`, "tools[0].functionDeclarations[0].name"},
		{"temperature a string", `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":"hot"}}`, "generationConfig"},
		{"schema without json", `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseJsonSchema":{"type":"object"}}}`, "generationConfig.responseMimeType"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			_, err := DecodeRequest([]byte(r.body))
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest || le.Param != r.param {
				t.Errorf("DecodeRequest(%s) = %v; want invalid_request at %q", r.body, err, r.param)
			}
		})
	}
}

// openAIStyle is a request as another format's decoder makes it.
func openAIStyle() *llm.Request {
	return &llm.Request{
		Model: "gemini-2.5-flash",
		Messages: []llm.Message{
			{Role: llm.RoleDeveloper, Parts: []llm.Part{{Type: llm.PartText, Text: "Be brief."}}},
			{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartText, Text: "Weather where this photo was taken, and in Nice?"},
				{Type: llm.PartImage, Media: &llm.Media{URL: "data:image/jpeg;base64,/9j/4AAQ"}},
				{Type: llm.PartImage, Media: &llm.Media{URL: "https://example.com/photos/sky.png?size=large"}},
			}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_Ab3", Name: "locate", Arguments: `{"photo": 1}`}},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_Cd4", Name: "get_weather", Arguments: `{"city":"Nice"}`}},
			}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_Ab3", Parts: []llm.Part{{Type: llm.PartText, Text: "Marseille"}}}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_Cd4", Parts: []llm.Part{{Type: llm.PartText, Text: `{"temp": 21}`}}}}}},
		},
		MaxTokens:   500,
		Temperature: ptr(0.2),
		Stop:        []string{"\n\n"},
		Seed:        ptr[int64](3),
		Tools: []llm.Tool{
			{Name: "locate", Description: "Where a photo was taken.", Parameters: json.RawMessage(`{"type":"object","properties":{"photo":{"type":"integer"}}}`)},
			{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}`)},
		},
		ToolChoice:     &llm.ToolChoice{Mode: llm.ToolRequired},
		ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject},
		Reasoning:      &llm.Reasoning{Effort: "medium"},
		ExtraFormat:    llm.FormatOpenAI,
	}
}

func TestEncodeRequestFromModel(t *testing.T) {
	body, losses, err := EncodeRequest(openAIStyle())
	if err != nil {
		t.Fatal(err)
	}
	want := `{
	  "systemInstruction": {"parts": [{"text": "Be brief."}]},
	  "contents": [
	    {"role": "user", "parts": [
	      {"text": "Weather where this photo was taken, and in Nice?"},
	      {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
	      {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/photos/sky.png?size=large"}}
	    ]},
	    {"role": "model", "parts": [
	      {"functionCall": {"id": "call_Ab3", "name": "locate", "args": {"photo": 1}}, "thoughtSignature": "skip_thought_signature_validator"},
	      {"functionCall": {"id": "call_Cd4", "name": "get_weather", "args": {"city": "Nice"}}}
	    ]},
	    {"role": "user", "parts": [
	      {"functionResponse": {"id": "call_Ab3", "name": "locate", "response": {"result": "Marseille"}}},
	      {"functionResponse": {"id": "call_Cd4", "name": "get_weather", "response": {"temp": 21}}}
	    ]}
	  ],
	  "tools": [{"functionDeclarations": [
	    {"name": "locate", "description": "Where a photo was taken.", "parametersJsonSchema": {"type": "object", "properties": {"photo": {"type": "integer"}}}},
	    {"name": "get_weather", "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": false}}
	  ]}],
	  "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
	  "generationConfig": {
	    "stopSequences": ["\n\n"], "maxOutputTokens": 500, "temperature": 0.2, "seed": 3,
	    "responseMimeType": "application/json",
	    "thinkingConfig": {"thinkingBudget": 8192}
	  }
	}`
	jsonEqual(t, "EncodeRequest", body, []byte(want))
	if got := lossFields(losses); !slices.Equal(got, []string{"messages[2].parts[0].signature", "reasoning_effort"}) {
		t.Errorf("losses = %v; want the placeholder signature and reasoning_effort", losses)
	}
}

// TestEncodeRequestLosses has a row per loss: the request is changed, and
// the loss must be reported.
func TestEncodeRequestLosses(t *testing.T) {
	base := func() *llm.Request {
		return &llm.Request{ExtraFormat: llm.FormatOpenAI, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}}
	}
	rows := []struct {
		field  string
		change func(r *llm.Request)
	}{
		{"messages[0].name", func(r *llm.Request) { r.Messages[0].Name = "ann" }},
		{"messages[1]", func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "late"}}})
		}},
		{"messages[0].parts[0]", func(r *llm.Request) {
			r.Messages = append([]llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartImage, Media: &llm.Media{URL: "https://x.test/a.png"}}}}}, r.Messages...)
		}},
		{"messages[0].parts[1].signature", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartReasoning, Text: "t", Signature: "anthropic-sig"})
		}},
		{"messages[0].parts[1]", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartRedactedReasoning, Signature: "x"})
			r.ExtraFormat = llm.FormatGemini
		}},
		{"messages[0].parts[1]", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartRefusal, Text: "no"})
		}},
		{"messages[0].parts[0].cache", func(r *llm.Request) { r.Messages[0].Parts[0].Cache = &llm.CacheHint{} }},
		{"messages[0].parts[1].detail", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartImage, Media: &llm.Media{URL: "https://x.test/a.png", Detail: "high"}})
		}},
		{"messages[0].parts[1].name", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartFile, Media: &llm.Media{MediaType: "application/pdf", Data: []byte("%PDF"), Name: "a.pdf"}})
		}},
		{"messages[0].parts[0].tool_result.parts[1]", func(r *llm.Request) {
			r.Messages[0].Parts = []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{Name: "f", Parts: []llm.Part{{Type: llm.PartText, Text: "x"}, {Type: llm.PartImage, Media: &llm.Media{URL: "https://x.test/a.png"}}}}}}
		}},
		{"messages[0].parts[1]", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartImage, Media: &llm.Media{URL: "https://x.test/a.png"}})
			r.Messages[0].Parts[1].Type = llm.PartRedactedReasoning
		}},
		{"tools[0].strict", func(r *llm.Request) { r.Tools = []llm.Tool{{Name: "f", Strict: ptr(true)}} }},
		{"parallel_tool_calls", func(r *llm.Request) { r.ParallelToolCalls = ptr(false) }},
		{"user", func(r *llm.Request) { r.User = "u-1" }},
		{"response_format.json_schema.name", func(r *llm.Request) {
			r.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "answer", Schema: json.RawMessage(`{}`)}
		}},
		{"response_format.json_schema.strict", func(r *llm.Request) {
			r.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Strict: ptr(true), Schema: json.RawMessage(`{}`)}
		}},
		{"reasoning_effort", func(r *llm.Request) { r.Reasoning = &llm.Reasoning{Effort: "high"} }},
		{"reasoning_effort", func(r *llm.Request) { r.Reasoning = &llm.Reasoning{Effort: "high", BudgetTokens: 100} }},
		{"logit_bias", func(r *llm.Request) { r.Extra = map[string]json.RawMessage{"logit_bias": json.RawMessage(`{}`)} }},
		{"contents", func(r *llm.Request) {
			r.ExtraFormat = llm.FormatGemini
			r.Extra = map[string]json.RawMessage{"contents": json.RawMessage(`[]`)}
		}},
	}
	for _, r := range rows {
		t.Run(r.field, func(t *testing.T) {
			req := base()
			r.change(req)
			_, losses, err := EncodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(lossFields(losses), r.field) {
				t.Errorf("losses = %v; want one at %q", losses, r.field)
			}
		})
	}
	// The base request loses nothing: the rows' losses come from their
	// changes.
	if _, losses, _ := EncodeRequest(base()); len(losses) != 0 {
		t.Errorf("base losses = %v; want none", losses)
	}
}

func TestEncodeRequestEffortTable(t *testing.T) {
	for effort, budget := range map[string]int{"minimal": 512, "low": 1024, "medium": 8192, "high": 24576} {
		req := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}, Reasoning: &llm.Reasoning{Effort: effort}}
		body, losses, err := EncodeRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			GenerationConfig wireGenConfig `json:"generationConfig"`
		}
		json.Unmarshal(body, &got)
		tc := got.GenerationConfig.ThinkingConfig
		if tc == nil || tc.ThinkingBudget == nil || *tc.ThinkingBudget != budget || len(losses) != 1 {
			t.Errorf("effort %s: thinkingConfig %s, losses %v; want thinkingBudget %d, one loss", effort, body, losses, budget)
		}
	}
	// From gemini, the effort is its thinkingLevel, sent as it came.
	req := &llm.Request{ExtraFormat: llm.FormatGemini, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}, Reasoning: &llm.Reasoning{Effort: "high"}}
	body, losses, _ := EncodeRequest(req)
	if !strings.Contains(string(body), `"thinkingLevel":"high"`) || len(losses) != 0 {
		t.Errorf("effort from gemini: %s, %v; want thinkingLevel high, no loss", body, losses)
	}
	req.Reasoning.Effort = "extreme"
	req.ExtraFormat = ""
	if _, _, err := EncodeRequest(req); err == nil {
		t.Error("EncodeRequest(effort extreme) = nil error; want invalid_request")
	}
}

// TestEncodeRequestSignaturesAndIDs: signatures are sent only when the
// request came from gemini (or from no format); call ids whenever they
// are not made up.
func TestEncodeRequestSignaturesAndIDs(t *testing.T) {
	conv := func(format llm.Format, id string) *llm.Request {
		return &llm.Request{ExtraFormat: format, Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Text: "hm", Signature: "sig-r"},
				{Type: llm.PartToolCall, Signature: "sig-c", ToolCall: &llm.ToolCall{ID: id, Name: "f", Arguments: "{}"}},
			}},
			{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: id, Parts: []llm.Part{{Type: llm.PartText, Text: "{}"}}}}}},
		}}
	}
	rows := []struct {
		format       llm.Format
		id           string
		sigs, withID bool
	}{
		{llm.FormatGemini, "fc-1", true, true},
		{llm.FormatGemini, "call_3", true, false},
		{llm.FormatAnthropic, "toolu_1", false, true},
		{"", "fc-1", true, true}, // built by a program: taken as gemini's
		{llm.FormatOpenAI, "call_Ab", false, true},
	}
	for _, r := range rows {
		body, _, err := EncodeRequest(conv(r.format, r.id))
		if err != nil {
			t.Fatal(err)
		}
		s := string(body)
		if got := strings.Contains(s, "sig-r") && strings.Contains(s, "sig-c"); got != r.sigs {
			t.Errorf("format %q: signatures sent = %v; want %v (%s)", r.format, got, r.sigs, s)
		}
		if got := strings.Count(s, `"id":"`+r.id+`"`) == 2; got != r.withID {
			t.Errorf("format %q id %q: ids sent = %v; want %v (%s)", r.format, r.id, got, r.withID, s)
		}
		if !strings.Contains(s, `"functionResponse":{`) || !strings.Contains(s, `"name":"f","response":{}`) {
			t.Errorf("format %q: result not named from its call: %s", r.format, s)
		}
	}
}

func TestEncodeRequestToolResults(t *testing.T) {
	rows := []struct {
		name string
		res  llm.ToolResult
		want string
	}{
		{"object", llm.ToolResult{Name: "f", Parts: []llm.Part{{Type: llm.PartText, Text: ` {"a": [1, 2]} `}}}, `{"a":[1,2]}`},
		{"text", llm.ToolResult{Name: "f", Parts: []llm.Part{{Type: llm.PartText, Text: "sunny"}}}, `{"result":"sunny"}`},
		{"array", llm.ToolResult{Name: "f", Parts: []llm.Part{{Type: llm.PartText, Text: "[1]"}}}, `{"result":"[1]"}`},
		{"error text", llm.ToolResult{Name: "f", IsError: true, Parts: []llm.Part{{Type: llm.PartText, Text: "timeout"}}}, `{"error":{"result":"timeout"}}`},
		{"error object", llm.ToolResult{Name: "f", IsError: true, Parts: []llm.Part{{Type: llm.PartText, Text: `{"code":7}`}}}, `{"error":{"code":7}}`},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			res := r.res
			req := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &res}}}}}
			body, _, err := EncodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Contents []wireContent `json:"contents"`
			}
			json.Unmarshal(body, &got)
			jsonEqual(t, "response", got.Contents[0].Parts[0].FunctionResponse.Response, []byte(r.want))
		})
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	user := func(p ...llm.Part) []llm.Message { return []llm.Message{{Role: llm.RoleUser, Parts: p}} }
	rows := []struct {
		name  string
		req   llm.Request
		param string
	}{
		{"no conversation", llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "x"}}}}}, "messages"},
		{"bad arguments", llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{Name: "f", Arguments: `{"a":`}}}}}}, "messages[0].parts[0].tool_call.arguments"},
		{"array arguments", llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{Name: "f", Arguments: `[1]`}}}}}}, "messages[0].parts[0].tool_call.arguments"},
		{"result of unknown call", llm.Request{Messages: user(llm.Part{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "nope"}})}, "messages[0].parts[0].tool_result"},
		{"bad data URL", llm.Request{Messages: user(llm.Part{Type: llm.PartImage, Media: &llm.Media{URL: "data:image/png,plain"}})}, "messages[0].parts[0].url"},
		{"empty media", llm.Request{Messages: user(llm.Part{Type: llm.PartImage, Media: &llm.Media{}})}, "messages[0].parts[0].media"},
		{"bad role", llm.Request{Messages: []llm.Message{{Role: "robot", Parts: []llm.Part{{Type: llm.PartText, Text: "x"}}}}}, "messages[0].role"},
		{"bad tool choice", llm.Request{Messages: user(llm.Part{Type: llm.PartText, Text: "x"}), ToolChoice: &llm.ToolChoice{Mode: "maybe"}}, "tool_choice"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			_, _, err := EncodeRequest(&r.req)
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest || le.Param != r.param {
				t.Errorf("EncodeRequest = %v; want invalid_request at %q", err, r.param)
			}
		})
	}
}

func TestEncodeRequestInlineMediaType(t *testing.T) {
	req := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, Media: &llm.Media{Data: []byte("\x89PNG\r\n\x1a\n0000")}}}}}}
	body, _, err := EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"mimeType":"image/png"`) {
		t.Errorf("EncodeRequest(inline png without type) = %s; want mimeType image/png", body)
	}
}

// The Gemini API reads proto field names as well as their lowerCamelCase
// JSON names, and Google's own curl examples use system_instruction,
// inline_data and mime_type. Such a request must mean the same thing.
func TestDecodeRequestSnakeCase(t *testing.T) {
	body := `{
	  "system_instruction": {"parts": [{"text": "You are a cat."}]},
	  "contents": [{"parts": [
	    {"inline_data": {"mime_type": "image/jpeg", "data": "/9j/4AAQ"}},
	    {"text": "Caption this image."}
	  ]}],
	  "generation_config": {"max_output_tokens": 50}
	}`
	req, err := DecodeRequestFor("gemini-2.5-flash", []byte(body))
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

// Gemini 3 rejects a model turn whose first functionCall has no
// thoughtSignature (400 "Function call is missing a thought_signature").
// A conversation from a client of another format never has one; Google
// documents a placeholder signature for such history.
func TestEncodeRequestPlaceholderSignature(t *testing.T) {
	req := &llm.Request{Model: "gemini-3-pro-preview", ExtraFormat: llm.FormatOpenAI, Messages: []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Weather in Lyon?"}}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_Xy7", Name: "weather", Arguments: `{"city":"Lyon"}`}}}},
		{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_Xy7", Parts: []llm.Part{{Type: llm.PartText, Text: "12C"}}}}}},
	}}
	body, _, err := EncodeRequest(req)
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
	if string(out.Contents[1].Parts[0]["thoughtSignature"]) != `"skip_thought_signature_validator"` {
		t.Errorf("functionCall part %s has no placeholder thoughtSignature; Gemini 3 answers 400", body)
	}
	_, losses, _ := EncodeRequest(req)
	if got := lossFields(losses); !slices.Equal(got, []string{"messages[1].parts[0].signature"}) {
		t.Errorf("losses = %v; want the placeholder reported", losses)
	}
	// A Gemini client's own history is sent as it came.
	req.ExtraFormat = llm.FormatGemini
	body, _, _ = EncodeRequest(req)
	if strings.Contains(string(body), "thoughtSignature") {
		t.Errorf("request from gemini = %s; want no placeholder", body)
	}
}

// Fields of a part or a functionResponse the codec does not read
// (videoMetadata, functionResponse.parts of Gemini 3 multimodal results)
// vanish: not written back for gemini, and no Loss says so.
func TestRequestPartFieldsKept(t *testing.T) {
	body := `{"contents":[
	  {"role":"user","parts":[{"fileData":{"mimeType":"video/mp4","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/abc"},"videoMetadata":{"startOffset":"10s","endOffset":"20s"}},{"text":"Summarize"}]},
	  {"role":"model","parts":[{"functionCall":{"id":"c1","name":"snap","args":{}}}]},
	  {"role":"user","parts":[{"functionResponse":{"id":"c1","name":"snap","response":{"ok":true},"parts":[{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]}}]}
	]}`
	req, err := DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Model = "gemini-2.5-flash"
	out, losses, err := EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{`"videoMetadata":{"startOffset":"10s","endOffset":"20s"}`, `"parts":[{"inlineData"`} {
		if !strings.Contains(string(out), f) || len(losses) != 0 {
			t.Errorf("gemini to gemini: %s not written back (losses %v):\n%s", f, losses, out)
		}
	}
	if strings.Contains(string(out), partFieldsKey) {
		t.Errorf("%s sent to Gemini:\n%s", partFieldsKey, out)
	}
	// For another format's request (Extra of that format), they are gone:
	// the openai encoder reports Extra[partFieldsKey] as a loss; here,
	// a part moved elsewhere does not take them along.
	req.Messages[0].Parts[0], req.Messages[0].Parts[1] = req.Messages[0].Parts[1], req.Messages[0].Parts[0]
	out, _, _ = EncodeRequest(req)
	if strings.Contains(string(out), "videoMetadata") {
		t.Errorf("videoMetadata written onto a part of another type:\n%s", out)
	}
}
