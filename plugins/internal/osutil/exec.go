package osutil

import (
	"bytes"
	"context"
	"errors"
	"os/exec"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Runner runs a command. Plugins hold one so unit tests can swap in a fake
// that records argv and answers with canned output.
type Runner interface {
	Run(ctx context.Context, argv []string, stdin []byte) (stdout []byte, err error)
}

// Exec is the real Runner: argv[0] is looked up on PATH and executed
// directly, never through a shell, with a minimal environment so locale and
// caller variables cannot change a tool's behaviour or output.
type Exec struct {
	// Env is the environment given to every command; nil means
	// PATH=/usr/sbin:/usr/bin:/sbin:/bin and LC_ALL=C.
	Env []string
	// RunToEnd lets a started command finish even when ctx ends (ctx
	// still keeps one from starting). An account tool killed mid-run
	// leaves what it was writing half done: newusers a home made but not
	// yet given to its user, or some account files replaced and not the
	// others. The host's death cancels every call of its plugins, so
	// without this a host crash would kill the tools too.
	RunToEnd bool
}

var _ Runner = Exec{}

// DefaultEnv is the environment commands run with.
var DefaultEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}

// Run executes argv. A non-zero exit becomes an sdkerr Internal error
// carrying the command, its exit code and its stderr; a missing tool is
// FailedPrecondition.
func (e Exec) Run(ctx context.Context, argv []string, stdin []byte) ([]byte, error) {
	if len(argv) == 0 {
		return nil, sdkerr.Errorf(sdkerr.Internal, "empty command")
	}
	var cmd *exec.Cmd
	if e.RunToEnd {
		if err := ctx.Err(); err != nil {
			return nil, sdkerr.Wrap(err, sdkerr.Unavailable, "%s not started: %v", argv[0], err)
		}
		cmd = exec.Command(argv[0], argv[1:]...)
	} else {
		cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	}
	cmd.Env = e.Env
	if cmd.Env == nil {
		cmd.Env = DefaultEnv
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return stdout.Bytes(), sdkerr.CommandError(argv, ee.ExitCode(), stderr.String())
	}
	if errors.Is(err, exec.ErrNotFound) {
		return nil, sdkerr.Wrap(err, sdkerr.FailedPrecondition, "%s is not installed", argv[0])
	}
	return nil, sdkerr.Wrap(err, sdkerr.Internal, "cannot run %s", argv[0])
}

// ExitCode returns the exit code carried by a command error, or -1.
func ExitCode(err error) int {
	var e *sdkerr.Error
	if errors.As(err, &e) && len(e.Command) > 0 {
		return e.ExitCode
	}
	return -1
}
