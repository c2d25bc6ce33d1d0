package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// safeDir is a temp dir whose chain is not group- or world-writable, as
// readProtected demands: t.TempDir lives under the sticky /tmp.
func safeDir(t *testing.T) string {
	t.Helper()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory for a protected temp dir")
	}
	dir, err := os.MkdirTemp(home, ".policytest-")
	if err != nil {
		t.Skip("cannot make a protected temp dir:", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm()&0o022 != 0 {
			t.Skipf("%s is group- or world-writable; cannot test the protected read here", d)
		}
	}
	return dir
}

func TestDefaultsFollowLoginDefs(t *testing.T) {
	etc := t.TempDir()
	writeFile(t, filepath.Join(etc, "login.defs"), "# c\nUID_MIN\t 2000\nUID_MAX 3000\nGID_MIN 2100\n", 0o644)
	p := Defaults(etc)
	if p.UIDMin != 2000 || p.UIDMax != 3000 || p.GIDMin != 2100 || p.GIDMax != 60000 {
		t.Fatalf("%+v", p)
	}
	if !reflect.DeepEqual(p.HomeRoots, []string{"/home"}) || p.MarkerGroup != "codescalers" || p.Driver != "driver" {
		t.Fatalf("%+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestMissingFileGivesDefaults(t *testing.T) {
	dir := t.TempDir()
	p, err := LoadFile(filepath.Join(dir, "nope.toml"), dir)
	if err != nil || p.Source != "built-in defaults" || p.UIDMin != 1000 {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestRenderRoundTrips(t *testing.T) {
	dir := safeDir(t)
	want := Defaults(dir)
	want.HomeRoots = []string{"/home", "/srv/homes"}
	want.Groups = []string{"devs"}
	want.Roots = map[string][]string{"authorizedkeysd": {"/etc/ssh/authorized_keys.d"}}
	path := filepath.Join(dir, "policy.toml")
	writeFile(t, path, string(want.Render()), 0o644)
	got, err := LoadFile(path, dir)
	if err != nil {
		t.Fatal(err)
	}
	want.Source = path
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if r := got.RootsFor("authorizedkeysd"); !reflect.DeepEqual(r, []string{"/home", "/srv/homes", "/etc/ssh/authorized_keys.d"}) {
		t.Fatalf("RootsFor: %v", r)
	}
}

func TestRefusesWhatOthersCouldWrite(t *testing.T) {
	dir := safeDir(t)
	path := filepath.Join(dir, "policy.toml")
	writeFile(t, path, "home_roots = [\"/home\"]\n", 0o666)
	if _, err := LoadFile(path, dir); !errors.Is(err, ErrInsecure) {
		t.Fatalf("world-writable file: %v", err)
	}
	os.Chmod(path, 0o644)
	link := filepath.Join(dir, "link.toml")
	os.Symlink(path, link)
	if _, err := LoadFile(link, dir); !errors.Is(err, ErrInsecure) {
		t.Fatalf("symlink: %v", err)
	}
	sub := filepath.Join(dir, "open")
	writeFile(t, filepath.Join(sub, "policy.toml"), "", 0o644)
	os.Chmod(sub, 0o777)
	if _, err := LoadFile(filepath.Join(sub, "policy.toml"), dir); !errors.Is(err, ErrInsecure) {
		t.Fatalf("world-writable dir: %v", err)
	}
}

func TestValidateRefusesWhatFencesNothing(t *testing.T) {
	for name, text := range map[string]string{
		"root":     `home_roots = ["/"]`,
		"relative": `home_roots = ["home"]`,
		"unclean":  `home_roots = ["/home/../etc"]`,
		"uid 0":    "uid_min = 0",
		"marker":   `marker_group = ""`,
		"extra":    "[roots]\nx = [\"/\"]",
		"syntax":   "home_roots = [",
	} {
		t.Run(name, func(t *testing.T) {
			dir := safeDir(t)
			path := filepath.Join(dir, "policy.toml")
			writeFile(t, path, text+"\n", 0o644)
			if _, err := LoadFile(path, dir); err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("want an error naming the file, got %v", err)
			}
		})
	}
}

func TestBeneath(t *testing.T) {
	roots := []string{"/home", "/srv/h"}
	for path, want := range map[string]bool{
		"/home": true, "/home/alice/.ssh": true, "/srv/h/x": true,
		"/homer": false, "/etc/passwd": false, "/home/../etc": false, "home/a": false, "/srv": false,
	} {
		if _, got := Beneath(roots, path); got != want {
			t.Errorf("Beneath(%q) = %v, want %v", path, got, want)
		}
	}
	p := Defaults(t.TempDir())
	if p.UIDAllowed(0) || !p.UIDAllowed(1000) || p.UIDAllowed(60001) || !p.GroupAllowedByName("codescalers") || p.GroupAllowedByName("docker") {
		t.Fatal("id and group checks")
	}
}
