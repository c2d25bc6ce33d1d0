package setup

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk"
)

// sandbox is a root dir with an /etc/passwd and a plugin dir holding one
// stand-in plugin (discovery never runs it).
func sandbox(t *testing.T, users string) (root, plugin string) {
	t.Helper()
	root = t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/sudoers.d"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(users), 0o644)
	os.WriteFile(filepath.Join(root, "etc/sudoers"), []byte("@includedir /etc/sudoers.d\n"), 0o440)
	dir := filepath.Join(root, "usr/lib/hero_codescalers/plugins")
	os.MkdirAll(dir, 0o755)
	plugin = filepath.Join(dir, "shadow")
	os.WriteFile(plugin, []byte("#!/bin/false\n"), 0o755)
	m := sdk.Manifest{Schema: sdk.ManifestSchema, Name: "shadow", Version: "1.2.0",
		Concerns: []string{"accounts"}, APIVersions: []string{"identity.v1", "accounts.v1"}}
	data, _ := json.Marshal(m)
	os.WriteFile(sdk.ManifestPath(plugin), data, 0o644)
	return root, plugin
}

// runner records commands and runs visudo for real when it can (it checks
// the file's owner, so only as root).
type runner struct{ calls [][]string }

func (r *runner) run(name string, args ...string) ([]byte, error) {
	r.calls = append(r.calls, append([]string{name}, args...))
	if name == "visudo" && os.Geteuid() == 0 {
		if _, err := exec.LookPath("visudo"); err == nil {
			return exec.Command(name, args...).CombinedOutput()
		}
	}
	return nil, nil
}

func TestDriverWritesPinnedRules(t *testing.T) {
	root, plugin := sandbox(t, "root:x:0:0::/root:/bin/sh\ndriver:x:998:998::/var/lib/hero_codescalers:/usr/sbin/nologin\n")
	var out bytes.Buffer
	r := &runner{}
	opts := Options{Root: root, Dirs: []string{filepath.Dir(plugin)}, Out: &out, Run: r.run}
	rep, err := Driver(opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.AccountCreated || !rep.SudoersChanged || !slices.Equal(rep.Plugins, []string{plugin}) || len(rep.Warnings) != 0 {
		t.Fatalf("%+v\n%s", rep, out.String())
	}
	sum, _ := digest(plugin)
	data, err := os.ReadFile(rep.SudoersPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Defaults!" + plugin + ` !use_pty, !pam_session, !pam_setcred, env_keep += "PLUGIN_* HERO_CODESCALERS_PLUGIN HERO_CODESCALERS_PLUGIN_*"`,
		"driver ALL=(root) NOPASSWD: sha256:" + sum + " " + plugin + ` ""`,
		"# shadow 1.2.0 (accounts)",
	} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("sudoers lacks %q:\n%s", want, data)
		}
	}
	if fi, _ := os.Stat(rep.SudoersPath); fi.Mode().Perm() != 0o440 {
		t.Errorf("mode %v", fi.Mode())
	}
	if !slices.ContainsFunc(r.calls, func(c []string) bool { return c[0] == "visudo" && c[1] == "-c" }) {
		t.Errorf("not validated: %v", r.calls)
	}
	if !strings.Contains(out.String(), "account driver exists") || !strings.Contains(out.String(), "wrote "+rep.SudoersPath+": 1 plugin rule(s)") {
		t.Errorf("output:\n%s", out.String())
	}

	// Idempotent: nothing changes until the plugin does.
	out.Reset()
	if rep, err := Driver(opts); err != nil || rep.SudoersChanged {
		t.Fatalf("second run: %+v %v", rep, err)
	}
	os.WriteFile(plugin, []byte("#!/bin/false\n# upgraded\n"), 0o755)
	if rep, err := Driver(opts); err != nil || !rep.SudoersChanged {
		t.Fatalf("after upgrade: %+v %v", rep, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(root, "etc/sudoers.d/.*")); len(leftovers) != 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
}

func TestDriverCreatesAccount(t *testing.T) {
	root, plugin := sandbox(t, "root:x:0:0::/root:/bin/sh\n")
	r := &runner{}
	rep, err := Driver(Options{Root: root, Dirs: []string{filepath.Dir(plugin)}, Out: &bytes.Buffer{}, Run: r.run})
	if err != nil || !rep.AccountCreated {
		t.Fatalf("%+v %v", rep, err)
	}
	want := []string{"useradd", "--system", "--user-group", "--home-dir", DefaultHome, "--create-home",
		"--shell", "/bin/false", "--comment", "hero_codescalers host", "--root", root, "--", "driver"}
	if !slices.Equal(r.calls[0], want) {
		t.Errorf("useradd call\n got %q\nwant %q", r.calls[0], want)
	}
	if _, err := Driver(Options{Root: root, User: "-rf", Run: r.run, Out: &bytes.Buffer{}}); err == nil {
		t.Error("a bad account name must be refused")
	}
}

