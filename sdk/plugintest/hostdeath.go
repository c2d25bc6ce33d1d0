package plugintest

import (
	"bufio"
	"context"
	"fmt"
	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// helperEnv switches a binary that imports plugintest into the
// intermediate parent of the host-death check (see init).
const helperEnv = "HERO_CODESCALERS_PLUGINTEST_HELPER"

// init turns this process into the intermediate when helperEnv says so.
// The host-death check needs the plugin to have a parent that it can kill
// with SIGKILL, as a sudo between host and plugin would be: re-executing
// the current binary (the test binary or the hero_codescalers CLI, both
// import this package) gives one without a shell and without building
// anything. The intermediate starts the plugin on its own stdio, reports
// the plugin's pid on fd 3, and waits to be killed.
//
// With sandboxEnv set instead, this process is the sandbox helper (see
// enterSandbox) that every start of the plugin goes through as root; the
// intermediate's own child is such a helper.
func init() {
	switch {
	case os.Getenv(helperEnv) == "intermediate":
		os.Exit(intermediate(os.Args[1:]))
	case os.Getenv(sandboxEnv) != "":
		os.Exit(enterSandbox(os.Args[1:]))
	}
}

func intermediate(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "plugintest intermediate: want the plugin's command")
		return 2
	}
	os.Unsetenv(helperEnv)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "plugintest intermediate:", err)
		return 1
	}
	pidOut := os.NewFile(3, "pid")
	fmt.Fprintln(pidOut, cmd.Process.Pid)
	pidOut.Close()
	_ = cmd.Wait()
	return 0
}

// hostDeath starts the plugin under an intermediate parent, SIGKILLs that
// parent once the plugin has handshaken, and waits for the plugin to go.
func (k *kit) hostDeath(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return conformance.Skip("cannot re-execute this program: " + err.Error())
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer pr.Close()
	argv, env, err := k.command(k.binary)
	if err != nil {
		return err
	}
	s, err := k.launch(append([]string{self}, argv...), append(env, helperEnv+"=intermediate"), pw)
	pw.Close()
	if err != nil {
		// launch killed the intermediate; the plugin it started (one that
		// never handshook) would outlive it, so it goes too.
		if pid, perr := readPid(pr); perr == nil && alive(pid, procStart(pid)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		return err
	}
	defer os.RemoveAll(s.socketDir)
	pid, err := readPid(pr)
	if err != nil {
		s.kill()
		return err
	}
	start := procStart(pid)
	s.kill() // SIGKILL the intermediate: the plugin's parent dies at once
	return k.waitGone(ctx, pid, start)
}

func readPid(r *os.File) (int, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("intermediate sent no pid: %w", err)
	}
	return strconv.Atoi(strings.TrimSpace(line))
}

// waitGone waits for the process to exit (or be a zombie nobody reaps),
// and kills it when it outlives the timeout.
func (k *kit) waitGone(ctx context.Context, pid int, start string) error {
	begin := time.Now()
	deadline := time.After(k.opts.Timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if !alive(pid, start) {
			return conformance.Note(fmt.Sprintf("exited %s after its parent was killed", time.Since(begin).Round(time.Millisecond)))
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			if alive(pid, start) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			return fmt.Errorf("plugin pid %d still running %s after its parent was killed (no parent-death watchdog?)", pid, k.opts.Timeout)
		}
	}
}

// procStart is the process's start time from /proc, which tells it from a
// later process that reused the pid.
func procStart(pid int) string {
	state, start := procStat(pid)
	if state == "" {
		return ""
	}
	return start
}

// alive reports whether the process still runs. A zombie leader is not
// enough to call it gone: the leader of a multi-threaded process (any Go
// plugin) turns Z while its other threads are still exiting and still hold
// its working directory and files, so only a zombie left alone in its
// thread group has let go of everything.
func alive(pid int, start string) bool {
	state, st := procStat(pid)
	if state == "" || state == "X" || st != start {
		return false
	}
	if state != "Z" {
		return true
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return err == nil && len(tasks) > 1
}

// procStat reads the state and start time fields of /proc/<pid>/stat.
func procStat(pid int) (state, start string) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", ""
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", ""
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return "", ""
	}
	return fields[0], fields[19] // state, starttime (fields 3 and 22)
}
