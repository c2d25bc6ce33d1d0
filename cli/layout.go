package cli

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// Where the package puts the system host, and how the CLI recognises it.
const (
	systemRunBase   = "/run"
	systemStateBase = "/var/lib"
	// unitName is the package's systemd unit of instance 0.
	unitName = "hero_codescalers.service"
)

// unitDirs are where the package's unit file may lie.
var unitDirs = []string{"/usr/lib/systemd/system", "/lib/systemd/system", "/etc/systemd/system"}

// systemLayout decides, by what it finds, whether this command works on
// the system host (the package's unit: /run/hero_codescalers,
// /var/lib/hero_codescalers, the journal) or a user's own (~/hero/var, as
// the seed had it). It never assumes: a path given by flag, environment or
// config file decides by itself (the user layout with that path), and
// otherwise
//
//   - serve under systemd takes the RuntimeDirectory= and StateDirectory=
//     systemd made and exported ($RUNTIME_DIRECTORY, $STATE_DIRECTORY);
//   - any other command takes, in this order: the user layout when a host
//     of the caller's own answers on its socket; the system layout when
//     the system host answers on its; the user layout when the caller's
//     socket dir exists (its own host, stopped); the system layout when
//     the system host's socket or the package's unit is there; else the
//     user layout. A host that answers comes first, so a socket dir left
//     by an earlier run of one's own (root's `make run`, say) does not hide
//     the running system host.
//
// It fills f's RuntimeDir, StateDir and LayoutWhy.
func (rt *runCtx) systemLayout(f *api.PathFlags, serving bool) {
	getenv := rt.env.Getenv
	if f.SocketBase != "" || f.SockName != "" || getenv(api.EnvPathSocket) != "" || getenv(api.EnvSockName) != "" {
		f.LayoutWhy = "a socket dir was given (flag, environment or config file)"
		return
	}
	if serving {
		run, state := firstPath(getenv("RUNTIME_DIRECTORY")), firstPath(getenv("STATE_DIRECTORY"))
		if run != "" && state != "" {
			f.RuntimeDir, f.StateDir = run, state
			f.LayoutWhy = "systemd's RuntimeDirectory= and StateDirectory= ($RUNTIME_DIRECTORY, $STATE_DIRECTORY)"
			return
		}
		f.LayoutWhy = "not run by systemd with RuntimeDirectory= and StateDirectory="
		return
	}
	name := api.InstanceName(f.Instance)
	user, err := api.ResolvePaths(api.PathFlags{Instance: f.Instance}, getenv)
	userDir, userSock := "", ""
	if err == nil {
		userDir, userSock = rt.expand(user.SocketDir), rt.expand(user.RPCSocket)
	}
	run := filepath.Join(systemRunBase, name)
	sysSock := filepath.Join(run, "rpc.sock")
	system := func(why string) {
		f.RuntimeDir, f.StateDir, f.LayoutWhy = run, filepath.Join(systemStateBase, name), why
	}
	if userSock != "" && probeSocket(userSock) == socketLive {
		f.LayoutWhy = "your own host answers on " + userSock
		return
	}
	sys := probeSocket(sysSock)
	switch {
	case sys == socketLive:
		system("the system host answers on " + sysSock)
		return
	case userDir != "" && exists(userDir):
		f.LayoutWhy = "your own host's socket dir " + userDir + " exists"
		return
	}
	why := ""
	if sys == socketStale {
		why = "the system host's socket " + sysSock + " exists"
	} else if f.Instance == 0 {
		for _, d := range unitDirs {
			if exists(filepath.Join(d, unitName)) {
				why = "the package's unit " + filepath.Join(d, unitName) + " is installed"
				break
			}
		}
	}
	if why == "" {
		f.LayoutWhy = "no system host here (no " + sysSock + ", no " + unitName + ")"
		return
	}
	system(why)
}

// socketState is what probeSocket found at a host's socket path.
type socketState int

const (
	socketNone  socketState = iota // no socket there
	socketStale                    // a socket nobody listens on (its host stopped or died)
	socketLive                     // a host listens, or one this user may not reach
)

// probeSocket tries to connect to the unix socket at path. A refusal
// for want of permission counts as live: a host is there that this user
// may not use (the command then says who may).
func probeSocket(path string) socketState {
	if !isSocket(path) {
		return socketNone
	}
	c, err := net.DialTimeout("unix", path, 500*time.Millisecond)
	switch {
	case err == nil:
		c.Close()
		return socketLive
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return socketLive
	}
	return socketStale
}

// firstPath is the first of systemd's colon-separated directory list.
func firstPath(list string) string {
	for _, p := range filepath.SplitList(list) {
		if filepath.IsAbs(p) {
			return p
		}
	}
	return ""
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func isSocket(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

// refuseSystem stops start and stop from acting on the system host, which
// systemd runs: a root `start` would make root-owned files the unit's
// driver account could not open.
func refuseSystem(p api.Paths, verb string) error {
	if p.Layout != api.LayoutSystem {
		return nil
	}
	return failf("this is the system host (%s), which systemd runs: systemctl %s %s (or give --socket-dir for a host of your own)",
		p.LayoutWhy, verb, unitName)
}
