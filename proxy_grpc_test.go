package gateway_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/vivremotion/gateway"
	"github.com/vivremotion/gateway/balancer"
)

// rawCodec sends messages as they are, so that the test service needs no
// generated code: every message is a *rawMsg.
type rawCodec struct{}

type rawMsg []byte

func (rawCodec) Name() string { return "raw" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(*rawMsg)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return *m, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	m, ok := v.(*rawMsg)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	*m = append((*m)[:0], data...)
	return nil
}

// echoService is a gRPC service written by hand:
//
//	Echo        unary: answers with the request, and header and trailer metadata
//	Fail        unary: fails with NotFound, a message and a detail
//	Deadline    unary: reports its deadline; given "wait", first waits for the end of its context
//	Count       server streaming: the request is n; answers "1" ... "n"
//	Chat        bidirectional: sends header metadata at once, then echoes each message
type echoService struct {
	deadlines chan deadlineSeen
	arrived   chan struct{} // Deadline got a "wait"
}

type deadlineSeen struct {
	deadline time.Time
	ok       bool
	end      error // the context's error once it ended
}

const echoServiceName = "gatewaytest.Echo"

var echoDesc = grpc.ServiceDesc{
	ServiceName: echoServiceName,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Echo", Handler: unaryHandler(func(s *echoService, ctx context.Context, in rawMsg) (rawMsg, error) {
			grpc.SetHeader(ctx, metadata.Pairs("x-echo-header", "h"))
			grpc.SetTrailer(ctx, metadata.Pairs("x-echo-trailer", "t"))
			return in, nil
		})},
		{MethodName: "Fail", Handler: unaryHandler(func(s *echoService, ctx context.Context, in rawMsg) (rawMsg, error) {
			st, err := status.New(codes.NotFound, "no such thing: "+string(in)).
				WithDetails(&errdetails.ErrorInfo{Reason: "THING_MISSING", Domain: "gateway.test"})
			if err != nil {
				return nil, err
			}
			return nil, st.Err()
		})},
		{MethodName: "Deadline", Handler: unaryHandler(func(s *echoService, ctx context.Context, in rawMsg) (rawMsg, error) {
			d, ok := ctx.Deadline()
			if string(in) != "wait" {
				s.deadlines <- deadlineSeen{deadline: d, ok: ok}
				return in, nil
			}
			s.arrived <- struct{}{}
			<-ctx.Done()
			s.deadlines <- deadlineSeen{deadline: d, ok: ok, end: ctx.Err()}
			return nil, status.FromContextError(ctx.Err()).Err()
		})},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Count", ServerStreams: true, Handler: func(_ any, stream grpc.ServerStream) error {
			var in rawMsg
			if err := stream.RecvMsg(&in); err != nil {
				return err
			}
			n, err := strconv.Atoi(string(in))
			if err != nil {
				return status.Errorf(codes.InvalidArgument, "count %q: %v", in, err)
			}
			for i := 1; i <= n; i++ {
				out := rawMsg(strconv.Itoa(i))
				if err := stream.SendMsg(&out); err != nil {
					return err
				}
			}
			stream.SetTrailer(metadata.Pairs("x-count", strconv.Itoa(n)))
			return nil
		}},
		{StreamName: "Chat", ServerStreams: true, ClientStreams: true, Handler: func(_ any, stream grpc.ServerStream) error {
			if err := stream.SendHeader(metadata.Pairs("x-chat", "ready")); err != nil {
				return err
			}
			for {
				var in rawMsg
				err := stream.RecvMsg(&in)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				out := append(rawMsg("echo: "), in...)
				if err := stream.SendMsg(&out); err != nil {
					return err
				}
			}
		}},
	},
}

// unaryHandler adapts f to a grpc.MethodDesc handler.
func unaryHandler(f func(*echoService, context.Context, rawMsg) (rawMsg, error)) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		var in rawMsg
		if err := dec(&in); err != nil {
			return nil, err
		}
		out, err := f(srv.(*echoService), ctx, in)
		if err != nil {
			return nil, err
		}
		return &out, nil
	}
}

