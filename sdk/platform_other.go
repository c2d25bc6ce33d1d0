//go:build !linux

package sdk

import (
	"os"
	"time"

	hclog "github.com/hashicorp/go-hclog"
)

// guardStdout is a no-op off Linux: plugins only run on Linux, this keeps
// the sdk compiling elsewhere for editors and tests of host-side code.
func guardStdout(*os.File) error { return nil }

// watchParent polls getppid() off Linux.
func watchParent(interval time.Duration, log hclog.Logger, onDeath func()) {
	ppid := os.Getppid()
	go func() {
		for range time.Tick(interval) {
			if os.Getppid() != ppid {
				onDeath()
				return
			}
		}
	}()
}
