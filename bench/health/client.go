package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
)

// conn is one keep-alive HTTP/1.1 client on its own connection. It sends
// a prepared request and reads the answer with a minimal parser, so the
// clients, which share the machine's cores with the server, spend as
// little CPU as they can: net/http's Transport at 64 clients redials when
// its pool is momentarily empty and measures its own churn more than the
// server.
type conn struct {
	c   net.Conn
	br  *bufio.Reader
	req []byte
}

func dial(sock string) (*conn, error) {
	c, err := net.Dial("unix", sock)
	if err != nil {
		return nil, err
	}
	req := fmt.Appendf(nil, "POST /rpc HTTP/1.1\r\nHost: hc\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(healthCall), healthCall)
	return &conn{c: c, br: bufio.NewReaderSize(c, 4096), req: req}, nil
}

var errStatus = errors.New("status is not 200")

// do sends the request and reads the whole response.
func (c *conn) do() error {
	if _, err := c.c.Write(c.req); err != nil {
		return err
	}
	status, err := c.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return errStatus
	}
	length := -1
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length < 0 {
		return errors.New("no Content-Length")
	}
	_, err = c.br.Discard(length)
	return err
}

func (c *conn) Close() error { return c.c.Close() }

var _ io.Closer = (*conn)(nil)
