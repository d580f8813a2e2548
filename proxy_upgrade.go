package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/vivremotion/gateway/balancer"
)

// closeWriter is a connection that can close its sending side alone.
type closeWriter interface{ CloseWrite() error }

// tunnel completes a protocol upgrade (WebSocket and the like): it sends the
// upstream's 101 response to the client and then copies bytes both ways
// until both sides are done. When one side stops sending, the other is told
// by a half-close, so either may still finish. The tunnel ends early when
// r's context is cancelled, which a server shutting down does.
func (a *attempt) tunnel(w http.ResponseWriter, r *http.Request, res *http.Response, reqType string) error {
	resType := upgradeType(res.Header)
	backend, ok := res.Body.(io.ReadWriteCloser)
	switch {
	case reqType == "":
		res.Body.Close()
		return a.upgradeError(fmt.Errorf("upstream switched protocols to %q unasked", resType))
	case !isPrintableASCII(resType) || !strings.EqualFold(reqType, resType):
		res.Body.Close()
		return a.upgradeError(fmt.Errorf("upstream switched to protocol %q when %q was asked", resType, reqType))
	case !ok:
		res.Body.Close()
		return a.upgradeError(errors.New("upstream connection cannot be written after the upgrade"))
	}
	defer backend.Close()

	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return a.upgradeError(fmt.Errorf("client connection cannot be taken over: %w", err))
	}
	defer client.Close()

	removeHopByHop(res.Header)
	res.Header["Connection"] = []string{"Upgrade"}
	res.Header["Upgrade"] = []string{resType}
	h := w.Header()
	for k, vs := range res.Header {
		h[k] = append(h[k], vs...)
	}
	res.Header = h
	res.Body = nil
	res.ContentLength = 0 // else Write adds "Connection: close" to a 101
	res.Close = false
	if err := res.Write(brw); err != nil {
		a.o.Class = balancer.Canceled // the client is gone
		return nil
	}
	if err := brw.Flush(); err != nil {
		return nil
	}

	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-r.Context().Done():
			backend.Close()
			client.Close()
		case <-done:
		}
	}()

	errc := make(chan error, 2)
	// Read the client through the raw connection, after what the server
	// had already buffered: reading through brw would go through the
	// server's connection reader, which cancels r's context at the
	// client's half-close and so tore the tunnel down before the upstream
	// could answer.
	var fromClient io.Reader = client
	if n := brw.Reader.Buffered(); n > 0 {
		buffered, _ := brw.Reader.Peek(n)
		fromClient = io.MultiReader(bytes.NewReader(buffered), client)
	}
	go pipe(backend, fromClient, errc)
	go pipe(client, backend, errc)
	for range 2 {
		if err := <-errc; err != nil {
			// One way broke: stop both, so the other copy ends too.
			backend.Close()
			client.Close()
		}
	}
	return nil
}

// pipe copies src to dst and then half-closes dst, so that its peer sees the
// end of the stream while the other way may still carry data.
func pipe(dst io.Writer, src io.Reader, errc chan<- error) {
	bp := copyBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(dst, src, *bp)
	copyBufs.Put(bp)
	if err == nil {
		if cw, ok := dst.(closeWriter); ok {
			err = cw.CloseWrite()
			if errors.Is(err, net.ErrClosed) {
				err = nil
			}
		}
	}
	errc <- err
}

func (a *attempt) upgradeError(err error) error {
	return &Error{Op: "upgrade", Upstream: a.u.URL.Host, Status: http.StatusBadGateway, Err: err}
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}
