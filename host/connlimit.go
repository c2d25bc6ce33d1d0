package host

import (
	"context"
	"net"
	"sync"

	"github.com/threefoldtech/hero_codescalers/host/rpc"
)

// Connection caps of the dashboard's listeners: a flood of connections
// to one of them cannot exhaust the host's file descriptors, and the
// live-update streams have their own, smaller cap inside the dashboard
// (dashboard.DefaultMaxStreams) so they cannot take all of these.
const (
	adminSockConns = 64
	tcpConns       = 256
)

// limitConns caps a listener's open connections: Accept waits while n are
// open. It is the one seam for the per-listener limiter of issue 10 §8
// (host/rpc), which replaces this one once it lands.
var limitConns = func(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	sem  chan struct{}
	done chan struct{}
	once sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitedConn gives its slot back once, at Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// Unwrap is the connection underneath, for SO_PEERCRED.
func (c *limitedConn) Unwrap() net.Conn { return c.Conn }

// peerConnContext is rpc.ConnContext through the limiter's wrapper: the
// caller's credentials are read from the Unix connection itself.
func peerConnContext(ctx context.Context, c net.Conn) context.Context {
	for {
		u, ok := c.(interface{ Unwrap() net.Conn })
		if !ok {
			break
		}
		c = u.Unwrap()
	}
	return rpc.ConnContext(ctx, c)
}
