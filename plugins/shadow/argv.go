package shadow

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// lockedPassword is the password field of every account the plugin makes:
// no password can match "*", yet unlike "!" it does not lock the account,
// so a stock sshd with UsePAM no still accepts key logins.
const lockedPassword = "*"

// exitCodes maps each tool's documented exit codes (shadow-utils 4.13) to
// the sdk's codes. An exit code not listed stays Internal.
var exitCodes = map[string]map[int]sdkerr.Code{
	"useradd":  {3: sdkerr.InvalidArgument, 4: sdkerr.AlreadyExists, 6: sdkerr.NotFound, 9: sdkerr.AlreadyExists},
	"usermod":  {3: sdkerr.InvalidArgument, 4: sdkerr.AlreadyExists, 6: sdkerr.NotFound, 8: sdkerr.FailedPrecondition},
	"userdel":  {6: sdkerr.NotFound, 8: sdkerr.FailedPrecondition},
	"groupadd": {3: sdkerr.InvalidArgument, 4: sdkerr.AlreadyExists, 9: sdkerr.AlreadyExists},
	"groupdel": {6: sdkerr.NotFound, 8: sdkerr.FailedPrecondition},
	"gpasswd":  {3: sdkerr.NotFound},
}

// mapExit gives a failed tool's error the code its exit code means.
func mapExit(tool string, err error) error {
	var e *sdkerr.Error
	if !errors.As(err, &e) || len(e.Command) == 0 {
		return err
	}
	if code, ok := exitCodes[tool][e.ExitCode]; ok {
		return e.WithCode(code)
	}
	return err
}

// lockBusy reports whether a tool failed because another process held the
// account files ("useradd: cannot lock /etc/passwd; try again later.").
func lockBusy(err error) bool {
	var e *sdkerr.Error
	if !errors.As(err, &e) || len(e.Command) == 0 {
		return false
	}
	return strings.Contains(e.Stderr, "cannot lock") || strings.Contains(e.Stderr, "try again later")
}

func withCode(err error, code sdkerr.Code) error {
	var e *sdkerr.Error
	if errors.As(err, &e) {
		return e.WithCode(code)
	}
	return sdkerr.Wrap(err, code, "%v", err)
}

// supplementary is spec's groups plus its marker group, without repeats.
func supplementary(groups []string, marker string) []string {
	out := slices.Clone(groups)
	if marker != "" {
		out = append(out, marker)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// useraddArgv creates spec's user with the password field "*", its own
// new group, the marker group among its supplementary groups, and home and
// shell spelled out so that a repeated create can compare them. No home is
// made unless asked. The policy's id ranges replace login.defs' (-K), so
// the uid useradd allocates, and its own group's gid, come from them.
func useraddArgv(spec accounts.UserSpec, d etcdb.Defs) []string {
	argv := []string{"useradd", "-p", lockedPassword}
	argv = append(argv, uidRange(d)...)
	argv = append(argv, gidRange(d)...)
	if spec.CreateHome {
		argv = append(argv, "-m")
	} else {
		argv = append(argv, "-M")
	}
	if spec.UID != 0 {
		argv = append(argv, "-u", strconv.FormatUint(uint64(spec.UID), 10))
	}
	argv = append(argv, "-U")
	if g := supplementary(spec.Groups, spec.MarkerGroup); len(g) > 0 {
		argv = append(argv, "-G", strings.Join(g, ","))
	}
	argv = append(argv, "-d", d.Home(spec), "-s", d.ShellOf(spec))
	if spec.GECOS != "" {
		argv = append(argv, "-c", spec.GECOS)
	}
	return append(argv, "--", spec.Name)
}

// uidRange and gidRange override login.defs' ranges for one tool run
// (useradd and groupadd take -K KEY=VALUE) with d's, the policy's.
func uidRange(d etcdb.Defs) []string {
	return []string{"-K", fmt.Sprintf("UID_MIN=%d", d.UIDMin), "-K", fmt.Sprintf("UID_MAX=%d", d.UIDMax)}
}

func gidRange(d etcdb.Defs) []string {
	return []string{"-K", fmt.Sprintf("GID_MIN=%d", d.GIDMin), "-K", fmt.Sprintf("GID_MAX=%d", d.GIDMax)}
}

// unlockArgv undoes LockUser on an account whose password field is pw and
// whose expiry field is expire; nil when there is nothing to undo.
// usermod -U drops one "!", but refuses (silently, exit 0) when nothing
// would remain, so a bare "!" becomes "*" instead.
func unlockArgv(name, pw, expire string) []string {
	argv := []string{"usermod"}
	if strings.HasPrefix(pw, "!") {
		if strings.TrimLeft(pw, "!") == "" {
			argv = append(argv, "-p", lockedPassword)
		} else {
			argv = append(argv, "-U")
		}
	}
	if expire != "" {
		argv = append(argv, "-e", "")
	}
	if len(argv) == 1 {
		return nil
	}
	return append(argv, "--", name)
}
