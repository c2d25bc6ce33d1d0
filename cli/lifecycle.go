package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// How long the lifecycle waits. Start covers opening Badger and starting
// plugins on a slow disk; stop covers Badger's flush on close.
var (
	startTimeout = 15 * time.Second
	stopTimeout  = 20 * time.Second
	killTimeout  = 5 * time.Second
)

// lifecycleCmd is the hidden default command: it runs when no command is
// named, and acts on --start, --stop or --status, the seed's spellings.
type lifecycleCmd struct{}

func (lifecycleCmd) Run(rt *runCtx) error {
	switch {
	case rt.g.Start:
		return rt.start()
	case rt.g.Stop:
		return rt.stop()
	case rt.g.Status:
		return rt.status()
	}
	// No command and no lifecycle flag: the top-level help, on stderr
	// because this is a usage error (exit 2). The context is cut back to
	// the application, or kong would describe the hidden default command.
	root := *rt.kctx
	root.Path = rt.kctx.Path[:1]
	root.Stdout = rt.env.Stderr
	_ = root.PrintUsage(false)
	return &exitError{code: ExitUsage}
}

// startCmd, stopCmd and statusCmd are the subcommand spellings.
type (
	startCmd  struct{}
	stopCmd   struct{}
	statusCmd struct{}
)

func (startCmd) Run(rt *runCtx) error  { return rt.start() }
func (stopCmd) Run(rt *runCtx) error   { return rt.stop() }
func (statusCmd) Run(rt *runCtx) error { return rt.status() }

// probeHealth asks GET /health with a short timeout: a host that does not
// answer within it is not one a command should wait on.
func (rt *runCtx) probeHealth(sock string) (api.HealthResult, error) {
	ctx, cancel := context.WithTimeout(rt.ctx, 2*time.Second)
	defer cancel()
	c := client.New(sock)
	defer c.Close()
	return c.GetHealth(ctx)
}

// stop ends the background host: SIGTERM, wait until its pid-file lock is
// released (the exact moment it has exited), SIGKILL after stopTimeout.
// Stopping a stopped host succeeds, so scripts can call it blindly.
func (rt *runCtx) stop() error {
	p, err := rt.paths()
	if err != nil {
		return err
	}
	if err := refuseSystem(p, "stop"); err != nil {
		return err
	}
	st, err := probePID(p.PIDFile)
	if err != nil {
		return failf("%v", err)
	}
	if !st.live {
		return rt.notRunning(p, st)
	}
	if st.pid == 0 || !isServe(st.pid) {
		return failf("%s names pid %d, which is not a hero_codescalers serve process; not signalling it", p.PIDFile, st.pid)
	}
	if err := rt.terminate(p, st.pid); err != nil {
		return err
	}
	removeStale(p.PIDFile) // a SIGKILLed host cannot remove its own
	return rt.emit(map[string]any{"stopped": true, "pid": st.pid, "instance": p.Instance}, func(w io.Writer) {
		fmt.Fprintf(w, "stopped %s (pid %d)\n", api.InstanceName(p.Instance), st.pid)
	})
}

// terminate signals pid and waits for the lock on the pid file to drop.
func (rt *runCtx) terminate(p api.Paths, pid int) error {
	gone := func() (bool, error) {
		s, err := probePID(p.PIDFile)
		return !s.live || s.pid != pid, err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return failf("signal pid %d: %v", pid, err)
	}
	err := waitFor(rt.ctx, stopTimeout, gone)
	if !errors.Is(err, errTimeout) {
		return err
	}
	fmt.Fprintf(rt.env.Stderr, "pid %d did not exit within %s of SIGTERM; sending SIGKILL\n", pid, stopTimeout)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if err := waitFor(rt.ctx, killTimeout, gone); err != nil {
		return failf("pid %d still holds %s after SIGKILL: %v", pid, p.PIDFile, err)
	}
	return nil
}

