package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// report turns a command's error into the exit code and the words on
// stderr. It is the one place that decides 1 vs 2 vs 3, so every command
// answers the same way.
func (rt *runCtx) report(err error) int {
	if err == nil {
		return ExitOK
	}
	w := rt.env.Stderr
	if client.IsUnreachable(err) {
		sock, _ := rt.socket()
		fmt.Fprintf(w, "cannot reach hero_codescalers at %s: is it running? start it with: %s\n",
			sock, strings.Join(append(append([]string{"hero_codescalers"}, rt.instanceArgs()...), "--start"), " "))
		return ExitUnreachable
	}
	var we *api.Error
	if errors.As(err, &we) {
		fmt.Fprint(w, describeWireError(we))
		return ExitFailed
	}
	if e, ok := asExit(err); ok {
		switch {
		case e.err == nil:
		case e.code == ExitUsage: // the same words as a kong parse error
			fmt.Fprintf(w, "hero_codescalers: error: %v\nRun 'hero_codescalers --help' for usage.\n", e.err)
		default:
			fmt.Fprintf(w, "error: %v\n", e.err)
		}
		return e.code
	}
	fmt.Fprintf(w, "error: %v\n", err)
	return ExitFailed
}

// describeWireError renders a host error: the message, the field it names
// (always, so scripts can grep for it), then what the data adds that the
// message does not already say (the step, the OS command with its exit code
// and stderr).
func describeWireError(we *api.Error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "error: %s\n", we.Message)
	d := we.Data
	if d == nil {
		return b.String()
	}
	if d.Field != "" {
		fmt.Fprintf(&b, "  field: %s\n", d.Field)
	}
	if d.Step != "" && !strings.Contains(we.Message, "step "+d.Step) {
		fmt.Fprintf(&b, "  step: %s\n", d.Step)
	}
	if len(d.Command) > 0 && !strings.Contains(we.Message, strings.Join(d.Command, " ")) {
		fmt.Fprintf(&b, "  command: %s (exit %d)\n", strings.Join(d.Command, " "), d.ExitCode)
		if s := strings.TrimSpace(d.Stderr); s != "" {
			fmt.Fprintf(&b, "  stderr: %s\n", s)
		}
	}
	return b.String()
}
