//go:build integration

package integration

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

func TestMain(m *testing.M) {
	if code, ok := fleetNSMain(); ok {
		os.Exit(code) // this process holds a fleet node's namespaces
	}
	code := sandbox.Main(m)
	removeBuilds()
	os.Exit(code)
}

// TestSandboxIsolation proves that a write to the sandbox's /etc never
// reaches the machine's: the sandbox's passwd gets a user the machine
// does not have.
func TestSandboxIsolation(t *testing.T) {
	sandbox.Require(t)
	out, err := exec.Command("useradd", "--no-create-home", "--", "hcsandboxprobe").CombinedOutput()
	if err != nil {
		t.Fatalf("useradd: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("userdel", "--", "hcsandboxprobe").Run() })
	machine, err := os.ReadFile(sandbox.MachineEtc + "/passwd")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(machine), "hcsandboxprobe:") {
		t.Fatal("the machine's /etc/passwd saw the sandbox user")
	}
	mine, _ := os.ReadFile("/etc/passwd")
	if !strings.Contains(string(mine), "hcsandboxprobe:") {
		t.Fatal("the sandbox's /etc/passwd lacks the user just created")
	}
}
