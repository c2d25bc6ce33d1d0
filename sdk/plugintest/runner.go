package plugintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
)

// captureRunner starts the plugin like go-plugin's own runner does, but
// tees its stdout: the first line (the handshake) passes to go-plugin, and
// every byte after it is recorded, so the kit can tell whether the plugin
// wrote to stdout after the handshake, and what.
type captureRunner struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr io.ReadCloser
	after  *lockedBuffer
	eof    chan struct{}
	// errTail keeps the start of the plugin's stderr, for Diagnose: a
	// plugin that fails before its handshake says why there.
	errTail lockedBuffer
}

var _ runner.Runner = (*captureRunner)(nil)

// teeReader copies what is read into a bounded buffer.
type teeReader struct {
	r   io.ReadCloser
	buf *lockedBuffer
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf.Write(p[:n])
	return n, err
}

func (t teeReader) Close() error { return t.r.Close() }

func newCaptureRunner(argv []string, dir string, spec *exec.Cmd, env []string, after *lockedBuffer) (*captureRunner, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(spec.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	r := &captureRunner{cmd: cmd, after: after, eof: make(chan struct{})}
	r.stderr = teeReader{errPipe, &r.errTail}
	r.stdout = &teeAfterFirstLine{r: out, after: after, eof: r.eof}
	return r, nil
}

func (r *captureRunner) Start(context.Context) error { return r.cmd.Start() }
func (r *captureRunner) Diagnose(context.Context) string {
	msg := "the plugin did not print a go-plugin handshake line first on stdout"
	r.errTail.mu.Lock()
	said := strings.Join(strings.Fields(strings.ToValidUTF8(r.errTail.buf.String(), "?")), " ")
	r.errTail.mu.Unlock()
	if said != "" {
		msg += "; its stderr: " + said
	}
	return msg
}
func (r *captureRunner) Stdout() io.ReadCloser      { return r.stdout }
func (r *captureRunner) Stderr() io.ReadCloser      { return r.stderr }
func (r *captureRunner) Name() string               { return r.cmd.Path }
func (r *captureRunner) Wait(context.Context) error { return r.cmd.Wait() }
func (r *captureRunner) ID() string {
	if r.cmd.Process == nil {
		return ""
	}
	return fmt.Sprint(r.cmd.Process.Pid)
}

func (r *captureRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *captureRunner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (r *captureRunner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }

// teeAfterFirstLine passes reads through and records what follows the first
// newline. eof is closed when the plugin's stdout is closed.
type teeAfterFirstLine struct {
	r       io.ReadCloser
	after   *lockedBuffer
	eof     chan struct{}
	pastNL  bool
	eofOnce sync.Once
}

func (t *teeAfterFirstLine) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	chunk := p[:n]
	if !t.pastNL {
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			t.pastNL = true
			chunk = chunk[i+1:]
		} else {
			chunk = nil
		}
	}
	if len(chunk) > 0 {
		t.after.Write(chunk)
	}
	if err != nil {
		t.eofOnce.Do(func() { close(t.eof) })
	}
	return n, err
}

func (t *teeAfterFirstLine) Close() error { return t.r.Close() }

// lockedBuffer is a bounded, goroutine-safe byte sink.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxCapture = 4096

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxCapture - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runnerFunc is the ClientConfig.RunnerFunc starting argv (the plugin, or
// the sandbox helper in front of it) with capture. The plugin runs in dir,
// so a relative path it wrongly accepts lands there, not in the caller's
// working directory.
func runnerFunc(argv []string, dir string, env []string, after *lockedBuffer, last **captureRunner) func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error) {
	return func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
		r, err := newCaptureRunner(argv, dir, spec, env, after)
		*last = r
		return r, err
	}
}
