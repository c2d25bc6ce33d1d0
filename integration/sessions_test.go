//go:build integration

package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/plugins/logind/fakelogind"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

const sessUserName = "hcsess"

func sessRequireSSH(t *testing.T) {
	t.Helper()
	sandbox.Require(t)
	for _, tool := range []string{"/usr/sbin/sshd", "ssh", "ssh-keygen", "useradd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
}

// sessProcfs prepares a test of the procfs plugin on a real sshd: private
// /run and /var/log, the test user with a key, and the plugin started.
func sessProcfs(t *testing.T) (ss sessions.Sessions, key string, uid int) {
	t.Helper()
	sessRequireSSH(t)
	bin := buildPlugin(t, "procfs")
	sessPrivateRunLog(t)
	key, uid = sessUser(t, sessUserName)
	return dispense[sessions.Sessions](t, startPlugin(t, bin), sdk.ConcernSessions), key, uid
}

// TestSessionsProcfs opens real sessions over a real sshd — one with a
// terminal (utmp has it) and one without (only /proc has it) — and checks
// that the procfs plugin lists them with user, terminal, remote host and
// processes, ends one by id and then all of the user's, and that the ssh
// clients see their connections close. It runs against a stock sshd with
// UsePAM no (sessions named by their sshd monitor) and with UsePAM yes
// (pam_loginuid: sessions named by their audit session id).
func TestSessionsProcfs(t *testing.T) {
	ss, key, uid := sessProcfs(t)
	for _, pam := range []bool{false, true} {
		name := map[bool]string{false: "UsePAM=no", true: "UsePAM=yes"}[pam]
		t.Run(name, func(t *testing.T) { sessLifecycle(t, ss, key, uid, pam) })
	}
}

func sessLifecycle(t *testing.T, ss sessions.Sessions, key string, uid int, pam bool) {
	ctx := context.Background()
	port, logs := startSSHD(t, sshdOptions{UsePAM: pam})
	pty := sessOpen(t, port, sessUserName, key, true, "sleep 600")
	// the remote command ignores SIGHUP and SIGTERM: only SIGKILL ends it
	notty := sessOpen(t, port, sessUserName, key, false, `trap "" HUP TERM; sleep 601`)
	var list []sessions.Session
	waitFor(t, "two sessions listed", 15*time.Second, func() bool {
		var err error
		list, err = ss.ListSessions(ctx, sessUserName)
		if err != nil {
			t.Fatal(err)
		}
		return len(list) == 2 && sessHasCmd(list[0], "sleep 60") && sessHasCmd(list[1], "sleep 60")
	})
	t.Logf("sessions: %+v", list)
	byTTY := map[bool]sessions.Session{}
	for _, s := range list {
		byTTY[s.TTY != ""] = s
		if s.User != sessUserName || s.RemoteHost != "127.0.0.1" || time.Since(s.Started) > time.Minute || s.Started.After(time.Now().Add(2*time.Second)) {
			t.Errorf("session %+v: want user %s from 127.0.0.1 started just now", s, sessUserName)
		}
		if pam != (s.ID[0] >= '0' && s.ID[0] <= '9') {
			t.Errorf("session id %q: want an audit session id with PAM, a p<pid>-<start> id without", s.ID)
		}
		for _, pid := range s.PIDs {
			if p, ok := sessStat(pid); ok && p.uid != uid {
				t.Errorf("session %s lists pid %d of uid %d", s.ID, pid, p.uid)
			}
		}
	}
	if !strings.HasPrefix(byTTY[true].TTY, "pts/") || byTTY[false].ID == "" {
		t.Fatalf("want one session on a pts and one without a terminal: %+v", list)
	}
	sessUtmpNames(t, sessUserName)
	procs := sessSnapshot(list)
	if !pam {
		// End the session without a terminal alone: its sleep ignores
		// SIGHUP and SIGTERM, so it takes SIGKILL after the grace period.
		start := time.Now()
		if err := ss.KillSession(ctx, byTTY[false].ID, time.Second); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("KillSession returned after %v, before the 1s grace ran out for a process ignoring SIGTERM", d)
		}
		notty.waitExit(t, 10*time.Second)
		sessGone(t, procs[byTTY[false].ID])
		if !pty.running() {
			t.Fatal("ending one session ended the other")
		}
		if err := ss.KillSession(ctx, byTTY[false].ID, 0); err != nil {
			t.Fatalf("KillSession of an ended session: %v", err)
		}
	}
	start := time.Now()
	n, err := ss.KillUserSessions(ctx, sessUserName, 2*time.Second)
	if err != nil {
		t.Fatalf("KillUserSessions: %v\nsshd:\n%s", err, logs)
	}
	t.Logf("KillUserSessions ended %d session(s) in %v", n, time.Since(start))
	if want := map[bool]int{false: 1, true: 2}[pam]; n != want {
		t.Errorf("KillUserSessions ended %d sessions, want %d", n, want)
	}
	pty.waitExit(t, 10*time.Second)
	notty.waitExit(t, 10*time.Second)
	for _, ps := range procs {
		sessGone(t, ps)
	}
	if left, err := ss.ListSessions(ctx, sessUserName); err != nil || len(left) != 0 {
		t.Fatalf("after KillUserSessions: %+v %v", left, err)
	}
	if n, err := ss.KillUserSessions(ctx, sessUserName, 0); err != nil || n != 0 {
		t.Fatalf("KillUserSessions again: %d %v", n, err)
	}
}

