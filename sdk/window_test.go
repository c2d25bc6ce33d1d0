package sdk

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// pingCounter is a client connection that counts the PING frames (not
// their ACKs) the server sends: grpc-go's bandwidth-delay estimator's.
type pingCounter struct {
	net.Conn
	mu    sync.Mutex
	buf   []byte
	pings int
}

func (c *pingCounter) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p[:n]...)
	for len(c.buf) >= 9 { // an HTTP/2 frame header, then its payload
		size := int(binary.BigEndian.Uint32(append([]byte{0}, c.buf[:3]...)))
		if len(c.buf) < 9+size {
			break
		}
		if c.buf[3] == 0x6 && c.buf[4]&0x1 == 0 {
			c.pings++
		}
		c.buf = c.buf[9+size:]
	}
	return n, err
}

// serverPings makes 200 calls from a client with the sdk's window to srv,
// and returns the PINGs srv sent.
func serverPings(t *testing.T, srv *grpc.Server) int {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(ln)
	defer srv.Stop()
	counter := &pingCounter{}
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "unix", path)
		counter.Conn = c
		return counter, err
	}
	conn, err := grpc.NewClient("passthrough:///plugin", append(ClientWindow(),
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithContextDialer(dial))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	for range 200 {
		if _, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	return counter.pings
}

// TestWindowStopsPings: a plugin's server (the one the stopper makes for
// go-plugin) sends no bandwidth-delay PINGs to a client with the sdk's
// window, as the host's is; a stock server sends them as calls go (the
// counter sees them).
func TestWindowStopsPings(t *testing.T) {
	// The stopper points os.Stdout and os.Stderr at its stdio at the
	// first call: here, at what they are.
	stdout, stderr := os.Stdout, os.Stderr
	defer func() { os.Stdout, os.Stderr = stdout, stderr }()
	st := newStopper(hclog.NewNullLogger(), 0, os.Stderr)
	if n := serverPings(t, st.newServer(nil)); n != 0 {
		t.Errorf("a plugin's server sent %d PINGs in 200 calls, want none", n)
	}
	if n := serverPings(t, grpc.NewServer()); n == 0 {
		t.Errorf("a stock server sent no PING in 200 calls: the counter does not see them")
	}
}
