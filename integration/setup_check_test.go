//go:build integration

package integration

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/host/setup"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// TestSetupDriverCheck runs the real `setup driver` and `setup driver
// --check` in the sandbox: the check fails (exit 1, a fix per finding)
// before setup, passes after it, and fails again, naming the fix, once
// the policy is made world-writable; setup writes the policy from its
// flags and keeps an existing one.
func TestSetupDriverCheck(t *testing.T) {
	sandbox.Require(t)
	tree := buildTree(t, "")
	keepFile(t, policy.Path)
	keepFile(t, filepath.Join("/", setup.SudoersFile))
	os.Remove(policy.Path)
	os.Remove(filepath.Join("/", setup.SudoersFile))
	const user = "hcsetup"
	t.Cleanup(func() { exec.Command("userdel", "--", user).Run() })
	home := filepath.Join(t.TempDir(), "home")
	run := func(args ...string) (string, int) {
		cmd := exec.Command(filepath.Join(tree, "hero_codescalers"), append([]string{"setup", "driver", "--user", user, "--home", home}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}

	if out, code := run("--check"); code != 1 || !strings.Contains(out, "FAIL  account "+user+" does not exist") ||
		!strings.Contains(out, "policy.toml does not exist") || !strings.Contains(out, "fix: hero_codescalers setup driver") {
		t.Fatalf("check before setup: exit %d\n%s", code, out)
	}
	out, code := run("--allow-group", "hcsetupok", "--marker-group", "codescalers")
	if code != 0 || !strings.Contains(out, "wrote "+policy.Path+": home roots /home, marker group codescalers") ||
		!strings.Contains(out, "joinable groups hcsetupok, driver "+user) {
		t.Fatalf("setup: exit %d\n%s", code, out)
	}
	if u, err := osuser.Lookup(user); err != nil || u.HomeDir != home {
		t.Errorf("the account's home: %+v %v, want %s (--home)", u, err, home)
	}
	p, err := policy.Load()
	if err != nil || p.Driver != user || len(p.Groups) != 1 || p.Groups[0] != "hcsetupok" {
		t.Fatalf("the policy written: %+v %v", p, err)
	}
	if out, code := run("--check"); code != 0 || strings.Contains(out, "FAIL") || strings.Count(out, "ok    ") != 4 {
		t.Fatalf("check after setup: exit %d\n%s", code, out)
	}
	if out, code := run(); code != 0 || !strings.Contains(out, "kept "+policy.Path) {
		t.Fatalf("second setup: exit %d\n%s", code, out)
	}
	os.Chmod(policy.Path, 0o666)
	if out, code := run("--check"); code != 1 || !strings.Contains(out, "writable by group or others") ||
		!strings.Contains(out, "chmod 0644 "+policy.Path) {
		t.Fatalf("check of a world-writable policy: exit %d\n%s", code, out)
	}
}
