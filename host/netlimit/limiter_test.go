package netlimit

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMaxFor(t *testing.T) {
	for _, tc := range []struct {
		nofile uint64
		want   int
	}{
		{0, floor}, {64, floor}, {1024, 128}, {4096, 768}, {20000, ceiling}, {1 << 20, ceiling}, {^uint64(0), ceiling},
	} {
		if got := maxFor(tc.nofile); got != tc.want {
			t.Errorf("maxFor(%d) = %d, want %d", tc.nofile, got, tc.want)
		}
	}
	if d := DefaultMax(); d < floor || d > ceiling {
		t.Errorf("DefaultMax() = %d", d)
	}
}

// server serves h on a fresh Unix socket through a Limiter of max.
func server(t *testing.T, max int, h http.Handler) (*Limiter, string, *http.Server, chan error) {
	t.Helper()
	dir, err := os.MkdirTemp("", "nl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l := New(max, Options{Name: "test.sock", Logger: slog.New(slog.DiscardHandler)})
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	l.Attach(hs)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l.Listener(ln)) }()
	t.Cleanup(func() { hs.Close() })
	return l, path, hs, served
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

// keepAlive dials path, makes one request and leaves the connection open
// and idle, as a keep-alive client between requests does.
func keepAlive(t *testing.T, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := bufio.NewReader(c)
	if err := roundTrip(c, r); err != nil {
		t.Fatal(err)
	}
	return c, r
}

func roundTrip(c net.Conn, r *bufio.Reader) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

// TestQuietConnectionsMakeRoom fills a budget of 8 with idle keep-alive
// connections several times over: every newcomer is served at once, the
// host never holds more than 8, and the ones closed for room are the ones
// quiet longest.
func TestQuietConnectionsMakeRoom(t *testing.T) {
	l, path, _, _ := server(t, 8, ok)
	var conns []net.Conn
	var readers []*bufio.Reader
	for range 40 {
		c, r := keepAlive(t, path)
		conns, readers = append(conns, c), append(readers, r)
		if n := l.Open(); n > l.Max() {
			t.Fatalf("%d connections open, budget %d", n, l.Max())
		}
	}
	// The soft mark (7 of 8) holds while quiet connections remain.
	if n := l.Open(); n != l.soft {
		t.Fatalf("%d open after the flood, want the soft mark %d", n, l.soft)
	}
	// The newest connections still work; the oldest were closed.
	last := len(conns) - 1
	if err := roundTrip(conns[last], readers[last]); err != nil {
		t.Fatalf("newest connection: %v", err)
	}
	conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := readers[0].ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("oldest connection: read %v, want EOF (closed for room)", err)
	}
}

// TestBusyConnectionsWait: with every slot holding a request in flight, a
// newcomer waits in the backlog until one ends; none in flight is closed.
func TestBusyConnectionsWait(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		io.WriteString(w, "ok")
	})
	l, path, _, _ := server(t, 2, slow)
	busy := make(chan error, 2)
	for range 2 {
		go func() {
			resp, err := client(path).Get("http://x/slow")
			if err == nil {
				resp.Body.Close()
			}
			busy <- err
		}()
		<-entered
	}
	third := make(chan error, 1)
	go func() {
		resp, err := client(path).Get("http://x/fast")
		if err == nil {
			resp.Body.Close()
		}
		third <- err
	}()
	select {
	case err := <-third:
		t.Fatalf("served past a budget of 2 busy connections: %v", err)
	case <-time.After(300 * time.Millisecond): // a bounded check that it waits
	}
	if n := l.Open(); n != 2 {
		t.Fatalf("%d open, want 2", n)
	}
	close(release)
	for range 2 {
		if err := <-busy; err != nil {
			t.Fatalf("a request in flight failed: %v", err)
		}
	}
	if err := <-third; err != nil {
		t.Fatalf("the waiting request: %v", err)
	}
}

// TestCloseWakesAccept: a server waiting for a slot stops when closed.
func TestCloseWakesAccept(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	_, path, hs, served := server(t, 1, h)
	go client(path).Get("http://x/")
	<-entered
	c, err := net.Dial("unix", path) // accepted, then Accept waits for a slot
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hs.Close()
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still waiting for a slot after Close")
	}
}

// TestConnStateIgnoresOthers: a Limiter leaves alone connections it did
// not accept (another listener of the same server, or a test's pipe).
func TestConnStateIgnoresOthers(t *testing.T) {
	l := New(4, Options{})
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	l.ConnState(a, http.StateIdle)
	if l.quiet.Len() != 0 || l.Open() != 0 {
		t.Fatal("a foreign connection was counted")
	}
}

func client(path string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Dial: func(string, string) (net.Conn, error) { return net.Dial("unix", path) },
	}}
}
