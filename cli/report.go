package cli

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"

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
	if client.IsPermissionDenied(err) {
		sock, _ := rt.socket()
		fmt.Fprintf(w, "cannot reach hero_codescalers at %s: permission denied: %s\n", sock, whoMayConnect(sock))
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

// whoMayConnect says, from the socket's owner, group and mode, who may
// connect to it, and what the caller can do about it.
func whoMayConnect(sock string) string {
	me := os.Geteuid()
	fi, err := os.Stat(sock)
	if err != nil {
		return fmt.Sprintf("a directory on the way to the socket is closed to you (uid %d)", me)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "the socket refused you"
	}
	var who []string
	if st.Uid != 0 {
		owner := strconv.FormatUint(uint64(st.Uid), 10)
		if u, err := user.LookupId(owner); err == nil {
			owner = u.Username + " (uid " + owner + ")"
		}
		who = append(who, owner)
	}
	if fi.Mode().Perm()&0o060 == 0o060 {
		group := strconv.FormatUint(uint64(st.Gid), 10)
		if g, err := user.LookupGroupId(group); err == nil {
			group = g.Name
		}
		who = append(who, "members of group "+group)
	}
	may := "only root may connect"
	if len(who) > 0 {
		may = "only " + strings.Join(who, ", ") + " and root may connect"
	}
	return fmt.Sprintf("the socket is mode %04o: %s; you are uid %d — run as one of them, or start the host with --socket-group naming a group you are in",
		fi.Mode().Perm(), may, me)
}
