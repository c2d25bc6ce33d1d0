package setup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// Finding is one line of `setup driver --check`: what was found, and when
// it is wrong, the command that fixes it.
type Finding struct {
	OK   bool
	What string
	Fix  string
}

func (f Finding) String() string {
	if f.OK {
		return "ok    " + f.What
	}
	return "FAIL  " + f.What + "\n      fix: " + f.Fix
}

// rerun is the fix for whatever setup driver makes.
const rerun = "hero_codescalers setup driver"

// Check reports, changing nothing, whether the machine is ready for an
// unprivileged host: the driver account exists; the sudoers drop-in
// exists, is root's and pins the digest of every plugin installed now;
// the policy exists, is root-owned and protected, and is valid; and the
// managed-groups record, if there is one yet, is protected. It prints one
// line per finding to opts.Out and returns the findings.
func Check(opts Options) []Finding {
	opts.fill()
	var out []Finding
	out = append(out, checkAccount(opts))
	out = append(out, checkSudoers(opts)...)
	pol, f := checkPolicy(opts)
	out = append(out, f)
	out = append(out, checkRecord(opts, pol))
	for _, f := range out {
		fmt.Fprintln(opts.Out, f)
	}
	return out
}

// Failed reports whether any finding is wrong.
func Failed(findings []Finding) bool { return FailedCount(findings) > 0 }

// FailedCount is how many findings are wrong.
func FailedCount(findings []Finding) int {
	n := 0
	for _, f := range findings {
		if !f.OK {
			n++
		}
	}
	return n
}

func checkAccount(opts Options) Finding {
	ok, err := accountExists(opts.Root, opts.User)
	switch {
	case err != nil:
		return Finding{What: fmt.Sprintf("cannot look up account %s: %v", opts.User, err), Fix: "run the check as root"}
	case !ok:
		return Finding{What: "account " + opts.User + " does not exist", Fix: rerun}
	}
	return Finding{OK: true, What: "account " + opts.User + " exists"}
}

// checkSudoers compares the drop-in with the one setup driver would write
// for the plugins installed now: a plugin upgraded since has another
// digest, and sudo refuses to start it.
func checkSudoers(opts Options) []Finding {
	path := filepath.Join(opts.Root, SudoersFile)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return []Finding{{What: path + " does not exist: the unprivileged host cannot start its plugins", Fix: rerun}}
	}
	if err != nil {
		return []Finding{{What: fmt.Sprintf("cannot stat %s: %v", path, err), Fix: "run the check as root"}}
	}
	if f := rootOwned(path, fi, "0440"); !f.OK {
		return []Finding{f}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		return []Finding{{What: fmt.Sprintf("cannot read %s: %v", path, err), Fix: "run the check as root"}}
	}
	quiet := opts
	quiet.Out = &strings.Builder{}
	rules, err := collectRules(quiet)
	if err != nil {
		return []Finding{{What: err.Error(), Fix: "move the plugin, then " + rerun}}
	}
	if len(rules) == 0 {
		return []Finding{{What: fmt.Sprintf("no plugins found in %s", strings.Join(opts.Dirs, ", ")), Fix: "install the plugins (make install), then " + rerun}}
	}
	var out []Finding
	for _, r := range rules {
		pin := fmt.Sprintf("%s ALL=(root) NOPASSWD: sha256:%s %s \"\"\n", opts.User, r.SHA256, r.Path)
		if !strings.Contains(string(have), pin) {
			out = append(out, Finding{What: fmt.Sprintf("%s does not pin %s at its current digest sha256:%s", path, r.Path, r.SHA256[:12]),
				Fix: rerun + " (then hero_codescalers plugin-approve " + strings.Join(r.Concerns, " ") + " if the host recorded the old one)"})
		}
	}
	if len(out) == 0 && string(have) != string(renderSudoers(opts.User, rules)) {
		out = append(out, Finding{What: path + " holds rules besides those of the plugins installed now", Fix: rerun})
	}
	if len(out) == 0 {
		out = append(out, Finding{OK: true, What: fmt.Sprintf("%s pins the %d plugins installed now", path, len(rules))})
	}
	return out
}

// checkPolicy loads the policy as a plugin would.
func checkPolicy(opts Options) (policy.Policy, Finding) {
	path := policyPath(opts)
	etc := filepath.Join(opts.Root, "etc")
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return policy.Defaults(etc), Finding{What: path + " does not exist: the plugins use their built-in defaults", Fix: rerun}
	}
	p, err := policy.LoadFile(path, etc)
	switch {
	case errors.Is(err, policy.ErrInsecure):
		return p, Finding{What: err.Error() + ": the plugins refuse to serve",
			Fix: fmt.Sprintf("chown root:root %s %s && chmod 0755 %s && chmod 0644 %s", filepath.Dir(path), path, filepath.Dir(path), path)}
	case err != nil:
		return p, Finding{What: err.Error() + ": the plugins refuse to serve", Fix: "edit " + path + ", or " + rerun + " --rewrite-policy"}
	}
	return p, Finding{OK: true, What: path + ": " + describePolicy(p)}
}

// checkRecord reads the managed-groups record as a plugin would.
func checkRecord(opts Options, p policy.Policy) Finding {
	etc := filepath.Join(opts.Root, "etc")
	path := filepath.Join(etc, policy.ManagedGroupsFile)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return Finding{OK: true, What: "no managed-groups record yet: the accounts plugins write " + path + " at the first group-create"}
	}
	m, err := policy.ReadMachine(p, etc)
	if err != nil {
		return Finding{What: err.Error() + ": the accounts plugins refuse every change",
			Fix: fmt.Sprintf("chown root:root %s && chmod 0644 %s", path, path)}
	}
	groups := m.ManagedGroups()
	list := "none"
	if len(groups) > 0 {
		list = strings.Join(groups, ", ")
	}
	return Finding{OK: true, What: fmt.Sprintf("%s: %d managed groups (%s)", path, len(groups), list)}
}

// rootOwned checks a file is root's (or, for a check run unprivileged in
// a test root, the caller's, as policy.Load accepts) and writable by
// nobody else.
func rootOwned(path string, fi fs.FileInfo, mode string) Finding {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.Mode().IsRegular() || !ok || (st.Uid != 0 && int(st.Uid) != os.Geteuid()) || fi.Mode().Perm()&0o022 != 0 {
		return Finding{What: fmt.Sprintf("%s is not a root-owned file writable by root alone (mode %#o)", path, fi.Mode().Perm()),
			Fix: fmt.Sprintf("chown root:root %s && chmod %s %s", path, mode, path)}
	}
	return Finding{OK: true}
}