// sessHasCmd reports whether one of the session's processes runs cmd: the
// session is listed once its remote command started.
func sessHasCmd(s sessions.Session, cmd string) bool {
	for _, pid := range s.PIDs {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if strings.Contains(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})), cmd) {
			return true
		}
	}
	return false
}

// sessSnapshot records the listed processes with their start times.
func sessSnapshot(list []sessions.Session) map[string][]sessProc {
	out := map[string][]sessProc{}
	for _, s := range list {
		for _, pid := range s.PIDs {
			if p, ok := sessStat(pid); ok {
				out[s.ID] = append(out[s.ID], p)
			}
		}
	}
	return out
}

// sessGone checks that none of ps still runs.
func sessGone(t *testing.T, ps []sessProc) {
	t.Helper()
	for _, p := range ps {
		if p.alive() {
			t.Errorf("pid %d still runs", p.pid)
		}
	}
}

// sessUtmpNames checks that sshd wrote a record for user into the
// private utmp (the plugin read the terminal from there).
func sessUtmpNames(t *testing.T, user string) {
	t.Helper()
	b, err := os.ReadFile("/run/utmp")
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%384 != 0 || !bytes.Contains(b, []byte(user+"\x00")) {
		t.Errorf("/run/utmp (%d bytes) has no record of %s", len(b), user)
	}
}

