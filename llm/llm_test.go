package llm_test

import (
	"context"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/echo"
)

func TestNewRouter(t *testing.T) {
	p := echo.New("")
	for _, tc := range []struct {
		name   string
		routes []llm.Route
	}{
		{"none", nil},
		{"no model", []llm.Route{{Provider: p}}},
		{"no provider", []llm.Route{{Model: "m"}}},
		{"twice", []llm.Route{{Model: "m", Provider: p}, {Model: "m", Provider: p}}},
	} {
		if r, err := llm.NewRouter(tc.routes...); err == nil || r != nil {
			t.Errorf("NewRouter(%s) = %v, %v; want an error", tc.name, r, err)
		}
	}
	routes := []llm.Route{{Model: "fast", Provider: p, Upstream: "echo-1"}, {Model: "echo", Provider: p, OwnedBy: "me"}}
	r, err := llm.NewRouter(routes...)
	if err != nil {
		t.Fatal(err)
	}
	routes[0].Model = "changed" // the router keeps its own copy
	rt, ok := r.Route("fast")
	if !ok || rt.UpstreamModel() != "echo-1" || rt.OwnedBy != "echo" {
		t.Errorf("Route(fast) = %+v, %v; want upstream echo-1, owned by echo", rt, ok)
	}
	if rt, ok := r.Route("echo"); !ok || rt.UpstreamModel() != "echo" || rt.OwnedBy != "me" {
		t.Errorf("Route(echo) = %+v, %v; want upstream echo, owned by me", rt, ok)
	}
	if _, ok := r.Route("changed"); ok {
		t.Errorf("Route(changed) found; the router must not see changes to the caller's slice")
	}
	if got := r.Routes(); len(got) != 2 || got[0].Model != "fast" || got[1].Model != "echo" {
		t.Errorf("Routes() = %+v; want fast, echo in order", got)
	}
}

func TestErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		kind   llm.ErrorKind
		back   int
	}{
		{400, llm.ErrInvalidRequest, 400}, {422, llm.ErrInvalidRequest, 400}, {401, llm.ErrAuthentication, 401},
		{403, llm.ErrPermission, 403}, {404, llm.ErrNotFound, 404}, {413, llm.ErrRequestTooLarge, 413},
		{429, llm.ErrRateLimit, 429}, {500, llm.ErrServer, 500}, {502, llm.ErrServer, 500},
		{503, llm.ErrUnavailable, 503}, {529, llm.ErrOverloaded, 503}, {504, llm.ErrTimeout, 504},
		{408, llm.ErrTimeout, 504}, {418, llm.ErrInvalidRequest, 400},
	} {
		k := llm.KindOf(tc.status)
		if k != tc.kind || k.Status() != tc.back {
			t.Errorf("KindOf(%d) = %s (status %d); want %s (status %d)", tc.status, k, k.Status(), tc.kind, tc.back)
		}
	}
	e := &llm.Error{Kind: llm.ErrOverloaded, Status: 529, Message: "busy", Provider: "anthropic"}
	if e.HTTPStatus() != 529 || e.Error() != "llm: anthropic: overloaded: busy" {
		t.Errorf("Error = %d %q", e.HTTPStatus(), e.Error())
	}
}

