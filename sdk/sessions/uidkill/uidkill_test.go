package uidkill

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// reaper makes the test binary the subreaper of what its children leave
// behind and reaps every child, so the zombies of killed processes vanish
// at once whatever the machine's init does.
var reaper sync.Once

func reapAll() {
	reaper.Do(func() {
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		go func() {
			for {
				var ws unix.WaitStatus
				if _, err := unix.Wait4(-1, &ws, 0, nil); err != nil {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	})
}

// strayUID is a uid no account has: processes started with it touch
// nothing of the machine, and kill(-1) as it reaches only them.
func strayUID() int { return 400_000_000 + rand.IntN(100_000_000) }

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: only root can act as another uid")
	}
	reapAll()
}

// start runs argv in a new session with the given real/effective/saved
// uids (setpriv semantics through SysProcAttr), not waited for by Go: the
// reaper takes it.
func start(t *testing.T, uid int, script string) int {
	t.Helper()
	p, err := os.StartProcess("/bin/sh", []string{"sh", "-c", script}, &os.ProcAttr{
		Sys: &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(p.Pid, syscall.SIGKILL) })
	return p.Pid
}

func waitCount(t *testing.T, uid, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		live, _, err := scan("/proc", uid)
		if err != nil {
			t.Fatal(err)
		}
		if len(live) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("uid %d has %d processes, want %d", uid, len(live), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func assertNone(t *testing.T, uid int) {
	t.Helper()
	live, zombies, err := scan("/proc", uid)
	if err != nil || len(live)+len(zombies) != 0 {
		t.Fatalf("uid %d still has %v and zombies %v (%v)", uid, live, zombies, err)
	}
}

// TestEndForkLoop: a process that ignores SIGTERM and forks without pause
// — each child detached, so it is nobody's descendant by the time a scan
// sees it — is ended with everything it forked, and nothing of the uid is
// left, zombies included.
func TestEndForkLoop(t *testing.T) {
	needRoot(t)
	uid := strayUID()
	start(t, uid, `trap "" TERM HUP; while :; do (sleep 30 &) ; done`)
	waitCount(t, uid, 4)
	begin := time.Now()
	n, err := Killer{}.End(context.Background(), uid, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ended %d processes of uid %d in %v", n, uid, time.Since(begin))
	if n < 4 {
		t.Errorf("counted %d processes, want at least 4", n)
	}
	assertNone(t, uid)
	assertNoThreadOf(t, uid)
}

// assertNoThreadOf checks that no thread of this process kept the uid it
// took to signal: each dies with its goroutine, and the main thread
// never takes it.
func assertNoThreadOf(t *testing.T, uid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, task := range tasks {
			tid, _ := strconv.Atoi(task.Name())
			if _, ok := readProcess("/proc/self/task", tid, uid); ok {
				left = append(left, task.Name())
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads %v of this process still have uid %d", left, uid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEndCooperative: processes that exit on SIGTERM do not sit out the
// grace period.
func TestEndCooperative(t *testing.T) {
	needRoot(t)
	uid := strayUID()
	start(t, uid, `sleep 60 & sleep 60 & wait`)
	waitCount(t, uid, 3)
	begin := time.Now()
	if _, err := (Killer{}).End(context.Background(), uid, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	assertNone(t, uid)
}

// helperEnv makes the test binary a process that sets only its effective
// uid (real and saved stay root) and sleeps: an exec would copy the
// effective uid into the saved one.
const helperEnv = "UIDKILL_TEST_EUID"

func TestMain(m *testing.M) {
	if v := os.Getenv(helperEnv); v != "" {
		uid, _ := strconv.Atoi(v)
		if err := syscall.Setresuid(0, uid, 0); err != nil {
			os.Exit(3)
		}
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestEndEffectiveOnly: a process whose effective uid alone is the
// target's (kill(-1) as the uid cannot reach it; userdel counts it) is
// signalled directly.
func TestEndEffectiveOnly(t *testing.T) {
	needRoot(t)
	uid := strayUID()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+strconv.Itoa(uid))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitCount(t, uid, 1)
	if live, _, _ := scan("/proc", uid); len(live) != 1 || live[0].reachable {
		t.Fatalf("want one unreachable process, got %+v", live)
	}
	if _, err := (Killer{}).End(context.Background(), uid, 0); err != nil {
		t.Fatal(err)
	}
	assertNone(t, uid)
}

// TestEndNothing: a uid without processes is done at once.
func TestEndNothing(t *testing.T) {
	needRoot(t)
	if n, err := (Killer{}).End(context.Background(), strayUID(), time.Second); n != 0 || err != nil {
		t.Fatalf("%d %v", n, err)
	}
}

// TestEndRefusesRootAndSelf: kill(-1) as root would end the machine, as
// the plugin's own uid its host.
func TestEndRefusesRootAndSelf(t *testing.T) {
	for _, uid := range []int{0, -1, os.Getuid(), os.Geteuid()} {
		if _, err := (Killer{}).End(context.Background(), uid, 0); !sdkerr.Is(err, sdkerr.InvalidArgument) {
			t.Errorf("End(%d) = %v, want InvalidArgument", uid, err)
		}
	}
}
