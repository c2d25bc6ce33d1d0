package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// start runs the host in the background and returns once it answers.
//
// Races are settled by the pid-file lock that `serve` takes before it
// touches the socket or the data dir (see pidfile.go): the checks here are
// for a clear message in the common case, and when two starts race anyway,
// one child wins the lock and the other exits "already running", which its
// start reports. Start writes no pid file itself; the host owns it, so a
// host run in the foreground (`make run`) is seen by status and stop too.
func (rt *runCtx) start() error {
	if rt.g.Server != "" {
		return usageErrorf("--server names a socket to call; choose where the host listens with --instance, --socket-dir or --sock-name")
	}
	p, err := rt.paths()
	if err != nil {
		return err
	}
	if err := refuseSystem(p, "start"); err != nil {
		return err
	}
	if _, err := rt.limits(); err != nil {
		return err // a usage error here, not a child that fails to start
	}
	if err := rt.refuseRunning(p); err != nil {
		return err
	}
	ch, err := rt.spawn(p)
	if err != nil {
		return err
	}
	if err := rt.waitReady(p, ch); err != nil {
		return err
	}
	pid := ch.cmd.Process.Pid
	return rt.emit(map[string]any{"started": true, "pid": pid, "paths": p}, func(w io.Writer) {
		kv(w, "started "+api.InstanceName(p.Instance), "pid "+strconv.Itoa(pid))
		kv(w, "rpc", p.RPCSocket)
		kv(w, "data", p.DataDir)
		kv(w, "log", p.LogFile)
	})
}

// refuseRunning fails when a host already serves this instance, and
// removes a pid file left by one that died.
func (rt *runCtx) refuseRunning(p api.Paths) error {
	st, err := probePID(p.PIDFile)
	if err != nil {
		return failf("%v", err)
	}
	if st.live {
		return failf("already running, pid %d", st.pid)
	}
	if _, err := rt.probeHealth(p.RPCSocket); err == nil {
		return failf("already running: a host answers on %s (without a pid file in %s)", p.RPCSocket, filepath.Dir(p.PIDFile))
	}
	if st.exists {
		if pid, removed, _ := removeStale(p.PIDFile); removed {
			fmt.Fprintf(rt.env.Stderr, "removed stale pid file %s (pid %d is gone)\n", p.PIDFile, pid)
		}
	}
	return nil
}

// child is the host process start launched.
type child struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed when it exits
	err    error         // its exit status, once done
	logOff int64         // where its lines begin in the log
}

// spawn runs `hero_codescalers_server serve` (see hostBinary) in its own
// session (so the terminal's SIGINT and hangup do not reach it), working
// in "/", with stdout and stderr appended to the instance's log file.
func (rt *runCtx) spawn(p api.Paths) (*child, error) {
	bin, err := rt.hostBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p.LogFile), 0o755); err != nil {
		return nil, failf("log directory: %v", err)
	}
	log, err := os.OpenFile(p.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, failf("log file: %v", err)
	}
	defer log.Close() // the child holds its own descriptor
	off, _ := log.Seek(0, io.SeekEnd)
	fmt.Fprintf(log, "--- %s: hero_codescalers start, instance %d\n", time.Now().Format(time.RFC3339), p.Instance)
	cmd := exec.Command(bin, rt.serveArgs(p)...)
	if extra := rt.serveEnv(); len(extra) > 0 {
		cmd.Env = append(os.Environ(), extra...)
	}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, failf("start %s: %v", bin, err)
	}
	ch := &child{cmd: cmd, done: make(chan struct{}), logOff: off}
	go func() { ch.err = cmd.Wait(); close(ch.done) }()
	return ch, nil
}

