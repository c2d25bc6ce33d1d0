//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// sessBuild builds plugins/<name> into a temporary directory, with its
// manifest beside it as `make build` writes it.
func sessBuild(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(gobin, "build", "-o", bin, modulePath+"/plugins/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	manifest, err := exec.Command(bin, "describe").Output()
	if err != nil {
		t.Fatalf("%s describe: %v", bin, err)
	}
	if err := os.WriteFile(sdk.ManifestPath(bin), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	return bin
}

// sessStart starts a sessions plugin as the host does (go-plugin, gRPC,
// sdk.Handshake); it is killed at cleanup.
func sessStart(t *testing.T, bin string, env ...string) (sessions.Sessions, identity.Identity) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginMap(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	ss, err := rpc.Dispense(sdk.ConcernSessions)
	if err != nil {
		t.Fatal(err)
	}
	id, err := rpc.Dispense(sdk.ConcernIdentity)
	if err != nil {
		t.Fatal(err)
	}
	return ss.(sessions.Sessions), id.(identity.Identity)
}

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
	for _, f := range []string{"/run/utmp", "/var/log/wtmp", "/var/log/lastlog", "/var/log/btmp"} {
		if err := os.WriteFile(f, nil, 0o664); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(f, 0, utmpGID); err != nil {
			t.Fatal(err)
		}
	}
}

// sessUser creates a user with password "*" (a stock sshd refuses key
// logins to "!") and a client key in its authorized_keys; it returns the
// private key's path. The user and every process left of it are removed
// at cleanup.
func sessUser(t *testing.T, name string) (key string, uid int) {
	t.Helper()
	if out, err := exec.Command("useradd", "-m", "-p", "*", "-s", "/bin/sh", "--", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v %s", err, out)
	}
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
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hc-sessions-test", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
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

// sessLog collects a process's output while tests read it.
type sessLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *sessLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *sessLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// sessSSHD runs /usr/sbin/sshd -D -e on a free port of 127.0.0.1 with a
// private config and host key, and stops it, by its process group, at
// cleanup.
func sessSSHD(t *testing.T, usePAM bool) (string, *sessLog) {
	t.Helper()
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	pam := map[bool]string{false: "no", true: "yes"}[usePAM]
	cfg := filepath.Join(dir, "sshd_config")
	os.WriteFile(cfg, []byte(strings.Join([]string{
		"HostKey " + hostKey, "PidFile none", "UsePAM " + pam, "PubkeyAuthentication yes",
		"PasswordAuthentication no", "KbdInteractiveAuthentication no", "AuthorizedKeysFile .ssh/authorized_keys",
		"PermitRootLogin no", "UseDNS no", "PrintMotd no", "PrintLastLog no", "MaxStartups 200", "",
	}, "\n")), 0o600)
	logs := &sessLog{}
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", cfg, "-p", port, "-o", "ListenAddress=127.0.0.1")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	sessWait(t, "sshd listening on "+port, 10*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("sshd exited:\n%s", logs)
		default:
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return port, logs
}

// sessClient is one ssh client holding a session open.
type sessClient struct {
	cmd    *exec.Cmd
	out    *sessLog
	exited chan struct{}
}

// sessOpen opens a session with ssh: with a terminal (-tt, so sshd writes
// a utmp record) or without (`ssh host cmd`). The client is killed at
// cleanup if it is still running.
func sessOpen(t *testing.T, port, user, key string, tty bool, remote string) *sessClient {
	t.Helper()
	args := []string{"-F", "/dev/null", "-i", key, "-p", port, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"}
	if tty {
		args = append(args, "-tt")
	} else {
		args = append(args, "-T")
	}
	args = append(args, user+"@127.0.0.1", remote)
	c := &sessClient{cmd: exec.Command("ssh", args...), out: &sessLog{}, exited: make(chan struct{})}
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

// sessWait polls cond until it holds, failing the test after within.
func sessWait(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	step := 10 * time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(step)
		step = min(step*2, 200*time.Millisecond)
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
