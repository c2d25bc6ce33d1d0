//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// acctMarker is the marker group of the accounts tests; not the product's
// "codescalers", so other tests in the sandbox cannot disturb it.
const acctMarker = "hcacctmark"

// acctFiles are the files an accounts change may touch and must restore.
var acctFiles = []string{"passwd", "shadow", "group", "gshadow"}

// acctSnapshot reads the account files.
func acctSnapshot(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range acctFiles {
		data, err := os.ReadFile(filepath.Join("/etc", n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = string(data)
	}
	return out
}

// acctSameFiles fails the test for each account file that differs from
// before, showing the lines that differ.
func acctSameFiles(t testing.TB, before map[string]string) {
	t.Helper()
	for n, now := range acctSnapshot(t) {
		if now == before[n] {
			continue
		}
		was, is := strings.Split(before[n], "\n"), strings.Split(now, "\n")
		var gone, added []string
		for _, l := range was {
			if !slices.Contains(is, l) {
				gone = append(gone, l)
			}
		}
		for _, l := range is {
			if !slices.Contains(was, l) {
				added = append(added, l)
			}
		}
		t.Errorf("/etc/%s is not back to its content: lost %q, gained %q", n, gone, added)
	}
}

// acctCheck runs pwck -r and grpck -r. The machine's own /etc need not be
// clean (Debian's system accounts have homes that do not exist, so pwck
// exits 2 for them before any test runs), so "clean" means: the same exit
// code and no complaint that the baseline did not have.
type acctCheck struct {
	lines map[string]map[string]bool
	codes map[string]int
}

func acctBaseline(t testing.TB) acctCheck {
	t.Helper()
	b := acctCheck{lines: map[string]map[string]bool{}, codes: map[string]int{}}
	for _, tool := range []string{"pwck", "grpck"} {
		b.lines[tool], b.codes[tool] = acctComplaints(t, tool)
	}
	return b
}

func (b acctCheck) clean(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"pwck", "grpck"} {
		now, code := acctComplaints(t, tool)
		if code != b.codes[tool] {
			t.Errorf("%s -r exits %d, %d before the test", tool, code, b.codes[tool])
		}
		for line := range now {
			if !b.lines[tool][line] {
				t.Errorf("%s -r (exit %d) complains: %s", tool, code, line)
			}
		}
	}
}

func acctComplaints(t testing.TB, tool string) (map[string]bool, int) {
	t.Helper()
	out, err := exec.Command(tool, "-r").CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s -r: %v", tool, err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" && !strings.HasSuffix(l, ": no changes") {
			lines[l] = true
		}
	}
	return lines, code
}

// acctShadowLine returns the user's /etc/shadow line.
func acctShadowLine(t testing.TB, name string) string {
	t.Helper()
	data, _ := os.ReadFile("/etc/shadow")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, name+":") {
			return l
		}
	}
	return ""
}

// acctOwner is the uid owning a stat result (0 when unknown).
func acctOwner(fi os.FileInfo) uint32 {
	if fi == nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return 0
}

// acctHighIDs moves UID_MIN..UID_MAX and GID_MIN..GID_MAX of the sandbox's
// login.defs to 52000..59999 for the test. The sandbox shares the machine's
// pid namespace, and userdel refuses to delete a user whose uid owns a
// process: with the stock range, a sandbox account can collide with a
// process of the machine (or of another test run) using uid 1001.
func acctHighIDs(t testing.TB) {
	t.Helper()
	const path = "/etc/login.defs"
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(orig), "\n"), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && slices.Contains([]string{"UID_MIN", "UID_MAX", "GID_MIN", "GID_MAX"}, f[0]) {
			continue
		}
		lines = append(lines, l)
	}
	lines = append(lines, "UID_MIN 52000", "UID_MAX 59999", "GID_MIN 52000", "GID_MAX 59999")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(path, orig, 0o644) })
}

// acctPolicy writes the sandbox's /etc/hero_codescalers/policy.toml for
// the accounts tests, before any plugin starts (a plugin reads it once, at
// start): marker group acctMarker, the ids acctHighIDs sets, homes beneath
// /home, and acctAllowed as a group the policy names. The policy and the
// managed-groups record are put back as they were afterwards.
func acctPolicy(t testing.TB) policy.Policy {
	t.Helper()
	p := policy.Defaults("/etc")
	p.MarkerGroup, p.Groups = acctMarker, []string{acctAllowed}
	p.UIDMin, p.UIDMax, p.GIDMin, p.GIDMax = 52000, 59999, 52000, 59999
	keepFile(t, policy.Path)
	keepFile(t, filepath.Join("/etc", policy.ManagedGroupsFile))
	if err := os.MkdirAll(filepath.Dir(policy.Path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policy.Path, p.Render(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Load(); err != nil {
		t.Fatalf("the test's policy does not load: %v", err)
	}
	return p
}

// acctAllowed is a group the accounts tests' policy lets a managed user
// join by name.
const acctAllowed = "hcacctok"

// keepFile restores path (or its absence) when the test ends: its bytes
// and its mode (a test may chmod it; WriteFile keeps an existing file's
// mode, so a world-writable policy would outlive the test and make every
// later plugin refuse to serve).
func keepFile(t testing.TB, path string) {
	t.Helper()
	old, err := os.ReadFile(path)
	missing := os.IsNotExist(err)
	if err != nil && !missing {
		t.Fatal(err)
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	t.Cleanup(func() {
		if missing {
			os.Remove(path)
			return
		}
		os.WriteFile(path, old, mode)
		os.Chmod(path, mode)
	})
}
