package sdk

import (
	"os"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"
)

// watchParent makes the plugin die with its host. PR_SET_PDEATHSIG asks the
// kernel for SIGTERM when the parent exits, which Serve handles like any
// SIGTERM. The kernel's notice covers only the direct parent and fires when
// the parent's thread exits, so a goroutine also polls getppid(): once the
// plugin is reparented (its parent, the host or a sudo in between, is
// gone), it stops as well.
func watchParent(interval time.Duration, log hclog.Logger, onDeath func()) {
	ppid := os.Getppid()
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGTERM), 0, 0, 0); err != nil {
		log.Warn("PR_SET_PDEATHSIG failed; relying on polling", "error", err)
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for range t.C {
			if p := os.Getppid(); p != ppid {
				log.Info("parent exited", "parent", ppid, "now", p)
				onDeath()
				return
			}
		}
	}()
}
