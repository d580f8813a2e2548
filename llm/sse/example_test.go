package sse_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/vivremotion/gateway/llm/sse"
)

func ExampleNewReader() {
	// An Anthropic stream, cut short before message_stop.
	stream := "event: message_start\ndata: {\"type\":\"message_start\"}\n\n" +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n" +
		"event: message_stop\n"
	r := sse.NewReader(strings.NewReader(stream), 0) // 0: events up to 1 MiB
	for {
		ev, err := r.Next()
		if err == io.ErrUnexpectedEOF {
			fmt.Println("cut short")
			return
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s %s\n", ev.Type, ev.Data) // ev.Data is valid until the next call
	}
	// Output:
	// message_start {"type":"message_start"}
	// ping {"type": "ping"}
	// content_block_delta {"type":"content_block_delta"}
	// cut short
}

func ExampleNewWriter() {
	rec := httptest.NewRecorder() // in a handler: the http.ResponseWriter
	sse.SetHeaders(rec.Header())
	w := sse.NewWriter(rec)
	_ = w.WriteData([]byte(`{"choices":[{"delta":{"content":"Hi"}}]}`))
	_ = w.WriteComment("keep-alive")
	_ = w.WriteEvent("note", []byte("two\nlines")) // each line its own data field
	if err := w.WriteData([]byte("[DONE]")); err != nil {
		return // the client has gone
	}
	fmt.Println(rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body.String())
	// Output:
	// text/event-stream
	// data: {"choices":[{"delta":{"content":"Hi"}}]}
	//
	// : keep-alive
	//
	// event: note
	// data: two
	// data: lines
	//
	// data: [DONE]
}
