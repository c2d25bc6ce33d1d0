package reap

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/discover"
	"github.com/threefoldtech/hero_codescalers/plugins/procfs/internal/proc"
)

var realProc = proc.FS{Root: "/proc"}

// spawn starts script under sh in its own process group, reaps it when it
// exits, and kills the group at the end of the test. It returns the
// group's source: the shell and everything below it.
func spawn(t *testing.T, script string) (Source, proc.Ref) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	p, err := realProc.Process(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	target := discover.Target{Seeds: []proc.Ref{p.Ref}, UID: os.Getuid()}
	src := func() ([]proc.Ref, error) {
		procs, err := realProc.Scan()
		if err != nil {
			return nil, err
		}
		m := discover.NewSnapshot(procs, os.Getpid()).Members(target)
		target.Seeds = append(target.Seeds, m...)
		return m, nil
	}
	return src, p.Ref
}

// waitMembers waits until the group has n members (the shell started its
// children), with a deadline.
func waitMembers(t *testing.T, src Source, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := src()
		if err != nil {
			t.Fatal(err)
		}
		if len(m) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group has %d members, want %d", len(m), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func assertGone(t *testing.T, src Source) {
	t.Helper()
	if m, err := src(); err != nil || len(m) != 0 {
		t.Fatalf("left: %v %v", m, err)
	}
}

func TestEndCooperative(t *testing.T) {
	for _, noPidfd := range []bool{false, true} {
		src, _ := spawn(t, "sleep 600 & sleep 600 & wait")
		waitMembers(t, src, 3)
		start := time.Now()
		r := &Reaper{Proc: realProc, noPidfd: noPidfd}
		if err := r.End(context.Background(), src, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		// SIGHUP ends them all; End does not sit out the 10s half-grace.
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("noPidfd=%v: took %v", noPidfd, d)
		}
		assertGone(t, src)
	}
}

func TestEndStubborn(t *testing.T) {
	for _, noPidfd := range []bool{false, true} {
		// SIG_IGN survives exec: the sleeps ignore HUP and TERM too.
		src, _ := spawn(t, `trap "" HUP TERM; sleep 600 & sleep 600 & wait`)
		waitMembers(t, src, 3)
		grace := 400 * time.Millisecond
		start := time.Now()
		r := &Reaper{Proc: realProc, noPidfd: noPidfd}
		if err := r.End(context.Background(), src, grace); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < grace || d > grace+5*time.Second {
			t.Fatalf("noPidfd=%v: took %v with grace %v", noPidfd, d, grace)
		}
		assertGone(t, src)
	}
}

// TestEndStopped: a stopped process gets SIGCONT after SIGHUP, so it acts
// on the hangup instead of waiting for SIGKILL.
func TestEndStopped(t *testing.T) {
	src, _ := spawn(t, "kill -STOP $$; sleep 600")
	waitMembers(t, src, 1)
	start := time.Now()
	if err := (&Reaper{Proc: realProc}).End(context.Background(), src, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	assertGone(t, src)
}

// TestEndFollowsForks: a process that forks on every SIGHUP has its new
// children found and ended too.
func TestEndFollowsForks(t *testing.T) {
	src, _ := spawn(t, `trap "sleep 600 &" HUP; while :; do sleep 0.05; done`)
	waitMembers(t, src, 2)
	if err := (&Reaper{Proc: realProc}).End(context.Background(), src, time.Second); err != nil {
		t.Fatal(err)
	}
	assertGone(t, src)
}

// TestReusedPid: a ref whose start time no longer matches is never
// signalled.
func TestReusedPid(t *testing.T) {
	src, ref := spawn(t, "sleep 600")
	waitMembers(t, src, 1)
	stale := proc.Ref{PID: ref.PID, Start: ref.Start + 1}
	h, err := (&Reaper{Proc: realProc}).signal(stale, syscall.SIGKILL)
	if h != nil || err != nil {
		t.Fatalf("signalled a stale ref: %v %v", h, err)
	}
	if !realProc.Current(ref) {
		t.Fatal("the process behind a stale ref was killed")
	}
}

func TestEndInterrupted(t *testing.T) {
	src, _ := spawn(t, `trap "" HUP TERM; sleep 600`)
	waitMembers(t, src, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := (&Reaper{Proc: realProc}).End(ctx, src, time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}
