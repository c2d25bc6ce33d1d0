//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// pyPolicyProbe runs in the Python plugin's own code (the built zipapp on
// the import path): for each etc dir, the policy the plugin reads from it
// and, for each name, what its guard says about signalling that user's
// processes. One interpreter for every case: each start costs most of a
// second on a loaded machine.
const pyPolicyProbe = `
import json, sys
zipapp, names, etcs = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
sys.path[:0] = [zipapp, zipapp + "/stubs"]
from pysessions import policy
from pysessions.errors import PluginError
results = []
for etc in etcs:
    g = policy.Guard(etc)
    out = {"err": str(g.err or "")}
    if g.err is None:
        p = g.policy
        out["policy"] = dict(home_roots=p.home_roots, marker_group=p.marker_group, uid_min=p.uid_min,
                             uid_max=p.uid_max, gid_min=p.gid_min, gid_max=p.gid_max, groups=p.groups, driver=p.driver)
        out["users"] = {}
        for n in names:
            try:
                g.uid(n)
                out["users"][n] = "ok"
            except PluginError as e:
                out["users"][n] = e.code
    results.append(out)
print(json.dumps(results))
`

type pyPolicyResult struct {
	Err    string            `json:"err"`
	Policy map[string]any    `json:"policy"`
	Users  map[string]string `json:"users"`
}

// TestPySessionsPolicyParity feeds the same policy files and account files
// to the Go sdk's sdk/policy and to the Python plugin's port of it: both
// refuse the same files (not root-protected, a symlink, bad types, a root
// of "/", a uid range with 0), read the same values from the rest (the
// login.defs defaults included), and admit the same users.
func TestPySessionsPolicyParity(t *testing.T) {
	sandbox.Require(t)
	zipapp := buildPySessions(t)
	// Beneath /etc (the sandbox's own copy): every directory above a
	// policy must be root's and not writable by others, which /tmp is not.
	top, err := os.MkdirTemp("/etc", "hc-pypolicy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	os.Chmod(top, 0o755)
	write := func(etc, name, data string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(etc, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	users := []string{"root", "alice", "bob", "carol", "dave", "eve", "fred", "ghost"}
	pol := filepath.Join("hero_codescalers", "policy.toml")
	cases := []struct {
		name, policy string
		mode         os.FileMode
		symlink      bool
	}{
		{name: "no file"},
		{name: "full", mode: 0o644, policy: `home_roots = ["/home", "/srv/homes"]
marker_group = "codescalers"
uid_min = 1400
uid_max = 1600
gid_min = 1400
gid_max = 1600
groups = ["docker"]
driver = "hcdriver"
[roots]
authorizedkeysd = ["/etc/ssh/authorized_keys.d"]
`},
		{name: "only the marker", mode: 0o644, policy: "marker_group = \"staff\"\nunknown_key = 3\n"},
		{name: "group-writable", mode: 0o664, policy: "marker_group = \"codescalers\"\n"},
		{name: "symlink", mode: 0o644, symlink: true, policy: "marker_group = \"codescalers\"\n"},
		{name: "root of /", mode: 0o644, policy: "home_roots = [\"/\"]\n"},
		{name: "unclean root", mode: 0o644, policy: "home_roots = [\"/home/\"]\n"},
		{name: "relative root", mode: 0o644, policy: "home_roots = [\"home\"]\n"},
		{name: "uid 0", mode: 0o644, policy: "uid_min = 0\n"},
		{name: "negative uid", mode: 0o644, policy: "uid_min = -1\n"},
		{name: "wrong type", mode: 0o644, policy: "home_roots = \"/home\"\n"},
		{name: "empty marker", mode: 0o644, policy: "marker_group = \"\"\n"},
		{name: "not toml", mode: 0o644, policy: "home_roots = [\n"},
	}
	etcs := make([]string, len(cases))
	for i, c := range cases {
		etc := filepath.Join(top, strconv.Itoa(i))
		etcs[i] = etc
		write(etc, "passwd", "root:x:0:0::/root:/bin/sh\n# comment\nalice:x:1500:1500::/h:/bin/sh\nbob:x:1501:900::/h:/bin/sh\n"+
			"carol:x:70000:70000::/h:/bin/sh\ndave:x:1503:1503::/h:/bin/sh\neve:x:1503:1503::/h:/bin/sh\n"+
			"fred:x:1504:1504::/h:/bin/sh\n+nis::::::\n", 0o644)
		write(etc, "group", "root:x:0:\ncodescalers:x:900:alice,carol,eve\nstaff:x:901:fred\n", 0o644)
		write(etc, "login.defs", "UID_MIN 1200\nUID_MAX\t\"65000\"\nGID_MIN x\n", 0o644)
		switch {
		case c.symlink:
			write(etc, "real-policy.toml", c.policy, c.mode)
			os.MkdirAll(filepath.Join(etc, "hero_codescalers"), 0o755)
			if err := os.Symlink(filepath.Join(etc, "real-policy.toml"), filepath.Join(etc, pol)); err != nil {
				t.Fatal(err)
			}
		case c.policy != "":
			write(etc, pol, c.policy, c.mode)
		}
	}
	args := append([]string{"-I", "-c", pyPolicyProbe, zipapp, strings.Join(users, ",")}, etcs...)
	out, err := exec.Command("/usr/bin/python3", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var pys []pyPolicyResult
	if err := json.Unmarshal(out, &pys); err != nil || len(pys) != len(cases) {
		t.Fatalf("python said %s: %v", out, err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			etc, py := etcs[i], pys[i]
			goP, goErr := policy.LoadFile(filepath.Join(etc, pol), etc)
			if (goErr != nil) != (py.Err != "") {
				t.Fatalf("Go: %v; Python: %q", goErr, py.Err)
			}
			if goErr != nil {
				t.Logf("both refuse it. Go: %v; Python: %s", goErr, py.Err)
				return
			}
			want := map[string]any{"home_roots": goP.HomeRoots, "marker_group": goP.MarkerGroup, "uid_min": goP.UIDMin,
				"uid_max": goP.UIDMax, "gid_min": goP.GIDMin, "gid_max": goP.GIDMax, "groups": goP.Groups, "driver": goP.Driver}
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(py.Policy)
			if strings.ReplaceAll(string(wj), "null", "[]") != string(gj) {
				t.Errorf("policy: Go %s, Python %s", wj, gj)
			}
			m, err := policy.ReadMachine(goP, etc)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range users {
				if got, want := py.Users[n], goGuard(m, n); got != want {
					t.Errorf("user %s: Python %s, Go %s", n, got, want)
				}
			}
			t.Logf("same policy and users: %s %v", gj, py.Users)
		})
	}
}

// goGuard is sdk/sessions/guard's UID verdict on name, as a code.
func goGuard(m *policy.Machine, name string) string {
	uid, ok := m.UserID(name)
	switch {
	case !ok:
		return "not_found"
	case !m.UserManaged(name), !m.UIDManaged(uid):
		return "permission_denied"
	}
	return "ok"
}
