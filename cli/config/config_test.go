package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var known = []string{"home_root", "port", "plugin_dirs", "plugins.*"}

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadLinesAndValues(t *testing.T) {
	p := write(t, "# a comment\nhome_root = \"/srv/home\"\nplugin_dirs = [\n  \"/a\",\n  \"/b\",\n]\nport = 5100\n\n[plugins]\nsessions = \"procfs\"\n")
	f, err := Load(p, false, known)
	if err != nil {
		t.Fatal(err)
	}
	for key, line := range map[string]int{"home_root": 2, "plugin_dirs": 3, "port": 7, "plugins.sessions": 10} {
		if f.Line(key) != line {
			t.Errorf("%s: line %d, want %d", key, f.Line(key), line)
		}
	}
	if v, _ := f.Get("port"); v != int64(5100) {
		t.Errorf("port = %#v", v)
	}
	if v, _ := f.Get("plugins.sessions"); v != "procfs" {
		t.Errorf("plugins.sessions = %#v", v)
	}
	if got := strings.Join(f.Keys(), ","); got != "home_root,plugin_dirs,plugins.sessions,port" {
		t.Errorf("keys %s", got)
	}
}

func TestLoadErrorsNameTheLine(t *testing.T) {
	for text, want := range map[string]string{
		"home_root = \"/h\"\nhome_rot = \"/x\"\n": ":2: home_rot: unknown setting",
		"port = 5000\nport = \n":                  ":2:",
		"port = 5000\n\nhome_root = [1, \"a\"\n":  ":3:",
	} {
		_, err := Load(write(t, text), false, known)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
}

func TestMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "none.toml")
	if f, err := Load(p, true, known); f != nil || err != nil {
		t.Fatalf("optional: %v %v", f, err)
	}
	if _, err := Load(p, false, known); err == nil {
		t.Fatal("a missing --config file must be an error")
	}
}