// TestAccumulator: the events of a stream, parts interleaved, add up to
// the response they describe.
func TestAccumulator(t *testing.T) {
	u := llm.Usage{InputTokens: 10, OutputTokens: 5, Source: llm.UsageReported}
	var a llm.Accumulator
	for _, ev := range []llm.Event{
		{Type: llm.EventStart, ID: "r1", Model: "m", Losses: []llm.Loss{{Field: "n", Reason: "one choice"}}},
		{Type: llm.EventPartStart, Index: 0, PartType: llm.PartReasoning},
		{Type: llm.EventDelta, Index: 0, PartType: llm.PartReasoning, Text: "think", Signature: "sig"},
		{Type: llm.EventPartStart, Index: 1, PartType: llm.PartText},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartText, Text: "Hel"},
		{Type: llm.EventPartStart, Index: 2, PartType: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c1", Name: "f"}},
		{Type: llm.EventDelta, Index: 1, PartType: llm.PartText, Text: "lo"},
		{Type: llm.EventDelta, Index: 2, PartType: llm.PartToolCall, Arguments: `{"a":`},
		{Type: llm.EventDelta, Index: 2, PartType: llm.PartToolCall, Arguments: `1}`},
		{Type: llm.EventPing},
		{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls, RawFinishReason: "tool_use"},
		{Type: llm.EventUsage, Usage: &u},
	} {
		a.Add(ev)
	}
	res, err := a.Response()
	if err != nil {
		t.Fatalf("Response() error %v", err)
	}
	m := res.Message
	if res.ID != "r1" || res.Model != "m" || len(res.Losses) != 1 || res.FinishReason != llm.FinishToolCalls || res.Usage != u ||
		len(m.Parts) != 3 || m.Parts[0].Text != "think" || m.Parts[0].Signature != "sig" || m.Text() != "Hello" ||
		len(m.ToolCalls()) != 1 || *m.ToolCalls()[0] != (llm.ToolCall{ID: "c1", Name: "f", Arguments: `{"a":1}`}) {
		t.Errorf("Response() = %+v", res)
	}
}

// TestEcho: the echo provider answers the last user message, cut at
// MaxTokens, calls a required tool, streams word by word, and estimates
// its usage.
func TestEcho(t *testing.T) {
	p := echo.New("")
	ctx := context.Background()
	user := func(s string) llm.Message {
		return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: s}}}
	}
	res, err := p.Chat(ctx, &llm.Request{Model: "echo", Messages: []llm.Message{user("first"), user("hello big world")}})
	if err != nil || res.Message.Text() != "echo: hello big world" || res.FinishReason != llm.FinishStop ||
		res.Usage.OutputTokens != 4 || res.Usage.InputTokens != 6 || res.Usage.Source != llm.UsageEstimated {
		t.Errorf("Chat = %+v, %v", res, err)
	}
	res, _ = p.Chat(ctx, &llm.Request{Messages: []llm.Message{user("a b c d")}, MaxTokens: 2})
	if res.Message.Text() != "echo: a" || res.FinishReason != llm.FinishLength {
		t.Errorf("Chat(MaxTokens 2) = %q, %s; want %q, length", res.Message.Text(), res.FinishReason, "echo: a")
	}
	res, _ = p.Chat(ctx, &llm.Request{Messages: []llm.Message{user("x")}, Tools: []llm.Tool{{Name: "f"}, {Name: "g"}},
		ToolChoice: &llm.ToolChoice{Mode: llm.ToolNamed, Name: "g"}})
	if calls := res.Message.ToolCalls(); len(calls) != 1 || calls[0].Name != "g" || calls[0].Arguments != "{}" || res.FinishReason != llm.FinishToolCalls {
		t.Errorf("Chat(tool g required) = %+v", res)
	}
	st, err := p.Stream(ctx, &llm.Request{Messages: []llm.Message{user("one two")}})
	if err != nil {
		t.Fatal(err)
	}
	var a llm.Accumulator
	deltas := 0
	for {
		ev, err := st.Next()
		if err != nil {
			break
		}
		if ev.Type == llm.EventDelta {
			deltas++
		}
		a.Add(ev)
	}
	got, _ := a.Response()
	if got.Message.Text() != "echo: one two" || deltas != 3 || got.Usage.OutputTokens != 3 {
		t.Errorf("Stream = %q in %d deltas, usage %+v; want %q in 3", got.Message.Text(), deltas, got.Usage, "echo: one two")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Chat(cctx, &llm.Request{}); err == nil {
		t.Errorf("Chat(canceled) = nil error")
	}
	emb, err := p.Embed(ctx, &llm.EmbeddingRequest{Input: []string{"a", "b"}, Dimensions: 4})
	if err != nil || len(emb.Embeddings) != 2 || len(emb.Embeddings[0]) != 4 || emb.Embeddings[0][0] == emb.Embeddings[1][0] {
		t.Errorf("Embed = %+v, %v; want two different vectors of 4", emb, err)
	}
}