// --home places the account's home; a home useradd would misread is
// refused before anything runs or is written.
func TestDriverHome(t *testing.T) {
	root, plugin := sandbox(t, "root:x:0:0::/root:/bin/sh\n")
	r := &runner{}
	if _, err := Driver(Options{Root: root, Home: "/srv/hc-driver", Dirs: []string{filepath.Dir(plugin)}, Out: &bytes.Buffer{}, Run: r.run}); err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(r.calls[0], "--home-dir"); i < 0 || r.calls[0][i+1] != "/srv/hc-driver" {
		t.Errorf("useradd call %q", r.calls[0])
	}
	for _, bad := range []string{"var/lib/x", "/var/lib/../etc", "/var/lib/x/", "/a:b", "/a\nb"} {
		root, plugin := sandbox(t, "root:x:0:0::/root:/bin/sh\n")
		r := &runner{}
		_, err := Driver(Options{Root: root, Home: bad, Dirs: []string{filepath.Dir(plugin)}, Out: &bytes.Buffer{}, Run: r.run})
		if err == nil || !strings.Contains(err.Error(), "must be an absolute, clean path") || len(r.calls) != 0 {
			t.Errorf("home %q: err %v, calls %q", bad, err, r.calls)
		}
		if _, err := os.Stat(filepath.Join(root, SudoersFile)); err == nil {
			t.Errorf("home %q: sudoers written", bad)
		}
	}
}

// A file visudo rejects never replaces the one in place.
func TestDriverKeepsOldFileWhenVisudoRejects(t *testing.T) {
	root, plugin := sandbox(t, "driver:x:998:998::/x:/bin/false\n")
	path := filepath.Join(root, SudoersFile)
	os.WriteFile(path, []byte("# old\n"), 0o440)
	reject := func(name string, args ...string) ([]byte, error) {
		return []byte("syntax error"), errors.New("exit status 1")
	}
	_, err := Driver(Options{Root: root, Dirs: []string{filepath.Dir(plugin)}, Out: &bytes.Buffer{}, Run: reject})
	if err == nil || !strings.Contains(err.Error(), "visudo rejected") {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "# old\n" {
		t.Errorf("replaced: %q", data)
	}
}

func TestDriverRefusesUnsafePluginPath(t *testing.T) {
	root, plugin := sandbox(t, "driver:x:998:998::/x:/bin/false\n")
	odd := filepath.Join(filepath.Dir(plugin), "odd,name")
	os.Rename(plugin, odd)
	os.Rename(sdk.ManifestPath(plugin), sdk.ManifestPath(odd))
	r := &runner{}
	if _, err := Driver(Options{Root: root, Dirs: []string{filepath.Dir(plugin)}, Out: &bytes.Buffer{}, Run: r.run}); err == nil {
		t.Fatal("a path with a comma must not reach sudoers")
	}
}

func TestWarnings(t *testing.T) {
	root, _ := sandbox(t, "driver:x:998:998::/x:/bin/false\n")
	os.WriteFile(filepath.Join(root, "etc/sudoers"), []byte("root ALL=(ALL) ALL\n"), 0o440)
	r := &runner{}
	rep, err := Driver(Options{Root: root, Dirs: []string{filepath.Join(root, "nothing")}, Out: &bytes.Buffer{}, Run: r.run})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 2 || !strings.Contains(rep.Warnings[0], "no plugins found") || !strings.Contains(rep.Warnings[1], "includedir") {
		t.Errorf("%q", rep.Warnings)
	}
}

// TestDriverPinsEachLinkOfTheMultiCallBinary: the built-in plugins are hard
// links of one binary; each name gets its own rule at its own path (the
// digest is the same), and the binary's own name, no plugin, gets none.
func TestDriverPinsEachLinkOfTheMultiCallBinary(t *testing.T) {
	root, shadow := sandbox(t, "root:x:0:0::/root:/bin/sh\ndriver:x:998:998::/var/lib/hero_codescalers:/usr/sbin/nologin\n")
	dir := filepath.Dir(shadow)
	multi := filepath.Join(dir, "hero_codescalers_plugins")
	files := filepath.Join(dir, "files")
	if err := os.Rename(shadow, multi); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{shadow, files} {
		if err := os.Link(multi, link); err != nil {
			t.Fatal(err)
		}
	}
	m := sdk.Manifest{Schema: sdk.ManifestSchema, Name: "files", Version: "1.2.0",
		Concerns: []string{"accounts"}, APIVersions: []string{"identity.v1", "accounts.v1"}}
	data, _ := json.Marshal(m)
	os.WriteFile(sdk.ManifestPath(files), data, 0o644)
	var out bytes.Buffer
	rep, err := Driver(Options{Root: root, Dirs: []string{dir}, Out: &out, Run: (&runner{}).run})
	if err != nil {
		t.Fatal(err)
	}
	sudoers, _ := os.ReadFile(rep.SudoersPath)
	sum, _ := digest(multi)
	for _, p := range []string{files, shadow} {
		if want := "driver ALL=(root) NOPASSWD: sha256:" + sum + " " + p + ` ""` + "\n"; !strings.Contains(string(sudoers), want) {
			t.Errorf("sudoers lacks %q:\n%s", want, sudoers)
		}
	}
	if strings.Contains(string(sudoers), multi) {
		t.Errorf("a rule for the multi-call binary's own name:\n%s", sudoers)
	}
}
