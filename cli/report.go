package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// report turns a command's error into the exit code (classify) and the
// words on stderr; under --json the error is also one JSON object on
// stdout (jsonError), so a script reading stdout always gets JSON.
func (rt *runCtx) report(err error) int {
	if err == nil {
		return ExitOK
	}
	code := classify(err)
	text := rt.describe(err, code)
	fmt.Fprint(rt.env.Stderr, text)
	if rt.g.JSON && !rt.emitted {
		if e, ok := asExit(err); !ok || e.err != nil {
			writeJSONError(rt.env.Stdout, code, err, text)
		}
	}
	return code
}

// describe is the human text of an error.
func (rt *runCtx) describe(err error, code int) string {
	if client.IsUnreachable(err) {
		sock, _ := rt.socket()
		return fmt.Sprintf("cannot reach hero_codescalers at %s: is it running? start it with: %s\n",
			sock, strings.Join(append(append([]string{rt.selfCommand()}, rt.instanceArgs()...), "--start"), " "))
	}
	if client.IsPermissionDenied(err) {
		sock, _ := rt.socket()
		return fmt.Sprintf("cannot reach hero_codescalers at %s: permission denied: %s\n", sock, whoMayConnect(sock))
	}
	var we *api.Error
	if errors.As(err, &we) {
		return describeWireError(we)
	}
	if e, ok := asExit(err); ok {
		switch {
		case e.err == nil:
			return ""
		case code == ExitUsage: // the same words as a kong parse error
			return usageText(e.err)
		}
	}
	return fmt.Sprintf("error: %v\n", err)
}

// usageText is how a usage error reads, from kong or from a command.
func usageText(err error) string {
	return fmt.Sprintf("hero_codescalers: error: %v\nRun 'hero_codescalers --help' for usage.\n", err)
}

// jsonError is an error as --json prints it on stdout: the exit code and
// its class, the message, and for a host's error its JSON-RPC code and
// data (field, step, OS command).
type jsonError struct {
	Error struct {
		ExitCode int            `json:"exit_code"`
		Class    string         `json:"class"`
		Message  string         `json:"message"`
		Code     int            `json:"code,omitempty"`
		Data     *api.ErrorData `json:"data,omitempty"`
	} `json:"error"`
}

// writeJSONError prints err as a jsonError; text is the human message,
// used where err has no better one (unreachable, permission denied).
func writeJSONError(w io.Writer, code int, err error, text string) {
	var je jsonError
	je.Error.ExitCode, je.Error.Class = code, exitKind(code)
	je.Error.Message = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(text, "hero_codescalers: error: "), "error: "))
	if i := strings.Index(je.Error.Message, "\n"); i >= 0 {
		je.Error.Message = je.Error.Message[:i]
	}
	var we *api.Error
	if errors.As(err, &we) {
		je.Error.Message, je.Error.Code, je.Error.Data = we.Message, we.Code, we.Data
	}
	_ = writeJSON(w, je)
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
