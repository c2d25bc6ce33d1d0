package plugintest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk"
)

// cleanStdout stops the plugin the way the host does, waits for its stdout
// to close, and looks at everything it wrote there after the handshake
// line, and at what it sent as stdout over go-plugin's stdio stream.
func (k *kit) cleanStdout(ctx context.Context) error {
	k.client.Kill()
	if k.runner != nil {
		select {
		case <-k.runner.eof:
		case <-time.After(k.opts.Timeout):
			return errors.New("stdout still open after the plugin was stopped")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var problems []string
	if junk := k.after.String(); junk != "" {
		problems = append(problems, fmt.Sprintf("wrote %q to stdout after the handshake", abbrevN(junk, 200)))
	}
	if junk := k.stdio.String(); junk != "" {
		problems = append(problems, fmt.Sprintf("wrote %q to os.Stdout (go-plugin's stdio stream)", abbrevN(junk, 200)))
	}
	return conformance.Problems(problems)
}

func abbrevN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// started is a plugin started without go-plugin's client: for the checks
// that signal or orphan it.
type started struct {
	cmd       *exec.Cmd
	socketDir string
	stdout    io.ReadCloser
	exited    chan struct{}
}

// launchEnv is the environment the host gives a plugin.
func (k *kit) launchEnv(socketDir string) []string {
	env := append(os.Environ(), k.opts.Env...)
	return append(env,
		sdk.Handshake.MagicCookieKey+"="+sdk.Handshake.MagicCookieValue,
		fmt.Sprintf("PLUGIN_PROTOCOL_VERSIONS=%d", sdk.Handshake.ProtocolVersion),
		"PLUGIN_UNIX_SOCKET_DIR="+socketDir)
}

// socketDir is a fresh directory for a plugin's go-plugin socket: in the
// sandbox's socket directory, which the plugin sees, when there is one.
func (k *kit) socketDir() (string, error) {
	if k.sandbox != nil {
		return os.MkdirTemp(k.sandbox.sockDir, "s-")
	}
	return os.MkdirTemp("", "ptest-sock-")
}

// command is how to run the plugin binary with args: inside the sandbox
// when there is one, with the environment that says how.
func (k *kit) command(args ...string) (argv, env []string, err error) {
	if k.sandbox == nil {
		return args, nil, nil
	}
	return k.sandbox.wrap(args)
}

// launch starts argv (the plugin, or the intermediate helper around it,
// as command gives it) with env added, and waits, with the kit's
// timeout, for the handshake line.
func (k *kit) launch(argv, env []string, extra *os.File) (*started, error) {
	socketDir, err := k.socketDir()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = k.opts.ScratchDir
	cmd.Env = append(k.launchEnv(socketDir), env...)
	if extra != nil {
		cmd.ExtraFiles = []*os.File{extra}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(socketDir)
		return nil, err
	}
	s := &started{cmd: cmd, socketDir: socketDir, stdout: stdout, exited: make(chan struct{})}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		// Wait does not wait for the reader above: the pipe may stay open
		// in a grandchild (the plugin under the intermediate).
		_ = cmd.Wait()
		close(s.exited)
	}()
	select {
	case l := <-line:
		if strings.Count(l, "|") < 3 {
			s.kill()
			return nil, fmt.Errorf("no handshake line, got %q", abbrevN(l, 100))
		}
		return s, nil
	case <-time.After(k.opts.Timeout):
		s.kill()
		return nil, fmt.Errorf("no handshake within %s", k.opts.Timeout)
	}
}

func (s *started) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
	os.RemoveAll(s.socketDir)
}

// sigterm checks the plugin exits promptly on SIGTERM, as the host and
// systemd stop it.
func (k *kit) sigterm(context.Context) error {
	argv, env, err := k.command(k.binary)
	if err != nil {
		return err
	}
	s, err := k.launch(argv, env, nil)
	if err != nil {
		return err
	}
	defer os.RemoveAll(s.socketDir)
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.kill()
		return err
	}
	select {
	case <-s.exited:
		return conformance.Note(fmt.Sprintf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond)))
	case <-time.After(k.opts.Timeout):
		s.kill()
		return fmt.Errorf("still running %s after SIGTERM", k.opts.Timeout)
	}
}
