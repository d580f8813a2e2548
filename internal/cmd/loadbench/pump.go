package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
)

// startPump serves the gopump candidate: no HTTP server, no proxy, only the
// bytes. Each client connection gets its own upstream connection, and a
// goroutine that reads one request head (the load sends GETs without
// bodies), writes it upstream, reads the response by its Content-Length
// and writes it back, reusing one buffer. It does the least a Go program
// can do to forward a request with the runtime's network poller, so its
// figure is the ceiling for any Go proxy on the machine: what separates it
// from nginx is the language runtime's I/O, not HTTP.
func startPump(origin string) (*running, error) {
	addr, ok := bytes.CutPrefix([]byte(origin), []byte("http://"))
	if !ok {
		return nil, errors.New("gopump: origin is not http://")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, on bool) {
		mu.Lock()
		if on {
			conns[c] = true
		} else {
			delete(conns, c)
		}
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				up, err := net.Dial("tcp", string(addr))
				if err != nil {
					c.Close()
					return
				}
				track(c, true)
				track(up, true)
				pump(c, up)
				c.Close()
				up.Close()
				track(c, false)
				track(up, false)
			}()
		}
	}()
	return &running{
		url: "http://" + ln.Addr().String(),
		stop: func() error {
			ln.Close()
			mu.Lock()
			for c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
			return nil
		},
	}, nil
}

// pump forwards requests from client to up and responses back until either
// side closes or sends something it does not expect.
func pump(client, up net.Conn) {
	cr := bufio.NewReaderSize(client, 4096)
	ur := bufio.NewReaderSize(up, 4096)
	buf := make([]byte, 0, 4096)
	for {
		// The request head, to its empty line.
		buf = buf[:0]
		for {
			line, err := cr.ReadSlice('\n')
			if err != nil {
				return
			}
			buf = append(buf, line...)
			if len(line) <= 2 {
				break
			}
		}
		if _, err := up.Write(buf); err != nil {
			return
		}
		// The response head, then Content-Length bytes of body.
		buf = buf[:0]
		n := -1
		for {
			line, err := ur.ReadSlice('\n')
			if err != nil {
				return
			}
			buf = append(buf, line...)
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if n < 0 {
			return
		}
		start := len(buf)
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(ur, buf[start:]); err != nil {
			return
		}
		if _, err := client.Write(buf); err != nil {
			return
		}
	}
}
