package client

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// servedBy listens on sock as uid 65534 (setpriv, python3) and returns
// a function that reports how many bytes the first connection carried.
func servedBy(t *testing.T, sock string) func() string {
	t.Helper()
	script := `import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept(); c.settimeout(10)
n = 0
try:
    while True:
        b = c.recv(4096)
        if not b: break
        n += len(b)
        if b"\r\n\r\n" in b: break
except Exception: pass
print(n, flush=True)`
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script, sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("the listener did not start: %q", lines.Text())
	}
	return func() string {
		lines.Scan()
		return lines.Text()
	}
}

// dirOf makes a socket dir owned by uid 65534 in parent.
func dirOf(t *testing.T, parent string) string {
	t.Helper()
	d, err := os.MkdirTemp(parent, "hc-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	os.Chmod(d, 0o755)
	sd := filepath.Join(d, "hero_codescalers")
	if err := os.Mkdir(sd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sd, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	return sd
}

// TestPeerVouchedFor: a socket another user may have planted (its dir
// is under a directory everyone can write, /tmp) gets nothing from the
// client; the same account's socket under a directory only root can
// write (the driver's /run/hero_codescalers) is talked to.
func TestPeerVouchedFor(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the listener runs as another account (uid 65534)")
	}
	for _, tool := range []string{"setpriv", "/usr/bin/python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	planted := filepath.Join(dirOf(t, "/tmp"), "rpc.sock")
	got := servedBy(t, planted)
	c := New(planted)
	err := c.Call(ctx, "fleet.join", map[string]string{"secret": "hunter2"}, nil)
	var up *UntrustedPeerError
	if !errors.As(err, &up) || up.UID != 65534 || !strings.Contains(err.Error(), "/tmp is writable by other users") {
		t.Fatalf("a socket under /tmp served by uid 65534: %v", err)
	}
	if IsUnreachable(err) {
		t.Error("an untrusted peer is reported as no host at all")
	}
	c.Close()
	if n := got(); n != "0" {
		t.Errorf("the planted listener received %s bytes", n)
	}

	if _, err := os.Stat("/run"); err != nil {
		t.Skip("no /run")
	}
	vouched := filepath.Join(dirOf(t, "/run"), "rpc.sock")
	got = servedBy(t, vouched)
	c = New(vouched)
	defer c.Close()
	cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
	defer ccancel()
	err = c.Call(cctx, "health", nil, nil)
	if errors.As(err, &up) {
		t.Fatalf("a socket under /run served by uid 65534: %v", err)
	}
	if n := got(); n == "0" || n == "" {
		t.Errorf("the vouched-for listener received %q bytes", n)
	}
}
