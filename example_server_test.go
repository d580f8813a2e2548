package gateway_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/vivremotion/gateway"
)

func ExampleListenAndServe() {
	// Ctrl-C or SIGTERM makes ctx done: the server stops accepting, lets the
	// requests in flight finish, and returns nil.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, gateway\n")
	})

	// In a main, this is all it takes:
	//
	//	if err := gateway.ListenAndServe(ctx, ":8080", h); err != nil {
	//		log.Fatal(err)
	//	}
	//
	// So that the example can call itself, it serves the same way on a
	// free loopback port instead.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	// A nil Logger logs to slog.Default; this one keeps the test log quiet.
	srv := &gateway.Server{Handler: h, Logger: slog.New(slog.DiscardHandler)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%s %s", resp.Status, body)

	stop() // as Ctrl-C would
	fmt.Println("stopped:", <-served)
	// Output:
	// 200 OK hello, gateway
	// stopped: <nil>
}

func ExampleShuttingDown() {
	// A stream that would run for ever ends politely when the server starts
	// to drain, instead of being cut off at the ShutdownTimeout.
	events := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: ready\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-gateway.ShuttingDown(r.Context()):
			io.WriteString(w, "event: bye\ndata: server restarting\n\n")
		case <-r.Context().Done(): // the client left
		}
	})

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &gateway.Server{Handler: events, Logger: slog.New(slog.DiscardHandler)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/events")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	first := make([]byte, len("data: ready\n\n"))
	io.ReadFull(resp.Body, first)
	fmt.Printf("%s", first)

	stop()
	rest, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s", rest)
	fmt.Println("stopped:", <-served)
	// Output:
	// data: ready
	//
	// event: bye
	// data: server restarting
	//
	// stopped: <nil>
}
