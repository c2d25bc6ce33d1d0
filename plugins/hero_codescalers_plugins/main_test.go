package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRefuseUnknownName(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := refuse("shadow2", nil, &out, &errOut); code != 2 || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
	if !strings.Contains(errOut.String(), "not a built-in plugin's name") || !strings.Contains(errOut.String(), "files") {
		t.Errorf("refusal does not say why: %s", errOut.String())
	}
	errOut.Reset()
	if code := refuse("shadow2", []string{"list"}, &out, &errOut); code != 2 || out.Len() != 0 {
		t.Errorf("an unknown name listed the plugins: exit %d, %q", code, out.String())
	}
}

func TestList(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := refuse(Self, []string{"list"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got := strings.Fields(out.String())
	if len(got) != len(builtin) || got[0] != "authorizedkeysd" {
		t.Errorf("list printed %q", got)
	}
	if code := refuse(Self, nil, &out, &errOut); code != 2 {
		t.Errorf("no arguments: exit %d, want the usage's 2", code)
	}
}

// TestDispatchByLinkName builds the binary and runs it by hard links: each
// name describes its own plugin; a link of another name refuses to run.
func TestDispatchByLinkName(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, Self)
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Skipf("go build: %v\n%s", err, out)
	}
	for _, name := range []string{"files", "procfs"} {
		link := filepath.Join(dir, name)
		if err := os.Link(bin, link); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(link, "describe").Output()
		if err != nil || !strings.Contains(string(out), `"name": "`+name+`"`) {
			t.Errorf("%s describe: %v\n%s", name, err, out)
		}
	}
	odd := filepath.Join(dir, "files.bak")
	if err := os.Link(bin, odd); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(odd, "describe").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "not a built-in plugin's name") {
		t.Errorf("files.bak describe: %v\n%s", err, out)
	}
}