// grpcThroughProxy starts the echo service on a loopback listener, a
// gateway that forwards to it over h2c and that clients reach the way
// front says, and returns a client connection to the gateway and the
// service.
func grpcThroughProxy(t *testing.T, front string) (*grpc.ClientConn, *echoService) {
	t.Helper()
	svc := &echoService{deadlines: make(chan deadlineSeen, 1), arrived: make(chan struct{}, 1)}
	gs := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}))
	gs.RegisterService(&echoDesc, svc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		gs.Serve(ln)
	}()
	t.Cleanup(func() {
		gs.Stop()
		<-served
	})

	p := &gateway.Proxy{
		Upstreams: balancer.MustPool("h2c://" + ln.Addr().String()),
		Logger:    discardLog,
	}
	t.Cleanup(p.CloseIdleConnections)
	var target string
	var creds credentials.TransportCredentials
	switch front {
	case frontH2C:
		target, creds = serveH2C(t, p), insecure.NewCredentials()
	case frontTLS:
		srv := httptest.NewUnstartedServer(p)
		srv.EnableHTTP2 = true // gRPC insists on "h2" by ALPN
		srv.StartTLS()
		t.Cleanup(srv.Close)
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		target, creds = srv.Listener.Addr().String(), credentials.NewTLS(&tls.Config{RootCAs: roots})
	default:
		t.Fatalf("unknown front %q", front)
	}

	conn, err := grpc.NewClient(target,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, svc
}

func grpcContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), watchdog)
	t.Cleanup(cancel)
	return ctx
}

// TestProxyGRPCUnary shows unary calls through the gateway: the answer with
// header and trailer metadata, and an error status whose code, message and
// details travel in trailers.
func TestProxyGRPCUnary(t *testing.T) {
	for _, front := range []string{frontH2C, frontTLS} {
		t.Run(front, func(t *testing.T) { testGRPCUnary(t, front) })
	}
}

func testGRPCUnary(t *testing.T, front string) {
	conn, _ := grpcThroughProxy(t, front)

	t.Run("ok", func(t *testing.T) {
		in, out := rawMsg("hello, gateway"), rawMsg(nil)
		var header, trailer metadata.MD
		err := conn.Invoke(grpcContext(t), "/"+echoServiceName+"/Echo", &in, &out, grpc.Header(&header), grpc.Trailer(&trailer))
		if err != nil {
			t.Fatalf("Echo: %v", err)
		}
		if string(out) != string(in) {
			t.Errorf("Echo = %q; want %q", out, in)
		}
		if got := header.Get("x-echo-header"); len(got) != 1 || got[0] != "h" {
			t.Errorf("header x-echo-header = %q; want [h]", got)
		}
		if got := trailer.Get("x-echo-trailer"); len(got) != 1 || got[0] != "t" {
			t.Errorf("trailer x-echo-trailer = %q; want [t]", got)
		}
	})

	t.Run("error status", func(t *testing.T) {
		in, out := rawMsg("widget «7»"), rawMsg(nil)
		err := conn.Invoke(grpcContext(t), "/"+echoServiceName+"/Fail", &in, &out)
		st, ok := status.FromError(err)
		if !ok {
			t.Fatalf("Fail: %v; want a gRPC status", err)
		}
		if st.Code() != codes.NotFound {
			t.Errorf("Code = %v; want %v (message %q)", st.Code(), codes.NotFound, st.Message())
		}
		if want := "no such thing: widget «7»"; st.Message() != want {
			t.Errorf("Message = %q; want %q", st.Message(), want)
		}
		details := st.Details()
		if len(details) != 1 {
			t.Fatalf("Details = %v; want one ErrorInfo", details)
		}
		if info, ok := details[0].(*errdetails.ErrorInfo); !ok || info.GetReason() != "THING_MISSING" {
			t.Errorf("Details[0] = %v; want ErrorInfo with reason THING_MISSING", details[0])
		}
	})

	t.Run("unknown method", func(t *testing.T) {
		in, out := rawMsg("x"), rawMsg(nil)
		err := conn.Invoke(grpcContext(t), "/"+echoServiceName+"/Missing", &in, &out)
		if got := status.Code(err); got != codes.Unimplemented {
			t.Errorf("Code = %v; want %v (%v)", got, codes.Unimplemented, err)
		}
	})
}

// TestProxyGRPCServerStreaming shows a server stream of several messages
// and its trailer metadata through the gateway.
func TestProxyGRPCServerStreaming(t *testing.T) {
	for _, front := range []string{frontH2C, frontTLS} {
		t.Run(front, func(t *testing.T) { testGRPCServerStreaming(t, front) })
	}
}