// notRunning answers stop on a stopped host, cleaning a stale pid file.
func (rt *runCtx) notRunning(p api.Paths, st pidState) error {
	msg := fmt.Sprintf("%s is not running", api.InstanceName(p.Instance))
	if st.exists {
		if pid, removed, err := removeStale(p.PIDFile); err != nil {
			return failf("%v", err)
		} else if removed {
			msg += fmt.Sprintf(" (removed stale pid file of pid %d)", pid)
		}
	}
	return rt.emit(map[string]any{"stopped": false, "instance": p.Instance}, func(w io.Writer) {
		fmt.Fprintln(w, msg)
	})
}

// statusReport is what status prints; under --json it is the whole answer.
type statusReport struct {
	Instance   int       `json:"instance"`
	Running    bool      `json:"running"`
	Answering  bool      `json:"answering"`
	PID        int       `json:"pid,omitempty"`
	Version    string    `json:"version,omitempty"`
	UptimeSecs float64   `json:"uptime_secs,omitempty"`
	Error      string    `json:"error,omitempty"`
	Paths      api.Paths `json:"paths"`
	// Dashboard is where the dashboard listens, as the host says.
	Dashboard *api.DashboardInfo `json:"dashboard,omitempty"`
	// noLog: the log file is not there (a host run in the foreground
	// logs to its terminal).
	noLog bool
}

// status says whether the host runs: exit 0 running, 3 stopped, 1 when a
// host holds the pid file but does not answer (hung, or still starting).
func (rt *runCtx) status() error {
	p, err := rt.paths()
	if err != nil {
		return err
	}
	sock, _ := rt.socket()
	p.RPCSocket = sock
	st, err := probePID(p.PIDFile)
	if err != nil {
		return failf("%v", err)
	}
	r := statusReport{Instance: p.Instance, Running: st.live, Paths: p}
	if p.LogFile != "" {
		_, err := os.Stat(p.LogFile)
		r.noLog = errors.Is(err, fs.ErrNotExist)
	}
	if st.live {
		r.PID = st.pid
	}
	h, herr := rt.probeHealth(sock)
	if herr == nil {
		r.Running, r.Answering, r.Version, r.UptimeSecs = true, true, h.Version, h.UptimeSecs
		r.Dashboard = h.Dashboard
	} else if r.Running {
		r.Error = herr.Error()
	}
	if err := rt.emit(r, func(w io.Writer) { writeStatus(w, r, st) }); err != nil {
		return err
	}
	switch {
	case !r.Running:
		return errSilent3
	case !r.Answering:
		return &exitError{code: ExitFailed}
	}
	return nil
}

// writeStatus is the human form of a status report.
func writeStatus(w io.Writer, r statusReport, st pidState) {
	state := "stopped"
	switch {
	case r.Answering:
		state = "running"
	case r.Running:
		state = "running but not answering: " + r.Error
	}
	kv(w, api.InstanceName(r.Instance), state)
	if r.PID != 0 {
		kv(w, "pid", fmt.Sprint(r.PID))
	}
	if r.Answering {
		kv(w, "version", r.Version)
		kv(w, "uptime", fmtUptime(r.UptimeSecs))
	}
	if !r.Running && st.exists {
		kv(w, "pid file", fmt.Sprintf("%s (stale, pid %d; start or stop removes it)", r.Paths.PIDFile, st.pid))
	}
	kv(w, "layout", r.Paths.Layout+": "+r.Paths.LayoutWhy)
	kv(w, "rpc", r.Paths.RPCSocket)
	kv(w, "data", r.Paths.DataDir)
	if r.Paths.LogFile == "" {
		kv(w, "log", "the journal: journalctl -u "+unitName)
	} else if r.noLog {
		kv(w, "log", r.Paths.LogFile+" (none yet: --start writes it; a host run in the foreground logs to its terminal)")
	} else {
		kv(w, "log", r.Paths.LogFile)
	}
	if r.Dashboard != nil {
		for _, line := range dashboardLines(*r.Dashboard) {
			kv(w, "dashboard", line)
		}
	}
}
