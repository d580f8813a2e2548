package anthropic_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/vivremotion/gateway/llm"
	"github.com/vivremotion/gateway/llm/anthropic"
)

// drainStream reads st to its end, turning a panic into a test failure.
func drainStream(t *testing.T, st llm.Stream) (evs []llm.Event, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Next panicked: %v", r)
		}
	}()
	for i := 0; i < 100; i++ {
		ev, err := st.Next()
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	t.Fatal("the stream did not end")
	return nil, nil
}

const reviewStart = "event: message_start\n" +
	`data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","usage":{"input_tokens":3,"output_tokens":1}}}` + "\n\n" +
	"event: content_block_start\n" +
	`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\n\n"

// A content_block_delta whose text value is cut to a lone quote must be an
// EventError, not a panic (fastDelta slices raw[1:len(raw)-1] of a 1-byte
// raw).
func TestStreamDecoderTruncatedDeltaNoPanic(t *testing.T) {
	in := reviewStart + "event: content_block_delta\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"}}` + "\n\n"
	evs, err := drainStream(t, anthropic.NewStreamDecoder(strings.NewReader(in)))
	if err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("Next error = %v; want a malformed-event error", err)
	}
	if len(evs) == 0 || evs[len(evs)-1].Type != llm.EventError {
		t.Fatalf("last event = %+v; want EventError", evs)
	}
}

// A hostile content_block_start index must not make the decoder allocate
// in proportion to it: Anthropic numbers blocks 0, 1, 2... in order, so an
// index far past the next one is a malformed event.
func TestStreamDecoderHugeBlockIndex(t *testing.T) {
	in := reviewStart + "event: content_block_start\n" +
		`data: {"type":"content_block_start","index":1048576,"content_block":{"type":"text","text":""}}` + "\n\n"
	evs, _ := drainStream(t, anthropic.NewStreamDecoder(strings.NewReader(in)))
	for _, ev := range evs {
		if ev.Type == llm.EventPartStart && ev.Index == 1048576 {
			t.Fatalf("a part started at index 1048576 (the decoder grew its tables to it); want an EventError for the malformed index")
		}
	}
}

// SetModel must leave no "model" but the new one at the top level: with a
// duplicate key, encoding/json (and the ingress's routing) reads the last
// one, so replacing only the first leaves the client's own name in force.
func TestSetModelDuplicateKey(t *testing.T) {
	body := []byte(`{"model":"claude-opus-4","max_tokens":10,"model":"cheap","messages":[{"role":"user","content":"hi"}]}`)
	out, err := anthropic.SetModel(body, "claude-haiku")
	if err != nil {
		// Refusing the body is the other right answer.
		if !strings.Contains(err.Error(), "model twice") {
			t.Fatalf("SetModel(duplicate model) error = %v; want a refusal naming the duplicate", err)
		}
		return
	}
	var v struct {
		Model string `json:"model"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if v.Model != "claude-haiku" || strings.Contains(string(out), `"cheap"`) || strings.Contains(string(out), `"claude-opus-4"`) {
		t.Fatalf("SetModel(...) = %s; want every top-level model set to claude-haiku (or an error)", out)
	}
}

// A stream that ends before message_start (a 200 with an empty body) must
// begin with EventStart or EventError, as llm.Streamer promises and the
// ingress relies on to answer with an error status: not with EventUsage.
func TestStreamDecoderCutBeforeStart(t *testing.T) {
	ev, err := anthropic.NewStreamDecoder(strings.NewReader("")).Next()
	if err == nil && ev.Type != llm.EventStart && ev.Type != llm.EventError {
		t.Fatalf("first event = %v; want start or error", ev.Type)
	}
}
