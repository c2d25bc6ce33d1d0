package sandbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// The sandbox has a pid namespace of its own. Two sandboxes on one machine
// (tests of several worktrees at once) give their users the same uids,
// and whatever judges processes by uid — userdel refusing an account "in
// use", a delete ending every process of the user with kill(-1) — would
// otherwise see and reach the other sandbox's processes, or the machine's.
// Inside the namespace only the sandbox's own processes exist.
//
// unshare --fork makes the re-executed test binary the namespace's pid 1,
// which must reap the orphans every killed process tree leaves (a zombie
// still counts as a process of its uid). So pid 1 runs the tests in a
// child and only reaps; when it exits the kernel ends whatever the tests
// left running in the namespace.

// initAndWait runs the tests in a child (same arguments, same environment,
// the machine's /etc still as fd 3), reaps every process that ends in the
// namespace, and returns the child's exit code once it exits.
func initAndWait() int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init:", err)
		return 1
	}
	files := []*os.File{os.Stdin, os.Stdout, os.Stderr, os.NewFile(3, "machine-etc")}
	child, err := os.StartProcess(self, os.Args, &os.ProcAttr{Files: files, Env: os.Environ()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init:", err)
		return 1
	}
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "sandbox init: wait:", err)
			return 1
		}
		if pid != child.Pid {
			continue // an orphan of the tests, reaped
		}
		switch {
		case ws.Exited():
			return ws.ExitStatus()
		case ws.Signaled():
			return 128 + int(ws.Signal())
		}
	}
}