// serveArgs are the child's arguments: every path already resolved, so the
// child lands on the same files even if the environment changes meanwhile.
// The secret stays in the environment, off the command line (which any
// user can read in /proc).
func (rt *runCtx) serveArgs(p api.Paths) []string {
	args := []string{"serve",
		"--instance", strconv.Itoa(p.Instance),
		"--socket-dir", filepath.Dir(p.SocketDir),
		"--sock-name", filepath.Base(p.SocketDir),
		"--data-dir", p.DataDir,
		"--port", strconv.Itoa(p.Port),
	}
	g := rt.g
	if g.Config != "" {
		args = append(args, "--config", rt.expand(g.Config))
	}
	// What the config file set is left to the child, which reads the
	// same file (and re-reads it on SIGHUP); only flags are passed on.
	add := func(flag, v string) {
		if v != "" && !rt.fileFlags[strings.TrimPrefix(flag, "--")] {
			args = append(args, flag, v)
		}
	}
	if !rt.fileFlags["address"] {
		add("--address", p.Address)
	}
	add("--admin-group", g.AdminGroup)
	add("--socket-group", g.SocketGroup)
	add("--tls-cert", rt.expand(g.TLSCert))
	add("--tls-key", rt.expand(g.TLSKey))
	add("--home-root", g.HomeRoot)
	add("--log-level", g.LogLevel)
	add("--log-format", g.LogFormat)
	add("--node-name", g.NodeName)
	// --nats-url goes by the environment (serveEnv): a URL may carry a
	// password.
	if !rt.fileFlags["plugin-dir"] {
		for _, d := range g.PluginDir {
			args = append(args, "--plugin-dir", d)
		}
	}
	for _, pin := range g.Plugin {
		if !slices.Contains(rt.filePins, pin) {
			args = append(args, "--plugin", pin)
		}
	}
	// The limits as given: the environment, which start checked, reaches
	// the child as it is.
	for _, f := range []struct {
		name string
		v    int
	}{{"--rpc-max-conns", g.RPCMaxConns}, {"--audit-max-records", g.AuditMaxRecords}} {
		if f.v != 0 {
			add(f.name, strconv.Itoa(f.v))
		}
	}
	add("--audit-max-age", g.AuditMaxAge)
	for _, f := range []struct {
		name string
		on   bool
	}{{"--no-plugins", g.NoPlugins}, {"--dashboard-open", g.DashboardOpen}, {"--adopt", g.Adopt}} {
		if f.on && !rt.fileFlags[strings.TrimPrefix(f.name, "--")] {
			args = append(args, f.name)
		}
	}
	return args
}

// serveEnv is what the child gets in its environment beside start's own:
// --nats-url, which may carry a password, so it stays off the command line
// (the environment of a process only its owner reads). The child's
// precedence is the same: a flag and the environment both beat the file.
func (rt *runCtx) serveEnv() []string {
	if rt.g.NATSURL != "" && !rt.fileFlags["nats-url"] {
		return []string{api.EnvNATSURL + "=" + rt.g.NATSURL}
	}
	return nil
}

// errExited says the child ended before it answered.
var errExited = errors.New("exited")

// waitReady waits until the child holds the pid file and answers /health.
// A child that exits first has its log tail shown; one that hangs past
// startTimeout is stopped, so no half-started host is left behind.
func (rt *runCtx) waitReady(p api.Paths, ch *child) error {
	cl := client.New(p.RPCSocket)
	defer cl.Close()
	pid := ch.cmd.Process.Pid
	err := waitFor(rt.ctx, startTimeout, func() (bool, error) {
		select {
		case <-ch.done:
			return false, errExited
		default:
		}
		if st, err := probePID(p.PIDFile); err != nil || !st.live || st.pid != pid {
			return false, nil
		}
		ctx, cancel := context.WithTimeout(rt.ctx, time.Second)
		defer cancel()
		_, err := cl.GetHealth(ctx)
		return err == nil, nil
	})
	switch {
	case errors.Is(err, errExited):
		if st, _ := probePID(p.PIDFile); st.live {
			return failf("already running, pid %d (a concurrent start won)", st.pid)
		}
		return failf("the host exited (%v) before answering; last lines of %s:\n%s", ch.err, p.LogFile, tail(p.LogFile, ch.logOff, 20))
	case errors.Is(err, errTimeout):
		stopChild(ch)
		return failf("the host did not answer on %s within %s; stopped it (pid %d); last lines of %s:\n%s",
			p.RPCSocket, startTimeout, pid, p.LogFile, tail(p.LogFile, ch.logOff, 20))
	}
	return err
}

// stopChild ends a child that never became ready: SIGTERM, then SIGKILL.
func stopChild(ch *child) {
	_ = ch.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-ch.done:
	case <-time.After(killTimeout):
		_ = ch.cmd.Process.Kill()
		<-ch.done
	}
}
