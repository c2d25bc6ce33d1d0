package sdnotify

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNotifySendsTheDatagram: what systemd would read from its socket.
func TestNotifySendsTheDatagram(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	if sent, err := Ready("serving"); !sent || err != nil {
		t.Fatalf("Ready: %v %v", sent, err)
	}
	if _, err := Reloading(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, want := range []string{"READY=1\nSTATUS=serving", "RELOADING=1\nMONOTONIC_USEC="} {
		n, err := conn.Read(buf)
		if err != nil || !strings.HasPrefix(string(buf[:n]), want) {
			t.Fatalf("got %q (%v), want %q", buf[:n], err, want)
		}
	}
}

func TestNoSocketNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := Ready("x"); sent || err != nil {
		t.Fatalf("%v %v", sent, err)
	}
}