func testGRPCServerStreaming(t *testing.T, front string) {
	conn, _ := grpcThroughProxy(t, front)
	const n = 5
	stream, err := conn.NewStream(grpcContext(t), &echoDesc.Streams[0], "/"+echoServiceName+"/Count")
	if err != nil {
		t.Fatal(err)
	}
	in := rawMsg(strconv.Itoa(n))
	if err := stream.SendMsg(&in); err != nil {
		t.Fatal(err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		var out rawMsg
		if err := stream.RecvMsg(&out); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := strconv.Itoa(i); string(out) != want {
			t.Fatalf("message %d = %q; want %q", i, out, want)
		}
	}
	var extra rawMsg
	if err := stream.RecvMsg(&extra); err != io.EOF {
		t.Fatalf("after %d messages: %q, %v; want io.EOF", n, extra, err)
	}
	if got := stream.Trailer().Get("x-count"); len(got) != 1 || got[0] != strconv.Itoa(n) {
		t.Errorf("trailer x-count = %q; want [%d]", got, n)
	}
}

// TestProxyGRPCBidiStreaming shows a bidirectional stream through the
// gateway: the client reads the header metadata that the server sends
// before any message, then sends a message and reads its echo, several
// times, with both directions open.
func TestProxyGRPCBidiStreaming(t *testing.T) {
	for _, front := range []string{frontH2C, frontTLS} {
		t.Run(front, func(t *testing.T) { testGRPCBidiStreaming(t, front) })
	}
}

func testGRPCBidiStreaming(t *testing.T, front string) {
	conn, _ := grpcThroughProxy(t, front)
	stream, err := conn.NewStream(grpcContext(t), &echoDesc.Streams[1], "/"+echoServiceName+"/Chat")
	if err != nil {
		t.Fatal(err)
	}
	header, err := stream.Header()
	if err != nil {
		t.Fatalf("Header: %v", err)
	}
	if got := header.Get("x-chat"); len(got) != 1 || got[0] != "ready" {
		t.Fatalf("header x-chat = %q; want [ready]", got)
	}
	// The large message needs several HTTP/2 flow-control windows on each
	// side of the gateway.
	for i, msg := range []string{"first", "second", strings.Repeat("large ", 50_000), "last"} {
		in := rawMsg(msg)
		if err := stream.SendMsg(&in); err != nil {
			t.Fatalf("message %d: send: %v", i, err)
		}
		var out rawMsg
		if err := stream.RecvMsg(&out); err != nil {
			t.Fatalf("message %d: receive: %v", i, err)
		}
		if want := "echo: " + msg; string(out) != want {
			t.Fatalf("message %d = %.30q (%d bytes); want %.30q (%d bytes)", i, out, len(out), want, len(want))
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var extra rawMsg
	if err := stream.RecvMsg(&extra); err != io.EOF {
		t.Fatalf("after CloseSend: %q, %v; want io.EOF", extra, err)
	}
}

// TestProxyGRPCDeadline shows that the client's deadline reaches the
// server through the gateway (as grpc-timeout), and that a client that
// cancels its call ends the server's context through the gateway.
//
// A call whose deadline passes is not tested end to end: the server's own
// timer then resets the stream at about the moment the client gives up,
// and which of the two the client hears first is a race even without a
// gateway (DeadlineExceeded, or Canceled direct and Unavailable through the
// gateway's 502).
func TestProxyGRPCDeadline(t *testing.T) {
	conn, svc := grpcThroughProxy(t, frontH2C)

	t.Run("deadline reaches the server", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		clientDeadline, _ := ctx.Deadline()
		in, out := rawMsg("report"), rawMsg(nil)
		if err := conn.Invoke(ctx, "/"+echoServiceName+"/Deadline", &in, &out); err != nil {
			t.Fatalf("Deadline: %v", err)
		}
		seen := <-svc.deadlines // sent before the answer
		if !seen.ok {
			t.Fatal("server saw no deadline; want the client's, from grpc-timeout")
		}
		// grpc-timeout carries a duration rounded up to its unit, so the
		// server's deadline is the client's plus the time in transit.
		if skew := seen.deadline.Sub(clientDeadline); skew < 0 || skew > time.Second {
			t.Errorf("server deadline = client's %+v; want within [0, 1s]", skew)
		}
	})

	t.Run("cancel reaches the server", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() {
			<-svc.arrived
			cancel()
		}()
		in, out := rawMsg("wait"), rawMsg(nil)
		err := conn.Invoke(ctx, "/"+echoServiceName+"/Deadline", &in, &out)
		if got := status.Code(err); got != codes.Canceled {
			t.Errorf("Code = %v; want %v (%v)", got, codes.Canceled, err)
		}
		select {
		case seen := <-svc.deadlines:
			if !errors.Is(seen.end, context.Canceled) {
				t.Errorf("server context ended with %v; want %v", seen.end, context.Canceled)
			}
		case <-time.After(watchdog):
			t.Fatal("the server's context did not end after the client cancelled")
		}
	})
}
