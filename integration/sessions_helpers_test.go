//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// sessMachine is what the machine's own /run and /var/log looked like
// before the test hid them, read through descriptors opened first.
type sessMachine struct {
	run, log *os.File
	before   map[string]string
}

func (m *sessMachine) state() map[string]string {
	out := map[string]string{}
	for _, f := range []struct {
		dir  *os.File
		name string
	}{{m.run, "utmp"}, {m.log, "wtmp"}, {m.log, "lastlog"}, {m.log, "btmp"}} {
		var st unix.Stat_t
		if err := unix.Fstatat(int(f.dir.Fd()), f.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			out[f.name] = "absent"
			continue
		}
		out[f.name] = fmt.Sprintf("size %d mtime %d.%d", st.Size, st.Mtim.Sec, st.Mtim.Nsec)
	}
	return out
}

// sessPrivateRunLog mounts fresh tmpfs over /run and /var/log inside the
// sandbox's mount namespace, so the utmp, wtmp, lastlog and btmp that sshd
// writes, and its privilege separation directory, are the test's own. It
// unmounts them at cleanup and then checks that the machine's login
// records did not change.
func sessPrivateRunLog(t *testing.T) {
	t.Helper()
	m := &sessMachine{}
	var err error
	if m.run, err = os.Open("/run"); err != nil {
		t.Fatal(err)
	}
	if m.log, err = os.Open("/var/log"); err != nil {
		t.Fatal(err)
	}
	m.before = m.state()
	t.Cleanup(func() {
		after := m.state()
		for name, was := range m.before {
			if after[name] != was {
				t.Errorf("the machine's %s changed: %s, then %s", name, was, after[name])
			}
		}
		m.run.Close()
		m.log.Close()
	})
	for _, dir := range []string{"/run", "/var/log"} {
		if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
			t.Fatalf("mount tmpfs on %s: %v", dir, err)
		}
		t.Cleanup(func() {
			if err := unix.Unmount(dir, 0); err != nil {
				t.Errorf("umount %s: %v", dir, err)
				_ = unix.Unmount(dir, unix.MNT_DETACH)
			}
		})
	}
	utmpGID := 0
	if out, err := exec.Command("getent", "group", "utmp").Output(); err == nil {
		if f := strings.Split(strings.TrimSpace(string(out)), ":"); len(f) > 2 {
			utmpGID, _ = strconv.Atoi(f[2])
		}
	}
	if err := os.Mkdir("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.ShowMachineSystemd(); err != nil {
		t.Fatal(err)
	}
	// The bind must go before its /run can (cleanups run last first).
	t.Cleanup(func() { _ = unix.Unmount("/run/systemd", unix.MNT_DETACH) })
	for _, f := range []string{"/run/utmp", "/var/log/wtmp", "/var/log/lastlog", "/var/log/btmp"} {
		if err := os.WriteFile(f, nil, 0o664); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(f, 0, utmpGID); err != nil {
			t.Fatal(err)
		}
	}
}

// sessUser creates a managed user (a member of the marker group, which
// the sessions plugins require before they list or end anything of it)
// with password "*" (a stock sshd refuses key logins to "!") and a client
// key in its authorized_keys; it returns the private key's path. The user
// and every process left of it are removed at cleanup.
func sessUser(t *testing.T, name string) (key string, uid int) {
	t.Helper()
	ensureMarker(t)
	mustRun(t, "useradd", "-m", "-p", "*", "-s", "/bin/sh", "-G", markerGroup, "--", name)
	t.Cleanup(func() {
		sessKillUID(uid)
		if out, err := exec.Command("userdel", "-r", "-f", "--", name).CombinedOutput(); err != nil {
			t.Errorf("userdel: %v %s", err, out)
		}
	})
	out, err := exec.Command("id", "-u", "--", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	uid, _ = strconv.Atoi(strings.TrimSpace(string(out)))
	key = filepath.Join(t.TempDir(), "id_ed25519")
	mustRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hc-sessions-test", "-f", key)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	ssh := filepath.Join("/home", name, ".ssh")
	if err := os.MkdirAll(ssh, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ssh, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{ssh, filepath.Join(ssh, "authorized_keys")} {
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	return key, uid
}

// sessKillUID kills, by pid, what is left of the test user's processes
// (after a failed test): the user exists only for this test.
func sessKillUID(uid int) {
	if uid <= 0 {
		return
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e.Name(), &st) == nil && int(st.Uid) == uid {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// sessClient is one ssh client holding a session open.
type sessClient struct {
	cmd    *exec.Cmd
	out    *logBuffer
	exited chan struct{}
}

// sessOpen opens a session with ssh: with a terminal (-tt, so sshd writes
// a utmp record) or without (`ssh host cmd`). The client is killed at
// cleanup if it is still running.
func sessOpen(t *testing.T, port, user, key string, tty bool, remote string) *sessClient {
	t.Helper()
	args := sshArgs(key, port)
	if tty {
		args = append(args, "-tt")
	} else {
		args = append(args, "-T")
	}
	args = append(args, user+"@127.0.0.1", remote)
	c := &sessClient{cmd: exec.Command("ssh", args...), out: &logBuffer{}, exited: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	})
	return c
}

// waitExit waits for the client to exit.
func (c *sessClient) waitExit(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(within):
		t.Fatalf("ssh client %d still running after %v: %s", c.cmd.Process.Pid, within, c.out)
	}
}

func (c *sessClient) running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// sessProc is a process as the test checks it: its start time (so a
// reused pid does not count) and owner.
type sessProc struct {
	pid   int
	start string
	uid   int
}

// sessStat reads pid's start time and real uid; ok is false when it is
// gone or a zombie.
func sessStat(pid int) (sessProc, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return sessProc{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return sessProc{}, false
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/"+strconv.Itoa(pid), &st); err != nil {
		return sessProc{}, false
	}
	status, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	uid := -1
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid, _ = strconv.Atoi(strings.Fields(rest)[0])
		}
	}
	return sessProc{pid: pid, start: f[19], uid: uid}, true
}

// alive reports whether p still runs.
func (p sessProc) alive() bool {
	now, ok := sessStat(p.pid)
	return ok && now.start == p.start
}