// TestSessionsProcfsListLatency measures ListSessions through the plugin
// (gRPC included) with 0, 10 and 50 open sessions, and one
// KillUserSessions of them all.
func TestSessionsProcfsListLatency(t *testing.T) {
	ss, key, _ := sessProcfs(t)
	port, _ := startSSHD(t, sshdOptions{})
	ctx := context.Background()
	var clients []*sessClient
	for _, n := range []int{0, 10, 50} {
		for len(clients) < n {
			clients = append(clients, sessOpen(t, port, sessUserName, key, false, "sleep 600"))
			if len(clients)%10 == 0 { // sshd's MaxStartups: let a batch log in first
				sessWaitCount(t, ss, len(clients))
			}
		}
		sessWaitCount(t, ss, n)
		times := make([]time.Duration, 9)
		for i := range times {
			start := time.Now()
			if _, err := ss.ListSessions(ctx, ""); err != nil {
				t.Fatal(err)
			}
			times[i] = time.Since(start)
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		procs, _ := os.ReadDir("/proc")
		t.Logf("ListSessions with %2d sessions (%d /proc entries): median %v, min %v, max %v",
			n, len(procs), times[len(times)/2], times[0], times[len(times)-1])
	}
	start := time.Now()
	n, err := ss.KillUserSessions(ctx, sessUserName, 5*time.Second)
	if err != nil || n != len(clients) {
		t.Fatalf("KillUserSessions: %d %v", n, err)
	}
	t.Logf("KillUserSessions of %d sessions: %v", n, time.Since(start))
	for _, c := range clients {
		c.waitExit(t, 10*time.Second)
	}
}

func sessWaitCount(t *testing.T, ss sessions.Sessions, n int) {
	t.Helper()
	waitFor(t, strconv.Itoa(n)+" sessions listed", 60*time.Second, func() bool {
		l, err := ss.ListSessions(context.Background(), sessUserName)
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, s := range l {
			if sessHasCmd(s, "sleep 600") {
				ready++
			}
		}
		return ready == n
	})
}

// TestSessionsConformance runs the sdk's conformance kit on both sessions
// plugins: procfs, and logind twice — where no logind runs (this machine:
// Probe says so, every call is Unavailable) and against a fake logind on
// a private D-Bus daemon, through the real binary.
func TestSessionsConformance(t *testing.T) {
	sandbox.Require(t)
	procfs := buildPlugin(t, "procfs")
	logind := buildPlugin(t, "logind")
	t.Run("procfs", func(t *testing.T) {
		rep := plugintest.Run(t, procfs, plugintest.Options{Destructive: true, ScratchDir: t.TempDir()})
		t.Logf("\n%s", rep)
	})
	t.Run("logind-absent", func(t *testing.T) {
		rep := plugintest.Run(t, logind, plugintest.Options{ScratchDir: t.TempDir(),
			Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + t.TempDir() + "/no-bus"}})
		t.Logf("\n%s", rep)
		if res, _ := rep.Result("probe"); !strings.Contains(res.Reason, "not ready: systemd-logind is not running") {
			t.Errorf("probe: %+v", res)
		}
		c := startPlugin(t, logind, "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+t.TempDir()+"/no-bus")
		ss, id := dispense[sessions.Sessions](t, c, sdk.ConcernSessions), dispense[identity.Identity](t, c, sdk.ConcernIdentity)
		if r, err := id.Probe(context.Background()); err != nil || r.Ready {
			t.Errorf("Probe: %+v %v", r, err)
		}
		if _, err := ss.ListSessions(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "systemd-logind is not running") {
			t.Errorf("ListSessions without logind: %v", err)
		}
	})
	t.Run("logind-fake", func(t *testing.T) {
		_, uid := sessUser(t, sessUserName)
		fake := fakelogind.New(&fakelogind.Session{ID: "4", User: sessUserName, UID: uint32(uid), TTY: "pts/7", State: "active",
			Leader: 1, PIDs: []uint32{1}, Timestamp: uint64(time.Now().UnixMicro())},
			&fakelogind.Session{ID: "5", User: "root", UID: 0, State: "active", Leader: 1, PIDs: []uint32{1},
				Timestamp: uint64(time.Now().UnixMicro())})
		addr := fakelogind.Start(t, fake)
		bus := filepath.Dir(strings.TrimPrefix(addr, "unix:path="))
		rep := plugintest.Run(t, logind, plugintest.Options{ScratchDir: t.TempDir(), Env: []string{"DBUS_SYSTEM_BUS_ADDRESS=" + addr},
			Keep: []string{bus}}) // the kit's sandbox hides /tmp from the plugin
		if res, _ := rep.Result("probe"); res.Status != plugintest.Pass || strings.Contains(res.Reason, "not ready") {
			t.Errorf("the plugin did not reach the fake logind from its sandbox: %+v", res)
		}
		t.Logf("\n%s", rep)
		ss := dispense[sessions.Sessions](t, startPlugin(t, logind, "DBUS_SYSTEM_BUS_ADDRESS="+addr), sdk.ConcernSessions)
		list, err := ss.ListSessions(context.Background(), sessUserName)
		if err != nil || len(list) != 1 || list[0].ID != "4" || list[0].TTY != "pts/7" {
			t.Errorf("through the binary: %+v %v", list, err)
		}
		// root's session is neither listed nor ended, whatever the caller
		// asks: the plugin judges by its own policy.
		if all, err := ss.ListSessions(context.Background(), ""); err != nil || len(all) != 1 {
			t.Errorf("everyone's sessions: %+v %v", all, err)
		}
		if _, err := ss.ListSessions(context.Background(), "root"); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("root's sessions: %v", err)
		}
		if err := ss.KillSession(context.Background(), "5", 0); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("root's session killed: %v", err)
		}
	})
}
