//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/setup"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

const privsepUser = "hcprivsep"

// TestPrivilegeSeparation proves the unprivileged path for real: setup
// creates a non-root account and writes the digest-pinned sudoers rules
// into the sandbox's /etc, the host runs as that account, and its plugins
// run as root, as its direct children, answer calls, and die with it.
func TestPrivilegeSeparation(t *testing.T) {
	sandbox.Require(t)
	dir, bins := privsepBinaries(t)
	keepFile(t, policy.Path) // setup writes one naming its driver; the next tests use the defaults
	var out bytes.Buffer
	rep, err := setup.Driver(setup.Options{User: privsepUser, Home: filepath.Join(dir, "home"),
		Dirs: []string{filepath.Join(dir, "plugins")}, Out: &out})
	t.Cleanup(func() { _ = exec.Command("userdel", "--", privsepUser).Run() })
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, out.String())
	}
	t.Cleanup(func() { os.Remove(rep.SudoersPath) })
	if !rep.AccountCreated || len(rep.Plugins) != len(sdk.Concerns) {
		t.Fatalf("setup: %+v\n%s", rep, out.String())
	}

	t.Run("plugins run as root and die with the host", func(t *testing.T) {
		host, report, _ := startHost(t, bins)
		uid := lookupUID(t)
		if report.UID != uid || !report.Ready {
			t.Fatalf("host report: %+v", report)
		}
		for _, p := range report.Plugins {
			if report.Calls[p.Concern] != "ok" {
				t.Errorf("%s call: %s", p.Concern, report.Calls[p.Concern])
			}
			if ids := procField(t, p.PID, "Uid:"); ids != "0 0 0 0" {
				t.Errorf("%s plugin pid %d runs as uid %q, want root", p.Concern, p.PID, ids)
			}
			if ppid := procField(t, p.PID, "PPid:"); ppid != strconv.Itoa(host.Process.Pid) {
				t.Errorf("%s plugin's parent is %s, want the host %d (sudo execs in place)", p.Concern, ppid, host.Process.Pid)
			}
		}
		_ = host.Process.Kill()
		_ = host.Wait()
		waitGone(t, report)
	})

	t.Run("an unprivileged host stops its root plugins", func(t *testing.T) {
		// It cannot signal them: go-plugin's shutdown over gRPC must do.
		host, report, stdin := startHost(t, bins)
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- host.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("host exit: %v", err)
			}
		case <-time.After(15 * time.Second):
			_ = host.Process.Kill()
			t.Fatal("the host did not stop")
		}
		waitGone(t, report)
	})

	t.Run("sudo refuses a binary its rule does not pin", func(t *testing.T) {
		f, err := os.OpenFile(filepath.Join(dir, "plugins", "tp-acl"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("tampered")
		f.Close()
		host, report, _ := startHost(t, bins)
		defer func() { _ = host.Process.Kill(); _ = host.Wait(); waitGone(t, report) }()
		for _, p := range report.Plugins {
			switch {
			case p.Concern == "acl" && (p.State == core.PluginReady || !strings.Contains(p.LastError, "sudo")):
				t.Errorf("acl: %+v", p)
			case p.Concern == "acl":
				t.Logf("acl: %s: %s", p.State, p.LastError)
			case p.Concern != "acl" && p.State != core.PluginReady:
				t.Errorf("%s: %+v", p.Concern, p)
			}
		}
	})
}

// privsepBinaries builds the test plugin (as five single-concern plugins)
// and the test host into a dir the unprivileged account can read.
func privsepBinaries(t *testing.T) (dir, testhost string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "hc-privsep-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	plugins := filepath.Join(dir, "plugins")
	for _, d := range []string{dir, plugins} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755)
	}
	for _, pkg := range []string{"fakeplugin", "testhost"} {
		if err := goBuild(filepath.Join(dir, pkg), "host/plugins/internal/"+pkg); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "fakeplugin"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sdk.Concerns {
		p := filepath.Join(plugins, "tp-"+c)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeManifest(p); err != nil {
			t.Fatal(err)
		}
	}
	return dir, filepath.Join(dir, "testhost")
}

type hostReport struct {
	Ready   bool              `json:"ready"`
	Error   string            `json:"error"`
	Calls   map[string]string `json:"calls"`
	UID     int               `json:"uid"`
	Plugins []core.PluginInfo `json:"plugins"`
}

// startHost runs the test host as the unprivileged account (so through
// sudo) and reads its report. The host runs until it is killed or stdin
// is closed.
func startHost(t *testing.T, testhost string) (*exec.Cmd, hostReport, *os.File) {
	t.Helper()
	u, err := user.Lookup(privsepUser)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd := exec.Command(testhost, "-dir", filepath.Join(filepath.Dir(testhost), "plugins"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + u.HomeDir}
	cmd.Dir = "/"
	stderr := &logBuffer{}
	cmd.Stderr = stderr
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = stdinR
	t.Cleanup(func() { stdinW.Close() })
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	var rep hostReport
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&rep); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("host report: %v\nhost log:\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("host log:\n%s", stderr.String())
		}
	})
	return cmd, rep, stdinW
}

func lookupUID(t *testing.T) int {
	u, err := user.Lookup(privsepUser)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid
}

// procField returns a /proc/PID/status field, its values joined by spaces.
func procField(t *testing.T, pid int, field string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			return strings.Join(strings.Fields(rest), " ")
		}
	}
	return ""
}

// waitGone waits until every plugin pid of the report has exited (a
// zombie counts as gone).
func waitGone(t *testing.T, rep hostReport) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range rep.Plugins {
		if p.PID == 0 {
			continue
		}
		gone := eventually(time.Until(deadline), func() bool {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
			s := string(data)
			i := strings.LastIndexByte(s, ')')
			return err != nil || i < 0 || i+2 >= len(s) || s[i+2] == 'Z'
		})
		if !gone {
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
			t.Fatalf("%s plugin pid %d outlived its host", p.Concern, p.PID)
		}
	}
}
