package cli

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const eaccesSockEnv = "HC_TEST_EACCES_SOCK"

// TestPermissionDeniedExitsThree: a host whose socket refuses the caller
// is unreachable for it, like no host at all: exit 3, with who may
// connect (the socket's owner and group) instead of a bare EACCES.
func TestPermissionDeniedExitsThree(t *testing.T) {
	dir := shortDir(t)
	os.Chmod(dir, 0o755)
	sock := filepath.Join(dir, "rpc.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if os.Geteuid() != 0 {
		os.Chmod(sock, 0) // not even its owner may connect
		checkDenied(t, runCLI(t, nil, "--server", sock, "health"), " and root may connect")
		return
	}
	// Root passes any mode: the CLI runs as nobody, from a copy of this
	// test binary nobody can execute.
	os.Chmod(sock, 0o660)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cli.test")
	copyFile(t, self, bin)
	cmd := exec.Command(bin, "-test.run=^TestPermissionDeniedHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), eaccesSockEnv+"="+sock, "HOME="+dir)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, _ := cmd.CombinedOutput()
	var code int
	var stderr string
	if i := strings.Index(string(out), "CODE="); i >= 0 {
		fmt.Sscanf(string(out[i:]), "CODE=%d", &code)
		stderr = string(out[i:])
	}
	checkDenied(t, result{stderr: stderr, code: code}, "only members of group root and root may connect")
}

func checkDenied(t *testing.T, r result, who string) {
	t.Helper()
	if r.code != ExitUnreachable || !strings.Contains(r.stderr, "cannot reach hero_codescalers at") ||
		!strings.Contains(r.stderr, "permission denied") || !strings.Contains(r.stderr, who) {
		t.Fatalf("exit %d, want 3 naming who may connect (%q):\n%s", r.code, who, r.stderr)
	}
}

// TestPermissionDeniedHelper is the CLI run as another user for the test
// above; alone it does nothing.
func TestPermissionDeniedHelper(t *testing.T) {
	sock := os.Getenv(eaccesSockEnv)
	if sock == "" {
		t.Skip("helper of TestPermissionDeniedExitsThree")
	}
	r := runCLI(t, map[string]string{"HOME": os.Getenv("HOME")}, "--server", sock, "health")
	fmt.Printf("CODE=%d\n%s", r.code, r.stderr)
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
