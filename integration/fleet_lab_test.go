//go:build integration

package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The fleet lab: several nodes on this machine, each in its own network
// namespace (a veth to a bridge in a switch namespace, and a 400::/7
// address added with nodad, as mycelium would give it) and its own mount
// namespace (a copy of the sandbox's /etc, a btrfs /home on its own loop
// device, private /run and /var/log), so each node has its own accounts,
// homes, sshd and host. A namespace is held by this test binary run as a
// holder (fleetNSMain); hosts, sshd and tools enter it with nsenter.

// envNS makes the test binary a namespace holder: "node" or "switch".
const envNS = "HC_FLEET_NS"

// fleetNSMain runs the holder when the test binary was started as one; it
// reports whether it did (TestMain then exits with its code).
func fleetNSMain() (int, bool) {
	role := os.Getenv(envNS)
	if role == "" {
		return 0, false
	}
	if err := nsSetUp(role); err != nil {
		fmt.Fprintln(os.Stderr, "namespace holder:", err)
		return 1, true
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // the test closes stdin to end it
	return 0, true
}

// nsSetUp makes the holder's namespaces what a node (or the switch) needs.
func nsSetUp(role string) error {
	steps := [][]string{{"ip", "link", "set", "lo", "up"}}
	switch role {
	case "switch":
		steps = append(steps, []string{"ip", "link", "add", "br0", "type", "bridge"}, []string{"ip", "link", "set", "br0", "up"})
	case "node":
		steps = append(steps,
			[]string{"mount", "--bind", os.Getenv("HC_FLEET_NS_ETC"), "/etc"},
			[]string{"mount", os.Getenv("HC_FLEET_NS_DEV"), "/home"},
			[]string{"mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"},
			[]string{"mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/var/log"},
		)
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	if role == "node" {
		for _, f := range []string{"/run/utmp", "/var/log/wtmp", "/var/log/lastlog", "/var/log/btmp"} {
			if err := os.WriteFile(f, nil, 0o664); err != nil {
				return err
			}
		}
		for _, d := range []string{"/run/sshd", "/run/lock"} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

// holder is a running namespace holder.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startHolder starts the test binary as a holder of role in fresh mount
// and network namespaces, with env, and waits until it is set up.
func startHolder(t *testing.T, role string, env ...string) *holder {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--net", "--", self)
	cmd.Env = append(append(os.Environ(), envNS+"="+role), env...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(h.stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		h.stop()
		t.Fatalf("namespace holder %s: %q %v\n%s", role, line, err, stderr.String())
	}
	return h
}

// stop ends the holder; its namespaces go when their last process does.
func (h *holder) stop() {
	if h.cmd.Process == nil {
		return
	}
	h.stdin.Close()
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = h.cmd.Process.Kill()
		<-done
	}
	h.cmd.Process = nil
}

func (h *holder) pid() string { return strconv.Itoa(h.cmd.Process.Pid) }

// in returns a command run inside the holder's mount and network
// namespaces (nsenter execs it: its pid is the command's own).
func (h *holder) in(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--target", h.pid(), "--mount", "--net", "--", name}, args...)...)
}

// inNet is like in, in the network namespace only (the test's files).
func (h *holder) inNet(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--target", h.pid(), "--net", "--", name}, args...)...)
}

// must runs a command inside the holder and fails the test if it fails.
func (h *holder) must(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := h.in(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("in %s: %s %s: %v\n%s", h.pid(), name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// dial opens a TCP connection from inside the holder's network namespace:
// on a thread of its own moved there, which is then dropped (a goroutine
// that ends while locked to its thread ends the thread).
func (h *holder) dial(ctx context.Context, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(filepath.Join("/proc", h.pid(), "ns", "net"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
		}
		if err != nil {
			ch <- result{err: err}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}
